"""cqboot: cross-quantilograms and wavelet correlations with bootstrap tests,
for pandas.

Every function runs the cqboot command line's subcommand of the same name in
the same process (the C engine, ``include/cqboot/embed.h``) on a pandas
DataFrame or Series or numpy array, with keyword arguments named after the
command's options (``--window-years`` is ``window_years=``), and returns a
pandas DataFrame in the tidy shape of the command's ``--csv`` output (one
row per cell), with the run's options, seed, backend and versions in
``.attrs``. The numbers are the CLI's for the same inputs and seed, bit for
bit.

>>> import cqboot, pandas as pd
>>> df = pd.read_csv(cqboot.data_path("us_china_monthly.csv"), index_col=0)
>>> r = cqboot.cq(df, y="GPRC_CHN", x="IPB52300S", boot=199, lags="1-3",
...               transform={"GPRC_CHN": "logdiff", "IPB52300S": "logdiff"})
>>> list(r.columns[:5])
['alpha_y', 'alpha_x', 'lag', 'n', 'rho']
"""
from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

# Idle OpenMP threads sleep rather than spin, as in the CLI (which re-executes
# itself with this setting: cqboot/runtime.h): on a loaded machine spinning
# threads made a B = 1000 call 3-5x slower. libgomp reads it when it is
# loaded, that is with the extension just below, unless another package
# loaded it earlier; a policy the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from . import _core  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "cq", "blocklen", "modwt", "wmc", "wmcc", "wlmc", "wlmcc", "simulate", "run_study",
    "Error", "UsageError", "DataError", "BackendError", "OutOfMemoryError", "InternalError",
    "cli_path", "data_path", "run_command",
]

_HERE = os.path.dirname(os.path.abspath(__file__))
# `run_study` draws its figures with the figure module installed beside the
# extension (the CLI looks beside its executable; here that is python's).
_PLOT = os.path.join(_HERE, "libcqboot_plot.so")
if os.path.exists(_PLOT) and not os.environ.get("CQB_PLOT_MODULE"):
    os.environ["CQB_PLOT_MODULE"] = _PLOT

if _core.api_version != 1:  # pragma: no cover - a mismatched build
    raise ImportError("cqboot: the extension has C API version %d, this package expects 1" % _core.api_version)


# --------------------------------------------------------------------------
# Errors: the CLI's exit codes
# --------------------------------------------------------------------------
class Error(Exception):
    """A cqboot failure; ``status`` is the CLI's exit code, the message its one line."""

    status = 1

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InternalError(Error):
    """Exit code 1: an internal error."""

    status = 1


class UsageError(Error, ValueError):
    """Exit code 2: a bad option or value (also a ValueError)."""

    status = 2


class DataError(Error, ValueError):
    """Exit code 3: the data (a missing value in a used column, too few rows, a file)."""

    status = 3


class BackendError(Error):
    """Exit code 4: the backend asked for is not available (e.g. backend='cuda')."""

    status = 4


class OutOfMemoryError(Error, MemoryError):
    """Exit code 5: out of memory or threads."""

    status = 5


_ERRORS = {1: InternalError, 2: UsageError, 3: DataError, 4: BackendError, 5: OutOfMemoryError}


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------
def cli_path() -> str:
    """The ``cqboot`` command-line program built with this package (same sources).

    >>> import os, cqboot
    >>> os.access(cqboot.cli_path(), os.X_OK)
    True
    """
    return os.path.join(_HERE, "cqboot")


