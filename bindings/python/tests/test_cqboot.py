"""Tests of the cqboot Python package: every function against the CLI program
built from the same sources (identical numbers, bit for bit), pandas inputs,
bad inputs, Ctrl-C, progress, and the sys.risk oracles of R quantilogram
3.1.1 (../shared/spec/cross-quantilogram.md §6; the data file is in
tests/data/) at 1e-12."""
import io
import json
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest

import cqboot

ROOT = cqboot._source_root()
US_CHINA = cqboot.data_path("us_china_monthly.csv")
SYS_RISK = os.path.join(ROOT, "tests", "data", "quantilogram_sys_risk.csv")
LOGD = {"GPRC_CHN": "logdiff", "IPB52300S": "logdiff", "GPR": "logdiff"}


@pytest.fixture(scope="module")
def monthly():
    """The bundled data set with a monthly PeriodIndex (as an economist loads it)."""
    df = pd.read_csv(US_CHINA, index_col=0)
    df.index = pd.PeriodIndex(df.index, freq="M")
    return df


def cli(cmd, args, tmp_path, data=US_CHINA, csv=True):
    """Runs the CLI program; returns (json dict, csv text or None)."""
    j = tmp_path / "cli.json"
    c = tmp_path / "cli.csv"
    argv = [cqboot.cli_path(), cmd] + (["--data", data] if data else []) + args + ["--json", str(j)]
    if csv:
        argv += ["--csv", str(c)]
    r = subprocess.run(argv, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(j.read_text()), (c.read_text() if csv else None)


def core(j):
    """The JSON without what names the input or times the run (and the
    OpenMP wait policy, which the CLI sets by re-executing itself)."""
    j = dict(j)
    j.pop("input", None)
    j.pop("timing", None)
    j["options"] = {k: v for k, v in j.get("options", {}).items() if k != "wait_policy"}
    return j


def same(df, cli_json, cli_csv):
    """The binding's DataFrame and JSON equal the CLI's, bit for bit."""
    assert core(df.attrs["json"]) == core(cli_json)
    if cli_csv is not None:
        want = cqboot._read_csv(cli_csv)
        pd.testing.assert_frame_equal(df, want, check_exact=True)
        # and the floats are the same doubles (assert_frame_equal treats NaN == NaN)
        for c in want.columns:
            if want[c].dtype == np.float64:
                a, b = df[c].to_numpy(), want[c].to_numpy()
                assert np.array_equal(a.view(np.int64)[~np.isnan(a)], b.view(np.int64)[~np.isnan(b)]), c


# --------------------------------------------------------------------------
# Every function against the CLI
# --------------------------------------------------------------------------
def test_cq_partial_gridwide_matches_cli(monthly, tmp_path):
    opts = dict(alpha=[0.05, 0.5, 0.95], lags="1-3", boot=199, seed=2025, gridwide=True,
                control={"WGI_CHN_GE": 0.5, "GPR": 0.5}, transform=LOGD)
    r = cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", **opts)
    j, c = cli("cq", ["--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.05,0.5,0.95", "--lags", "1-3",
                      "--boot", "199", "--seed", "2025", "--gridwide", "--control", "WGI_CHN_GE:0.5",
                      "--control", "GPR:0.5", "--transform", "GPRC_CHN=logdiff", "--transform",
                      "IPB52300S=logdiff", "--transform", "GPR=logdiff"], tmp_path)
    same(r, j, c)
    assert len(r) == 27 and "rho_partial" in r.columns
    assert r.attrs["seed"] == 2025 and r.attrs["backend"] in ("cpu", "auto", "cuda")
    assert r.attrs["versions"]["cqboot"] == cqboot.__version__
    assert isinstance(r.attrs["qtests"], pd.DataFrame) and len(r.attrs["qtests"]) > 0
    assert "supq" in r.attrs["json"]  # the grid-wide tests


def test_cq_windows_and_calibrated_test_match_cli(monthly, tmp_path):
    r = cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", alpha=[0.1, 0.5], lags=1, boot=99, seed=5,
                  window_years=10, step=5, mark="null", transform=LOGD)
    j, c = cli("cq", ["--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.1,0.5", "--lags", "1", "--boot", "99",
                      "--seed", "5", "--window-years", "10", "--step", "5", "--mark", "null",
                      "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff"], tmp_path)
    same(r, j, c)
    assert "p_null" in r.columns and r["window_first"].nunique() > 1


def test_cq_conditional_quantiles_match_cli(monthly, tmp_path):
    r = cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", alpha=[0.1, 0.5], lags="1-2", boot=49, seed=9,
                  y_regressors="GPR:1", x_regressors="GPR:1", transform=LOGD)
    j, c = cli("cq", ["--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.1,0.5", "--lags", "1-2", "--boot", "49",
                      "--seed", "9", "--y-regressors", "GPR:1", "--x-regressors", "GPR:1",
                      "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff",
                      "--transform", "GPR=logdiff"], tmp_path)
    same(r, j, c)