def data_path(name: str = "us_china_monthly.csv") -> str:
    """A data file of the repository's ``data/`` folder (the package is built from a clone).

    >>> import cqboot
    >>> cqboot.data_path().endswith("us_china_monthly.csv")
    True
    """
    env = os.environ.get("CQBOOT_DATA")
    roots = [env] if env else []
    roots.append(os.path.join(_HERE, "data"))
    src = _source_root()
    if src:
        roots.append(os.path.join(src, "data"))
    for r in roots:
        p = os.path.join(r, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError("cqboot: no data file %r (set CQBOOT_DATA to the repository's data/ folder)" % name)


def _source_root() -> Optional[str]:
    p = os.path.join(_HERE, "source_root.txt")
    if os.path.exists(p):
        with open(p) as f:
            return f.read().strip() or None
    return None


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------
def _labels(index: pd.Index) -> Optional[list]:
    """Row labels the CLI's reader takes as dates, or None (an index frame)."""
    if isinstance(index, pd.DatetimeIndex):
        return list(index.strftime("%Y-%m-%d"))
    if isinstance(index, pd.PeriodIndex):
        code = index.freqstr.upper()
        if code.startswith("M"):
            return list(index.strftime("%Y-%m"))
        if code.startswith("Q"):
            # the first month of each quarter (the reader's YYYYQq is the
            # calendar quarter; a fiscal-year quarter is given by its month)
            if code in ("Q", "Q-DEC"):
                return ["%dQ%d" % (p.year, p.quarter) for p in index]
            return list(index.asfreq("M", how="start").strftime("%Y-%m"))
        return list(index.start_time.strftime("%Y-%m-%d"))
    if len(index) and index.inferred_type == "string":  # dates as text (read_csv(index_col=0))
        return [str(v) for v in index]
    return None


# A DataFrame, Series, numpy array, dict of columns, or the path of a CSV file.
DataLike = Union[pd.DataFrame, pd.Series, np.ndarray, Mapping[str, Any], str, "os.PathLike[str]"]


def _frame(data: DataLike, names: Optional[Sequence[str]] = None):
    """(names, columns, labels) for the engine: numeric columns as float64."""
    labels = None
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else "x1")
    if isinstance(data, pd.DataFrame):
        labels = _labels(data.index)
        cols, outn = [], []
        for c in data.columns:
            s = data[c]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
                continue  # text columns cannot be analysed; selecting one says "unknown column"
            outn.append(str(c))
            cols.append(np.ascontiguousarray(pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64,
                                                                                         na_value=np.nan)))
        return outn, cols, labels
    if isinstance(data, Mapping):
        outn = [str(k) for k in data]
        cols = [np.ascontiguousarray(np.asarray(v, dtype=np.float64)) for v in data.values()]
        return outn, cols, None
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise UsageError("data must be a DataFrame, a Series, a dict of columns or a 1-D/2-D array")
    if names is None:
        names = ["x%d" % (j + 1) for j in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise UsageError("%d names for %d columns" % (len(names), arr.shape[1]))
    return [str(n) for n in names], [np.ascontiguousarray(arr[:, j]) for j in range(arr.shape[1])], None


# Options that the CLI takes once per item (--control A:0.5 --control B:0.5).
_REPEATED = {"control", "transform"}


def _value(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)  # the shortest text that reads back to the same double
    return str(v)


def _argv(options: Mapping[str, Any]) -> list:
    """Keyword arguments -> the CLI's options: name_with_underscores=V gives
    --name-with-underscores V; True a flag alone; False/None nothing; a list
    a comma list (or one option per item for control/transform); a dict
    COL=V items (transform) or COL:V (control)."""
    out = []
    for k, v in options.items():
        if v is None or v is False:
            continue
        opt = "--" + k.replace("_", "-")
        if v is True:
            out.append(opt)
            continue
        if k in _REPEATED:
            if isinstance(v, Mapping):
                sep = ":" if k == "control" else "="
                items = ["%s%s%s" % (c, sep, _value(x)) for c, x in v.items()]
            elif isinstance(v, (list, tuple)):
                items = []
                for x in v:
                    if isinstance(x, (list, tuple)):  # ("GPR", 0.5) or ("GPR", 0.5, 1)
                        items.append(":".join(_value(p) for p in x))
                    else:
                        items.append(_value(x))
            else:
                items = [_value(v)]
            for it in items:
                out += [opt, it]
            continue
        if isinstance(v, (list, tuple, np.ndarray, pd.Index)):
            v = ",".join(_value(x.item() if hasattr(x, "item") else x) for x in v)
        out += [opt, _value(v)]
    return out


def _progress_callable(progress: Any, label: str) -> tuple:
    """(callable or None, closer): a user callable, tqdm for True (or for
    None when tqdm is installed and stderr is a terminal), or nothing."""
    if callable(progress):
        return progress, lambda: None
    if progress is not None and not isinstance(progress, bool):
        raise TypeError("progress must be a callable, True (a tqdm bar), False or None")
    if progress is False:
        return None, lambda: None
    if progress is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None, lambda: None
    try:
        from tqdm.auto import tqdm  # type: ignore
    except ImportError:
        return None, lambda: None
    bar = tqdm(total=1000, desc="cqboot " + label, leave=False)

    def cb(f: float) -> None:
        n = int(round(1000 * f))
        if n > bar.n:
            bar.update(n - bar.n)

    return cb, bar.close


# --------------------------------------------------------------------------
# The engine call
# --------------------------------------------------------------------------

def _check_status(st: int, msg: str) -> None:
    """Raises what an engine exit status means: KeyboardInterrupt for an
    interrupt (130), the cqboot.Error subclass of the exit code otherwise."""
    if st == 130:
        raise KeyboardInterrupt(msg)
    if st != 0:
        raise _ERRORS.get(st, Error)(msg, st)

def run_command(command: str, options: Mapping[str, Any], data: Optional[DataLike] = None,
                progress: Any = None, names: Optional[Sequence[str]] = None) -> tuple:
    """Runs a cqboot subcommand in-process; returns (json dict, csv text or None).

    The low-level call behind every function: ``options`` are the CLI's
    options as keyword names (see the module doc). Raises an Error subclass
    with the CLI's one-line message when the command fails.

    >>> import cqboot
    >>> j, csv = cqboot.run_command("simulate", {"reps": 4, "boot": 19, "T": 100, "lags": 1})
    >>> j["tool"]
    'cqboot simulate'
    """
    if isinstance(data, (str, os.PathLike)):  # a CSV file: the CLI's own reader, --data FILE
        options = dict(options, data=os.fspath(data))
        data = None
    argv = _argv(options)
    cb, close = _progress_callable(progress, command)
    try:
        if data is None:
            st, js, csv, msg = _core.run(command, argv, progress=cb)
        else:
            n, c, lab = _frame(data, names)
            st, js, csv, msg = _core.run(command, argv, n, c, lab, None, cb)
    finally:
        close()
    _check_status(st, msg)
    return (json.loads(js) if js else None), csv


def _attrs(df: pd.DataFrame, j: Mapping[str, Any]) -> pd.DataFrame:
    opts = j.get("options", {}) or {}
    df.attrs["tool"] = j.get("tool")
    df.attrs["options"] = opts
    df.attrs["seed"] = opts.get("seed")
    df.attrs["backend"] = opts.get("backend", j.get("backend"))
    df.attrs["versions"] = {"cqboot": j.get("version"), "python_package": __version__}
    df.attrs["input"] = j.get("input")
    df.attrs["json"] = j
    return df


# The CSV's shortest texts must read back to the engine's doubles: pandas
# before 3 needs float_precision="round_trip" (its default parser may be off
# by an ulp); pandas 3 reads exactly by default and deprecates the option.
_ROUND_TRIP = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def _read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=["NA"],
                       dtype={"date": str, "window_first": str, "window_last": str, "level": str, "band": str}, **_ROUND_TRIP)


def _table(command: str, options: Mapping[str, Any], data: Optional[DataLike], progress: Any) -> pd.DataFrame:
    j, csv = run_command(command, options, data, progress)
    df = _read_csv(csv) if csv else pd.DataFrame(j.get("results", []))
    return _attrs(df, j)


def _opts(local: Mapping[str, Any], extra: Mapping[str, Any]) -> dict:
    d = {k: v for k, v in local.items() if k not in ("data", "progress", "options")}
    d.update(extra)
    return d


# --------------------------------------------------------------------------
# The analyses
# --------------------------------------------------------------------------
def cq(data: DataLike, y: str, x: str, *, alpha: Any = None, lags: Any = None,
       control: Any = None, transform: Any = None, boot: Optional[int] = None, seed: Optional[int] = None,
       progress: Any = None, **options: Any) -> pd.DataFrame:
    """Cross-quantilogram (or partial CQ with ``control=``) of y on lagged x,
    with stationary-bootstrap bands, p-values, the calibrated test and
    portmanteau (Q) tests: ``cqboot cq``.

    Every option of ``cqboot cq --help`` is a keyword (``gridwide=True``,
    ``window_years=10``, ``step=2``, ``y_regressors="GPR:1"``,
    ``selfnorm=True``, ``backend="cuda"``, ...). ``control`` is a dict
    ``{column: level}``, or a list of "COL:LEVEL[:LAG]" strings or tuples;
    ``transform`` a dict ``{column: "logdiff"|"diff"|"pct"|"level"}``.
    Returns one row per (alpha_y, alpha_x, lag) — and per window with
    ``window=``/``window_years=`` — as ``--csv``; ``.attrs["json"]`` holds
    the whole ``--json`` (``qtests``, ``gridwide``, ``selfnorm``, ...),
    ``.attrs["qtests"]`` the Q tests as a DataFrame.

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> r = cqboot.cq(df, "GPRC_CHN", "IPB52300S", alpha=[0.1, 0.5], lags=2, boot=99,
    ...               control={"GPR": 0.5}, transform={"GPRC_CHN": "logdiff", "GPR": "logdiff"})
    >>> len(r)
    8
    """
    df = _table("cq", _opts(locals(), options), data, progress)
    q = df.attrs["json"].get("qtests")
    if q:
        df.attrs["qtests"] = pd.DataFrame(q)
    return df