def test_blocklen_matches_cli(monthly, tmp_path):
    b = cqboot.blocklen(monthly, ["GPRC_CHN", "IPB52300S"], transform=LOGD)
    j, _ = cli("blocklen", ["--cols", "GPRC_CHN,IPB52300S", "--transform", "GPRC_CHN=logdiff",
                            "--transform", "IPB52300S=logdiff"], tmp_path, csv=False)
    assert core(b.attrs["json"]) == core(j)
    assert list(b["b_sb"]) == [r["b_sb"] for r in j["results"]]
    assert b.attrs["gamma"] == j["gamma"]


@pytest.mark.parametrize("cmd,kw,args", [
    ("modwt", dict(cols="GPR", wavelet="la8", levels=4), ["--cols", "GPR", "--wavelet", "la8", "--levels", "4"]),
    ("wmc", dict(cols=["IPB52300S", "GPRC_CHN", "GPR"], levels=3, boot=99, seed=3),
     ["--cols", "IPB52300S,GPRC_CHN,GPR", "--levels", "3", "--boot", "99", "--seed", "3"]),
    ("wmcc", dict(cols=["IPB52300S", "GPRC_CHN", "GPR"], levels=3, lag_max=3),
     ["--cols", "IPB52300S,GPRC_CHN,GPR", "--levels", "3", "--lag-max", "3"]),
    ("wlmc", dict(cols=["IPB52300S", "GPRC_CHN", "GPR"], M=24, levels=3),
     ["--cols", "IPB52300S,GPRC_CHN,GPR", "--M", "24", "--levels", "3"]),
    ("wlmcc", dict(cols=["IPB52300S", "GPRC_CHN", "GPR"], M=24, levels=2, lag_max=2),
     ["--cols", "IPB52300S,GPRC_CHN,GPR", "--M", "24", "--levels", "2", "--lag-max", "2"]),
])
def test_wavelets_match_cli(monthly, tmp_path, cmd, kw, args):
    r = getattr(cqboot, cmd)(monthly, transform=LOGD, **kw)
    tr = ["--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff", "--transform", "GPR=logdiff"]
    j, c = cli(cmd, args + tr, tmp_path)
    same(r, j, c)
    assert len(r) > 0


def test_simulate_matches_cli(tmp_path):
    s = cqboot.simulate(reps=16, boot=49, T=120, alpha=[0.1, 0.5], lags=2, seed=11)
    j, c = cli("simulate", ["--reps", "16", "--boot", "49", "--T", "120", "--alpha", "0.1,0.5", "--lags", "2",
                            "--seed", "11"], tmp_path, data=None)
    same(s, j, c)


def test_run_study_matches_cli(tmp_path):
    study = {"name": "t", "datasets": {"m": {"file": US_CHINA, "transforms": LOGD}},
             "defaults": {"seed": 5, "boot": 49},
             "analyses": [{"name": "b", "kind": "blocklen", "dataset": "m", "cols": ["GPRC_CHN", "IPB52300S"]},
                          {"name": "c", "kind": "cq", "dataset": "m", "y": "GPRC_CHN", "x": "IPB52300S",
                           "alpha": [0.1, 0.5], "lags": "1-2"}]}
    p = tmp_path / "study.json"
    p.write_text(json.dumps(study))
    r = cqboot.run_study(str(p), str(tmp_path / "py"))
    subprocess.run([cqboot.cli_path(), "run", str(p), "--out", str(tmp_path / "cli"), "--quiet"], check=True)
    for name in ("b", "c"):
        want = cqboot._read_csv((tmp_path / "cli" / (name + ".csv")).read_text())
        pd.testing.assert_frame_equal(r[name], want, check_exact=True)
    assert [a["name"] for a in r["results"]["analyses"]] == ["b", "c"]
    assert (tmp_path / "py" / "report.md").exists()


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------
def test_inputs_datetimeindex_numpy_and_dict_agree():
    raw = pd.read_csv(SYS_RISK)
    d = raw.set_index(pd.DatetimeIndex(raw["date"])).drop(columns="date")
    a = cqboot.cq(d, "JPM", "Market", alpha=0.1, lags=2, boot=0, transform={"JPM": "logdiff"})
    assert a.attrs["input"]["first"] == "1993-02-24"
    b = cqboot.cq(d[["JPM", "Market"]].to_numpy(), "x1", "x2", alpha=0.1, lags=2, boot=0,
                  transform={"x1": "logdiff"})
    c = cqboot.cq({"JPM": d["JPM"].to_numpy(), "Market": d["Market"].to_numpy()}, "JPM", "Market",
                  alpha=0.1, lags=2, boot=0, transform={"JPM": "logdiff"})
    assert list(a["rho"]) == list(b["rho"]) == list(c["rho"])
    # a CSV path: read by the CLI's reader
    e = cqboot.cq(SYS_RISK, "JPM", "Market", alpha=0.1, lags=2, boot=0, transform={"JPM": "logdiff"})
    assert list(e["rho"]) == list(a["rho"]) and e.attrs["input"]["file"] == SYS_RISK
    # a Series with a DatetimeIndex: --from/--to work on its dates
    s = cqboot.modwt(d["Market"], "Market", levels=2, **{"from": "2000-01-01", "to": "2000-12-31"})
    assert s["date"].min() >= "2000-01-01" and s["date"].max() <= "2000-12-31"