def blocklen(data: DataLike, cols: Any, *, transform: Any = None, progress: Any = None,
             **options: Any) -> pd.DataFrame:
    """Politis-White block lengths (R's np::b.star) of each column and the
    implied stationary-bootstrap gamma (``.attrs["gamma"]``): ``cqboot blocklen``.

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> b = cqboot.blocklen(df, ["GPRC_CHN", "IPB52300S"])
    >>> list(b.columns)
    ['column', 'n', 'b_sb', 'b_cb']
    """
    df = _table("blocklen", _opts(locals(), options), data, progress)
    df.attrs["gamma"] = df.attrs["json"].get("gamma")
    return df


def modwt(data: DataLike, cols: str, *, wavelet: Optional[str] = None, levels: Optional[int] = None,
          transform: Any = None, progress: Any = None, **options: Any) -> pd.DataFrame:
    """Maximal overlap discrete wavelet transform of one series: ``cqboot modwt``
    (one row per level and date).

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> w = cqboot.modwt(df, "GPR", wavelet="la8", levels=3)
    >>> sorted(w["level"].unique())
    ['d1', 'd2', 'd3', 's3']
    """
    return _table("modwt", _opts(locals(), options), data, progress)


def wmc(data: DataLike, cols: Any, *, wavelet: Optional[str] = None, levels: Optional[int] = None,
        transform: Any = None, progress: Any = None, **options: Any) -> pd.DataFrame:
    """Wavelet multiple correlation per level (wavemulcor's
    wave.multiple.correlation): ``cqboot wmc``; ``boot=B`` adds a bootstrap null.

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> r = cqboot.wmc(df, ["IPB52300S", "GPRC_CHN", "GPR"], levels=3)
    >>> list(r["level"])
    ['d1', 'd2', 'd3', 's3']
    """
    return _table("wmc", _opts(locals(), options), data, progress)


def wmcc(data: DataLike, cols: Any, *, wavelet: Optional[str] = None, levels: Optional[int] = None,
         lag_max: Optional[int] = None, transform: Any = None, progress: Any = None,
         **options: Any) -> pd.DataFrame:
    """Wavelet multiple cross-correlation per level and lag: ``cqboot wmcc``.

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> r = cqboot.wmcc(df, ["IPB52300S", "GPRC_CHN", "GPR"], levels=2, lag_max=2)
    >>> len(r)  # (d1, d2, s2) x lags -2..2
    15
    """
    return _table("wmcc", _opts(locals(), options), data, progress)


def wlmc(data: DataLike, cols: Any, M: int, *, wavelet: Optional[str] = None, levels: Optional[int] = None,
         window: Optional[str] = None, transform: Any = None, progress: Any = None,
         **options: Any) -> pd.DataFrame:
    """Wavelet local multiple correlation per level and time (window size M): ``cqboot wlmc``.

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> r = cqboot.wlmc(df, ["IPB52300S", "GPRC_CHN", "GPR"], M=24, levels=2)
    >>> "value" in r.columns
    True
    """
    return _table("wlmc", _opts(locals(), options), data, progress)


def wlmcc(data: DataLike, cols: Any, M: int, *, wavelet: Optional[str] = None, levels: Optional[int] = None,
          lag_max: Optional[int] = None, window: Optional[str] = None, transform: Any = None,
          progress: Any = None, **options: Any) -> pd.DataFrame:
    """Wavelet local multiple cross-correlation (levels, times, lags): ``cqboot wlmcc``.

    >>> import cqboot, pandas as pd
    >>> df = pd.read_csv(cqboot.data_path(), index_col=0)
    >>> r = cqboot.wlmcc(df, ["IPB52300S", "GPRC_CHN", "GPR"], M=24, levels=2, lag_max=1)
    >>> len(r) > 0
    True
    """
    return _table("wlmcc", _opts(locals(), options), data, progress)


def simulate(*, dgp: Optional[str] = None, reps: Optional[int] = None, boot: Optional[int] = None,
             T: Optional[int] = None, seed: Optional[int] = None, progress: Any = None,
             **options: Any) -> pd.DataFrame:
    """Monte Carlo size and power of the CQ bootstrap tests: ``cqboot simulate``
    (no data: the process is simulated).

    >>> import cqboot
    >>> s = cqboot.simulate(reps=8, boot=19, T=100, alpha=[0.1], lags=1, seed=3)
    >>> len(s) > 0
    True
    """
    return _table("simulate", _opts(locals(), options), None, progress)


def run_study(path: str, out: Optional[str] = None, *, progress: Any = None,
              **options: Any) -> Dict[str, Any]:
    """Runs a whole study file (``cqboot run STUDY.json``): writes the results,
    figures, report.md and index.html into ``out`` (default: a new temporary
    folder) and returns ``{"out": folder, "results": results.json as a dict,
    NAME: DataFrame of OUT/NAME.csv for each analysis}``.

    >>> import cqboot, json, os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "s.json")
    >>> _ = open(p, "w").write(json.dumps({"name": "s", "datasets": {"m": {"file": cqboot.data_path()}},
    ...     "analyses": [{"name": "b", "kind": "blocklen", "dataset": "m", "cols": ["GPR", "GPRC_CHN"]}]}))
    >>> r = cqboot.run_study(p, os.path.join(d, "out"))
    >>> list(r["b"]["column"])
    ['GPR', 'GPRC_CHN']
    """
    if out is None:
        out = tempfile.mkdtemp(prefix="cqboot-study-")
    argv = [os.fspath(path), "--out", os.fspath(out)] + _argv(options)
    cb, close = _progress_callable(progress, "run")
    try:
        st, js, _csv, msg = _core.run("run", argv, progress=cb)
    finally:
        close()
    _check_status(st, msg)
    res: Dict[str, Any] = {"out": out, "results": json.loads(js) if js else None}
    for a in (res["results"] or {}).get("analyses", []):
        name = a.get("name")
        csv = os.path.join(out, a.get("csv") or "%s.csv" % name)
        if name and os.path.exists(csv):
            with open(csv) as f:
                res[name] = _read_csv(f.read())
    return res