# --------------------------------------------------------------------------
# Oracles: R quantilogram 3.1.1 on sys.risk (JPM log return on Market, dVIX control)
# --------------------------------------------------------------------------
def test_sysrisk_oracles_1e12():
    d = pd.read_csv(SYS_RISK, index_col=0)
    r = cqboot.cq(d, "JPM", "Market", alpha=0.05, lags=5, boot=0, transform={"JPM": "logdiff", "VIX": "diff"},
                  control={"VIX": 0.95})
    crq = [0.061641745498933, 0.134108312750922, 0.118841906505701, 0.115018929821394, 0.088308220484466]
    par = [0.047967680223574, 0.099363251266527, 0.069995766325052, 0.083948892917023, 0.053900233483504]
    assert list(r["lag"]) == [1, 2, 3, 4, 5]
    assert list(r["n"]) == [5505 - k for k in range(1, 6)]
    assert np.max(np.abs(r["rho"].to_numpy() - crq)) <= 1e-12
    assert np.max(np.abs(r["rho_partial"].to_numpy() - par)) <= 1e-12
    # the plain CQ's portmanteau statistics (the oracle has 10 decimals)
    q = cqboot.cq(d, "JPM", "Market", alpha=0.05, lags=5, boot=0, transform={"JPM": "logdiff"}).attrs["qtests"]
    qbp = [20.9173748588, 119.9250175755, 197.6743276497, 270.5019226157, 313.4317942530]
    qlb = [20.9287760442, 120.0083850649, 197.8283506372, 270.7353794461, 313.7198891018]
    assert np.max(np.abs(q["q_bp"].to_numpy() - qbp)) <= 1e-9
    assert np.max(np.abs(q["q_lb"].to_numpy() - qlb)) <= 1e-9


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------
def test_bad_inputs_raise_with_the_cli_message(monthly):
    with pytest.raises(cqboot.UsageError, match=r"unknown column 'NOPE'"):
        cqboot.cq(monthly, "GPRC_CHN", "NOPE", boot=0)
    with pytest.raises(ValueError, match=r"--boot"):
        cqboot.cq(monthly, "GPRC_CHN", "GPR", boot="many")
    with pytest.raises(cqboot.UsageError, match=r"unknown option '--nonsense'"):
        cqboot.cq(monthly, "GPRC_CHN", "GPR", boot=0, nonsense=1)
    bad = monthly.copy()
    bad.iloc[5, bad.columns.get_loc("GPR")] = np.nan
    with pytest.raises(cqboot.DataError, match=r"<data>:7: missing value in column 'GPR'") as e:
        cqboot.cq(bad, "GPRC_CHN", "GPR", boot=0)
    assert e.value.status == 3
    with pytest.raises(cqboot.UsageError):
        cqboot.wlmc(monthly, ["GPR", "GPRC_CHN"], M=0)
    with pytest.raises(cqboot.UsageError, match="3 names for 2 columns"):
        cqboot.run_command("cq", {"y": "a", "x": "b"}, np.zeros((10, 2)), names=["a", "b", "c"])
    with pytest.raises(TypeError):
        cqboot.cq(monthly, "GPRC_CHN", "GPR", boot=0, progress=3)


def test_backend_cuda_without_cuda_is_backend_error(monthly):
    r = subprocess.run([cqboot.cli_path(), "--version"], capture_output=True, text=True)
    if "not built" not in r.stdout:
        pytest.skip("CUDA backend built")
    with pytest.raises(cqboot.BackendError) as e:
        cqboot.cq(monthly, "GPRC_CHN", "GPR", boot=999, backend="cuda")
    assert e.value.status == 4


# --------------------------------------------------------------------------
# Progress and Ctrl-C
# --------------------------------------------------------------------------
def test_progress_callback(monthly):
    seen = []
    cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", boot=999, lags=3, transform=LOGD, progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)

    def boom(f):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", boot=5000, lags=3, transform=LOGD, progress=boom)


def test_ctrl_c_raises_keyboardinterrupt_quickly(monthly):
    t = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    t.start()
    with pytest.raises(KeyboardInterrupt):
        cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", boot=2_000_000, lags="1-12", transform=LOGD, progress=False)
    took = time.monotonic() - t0
    t.join()
    assert took < 5.0, took
    # the engine is free again and gives the same numbers as before
    a = cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", boot=99, lags=2, seed=1, transform=LOGD)
    b = cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", boot=99, lags=2, seed=1, transform=LOGD)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_calls_from_threads_are_serialized(monthly):
    out = [None, None]

    def work(i):
        out[i] = cqboot.cq(monthly, "GPRC_CHN", "IPB52300S", boot=199, lags=2, seed=4, transform=LOGD)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    pd.testing.assert_frame_equal(out[0], out[1], check_exact=True)


def test_docstring_examples_run():
    import doctest
    r = doctest.testmod(cqboot, optionflags=doctest.ELLIPSIS)
    assert r.attempted >= 20 and r.failed == 0
