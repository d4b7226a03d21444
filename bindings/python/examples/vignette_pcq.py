"""The vignette of bindings/python/README.md: the seed study's partial
cross-quantilogram of China's geopolitical risk (GPRC_CHN) on lagged U.S.
defense-equipment production (IPB52300S), controlling for China's government
effectiveness (WGI_CHN_GE) and global geopolitical risk (GPR), from the
bundled CSV to a matplotlib heat map, timed next to R quantilogram's
crossq.partial.sb when R and the package are installed.

Usage: python vignette_pcq.py [OUT.png] [--boot B]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd

import cqboot

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default="pcq_heatmap.png")
ap.add_argument("--boot", type=int, default=10000)
ap.add_argument("--r-bsize", type=int, default=100, help="replicates of the timed R cell")
a = ap.parse_args()

# 1. The bundled data: monthly, 1996-01 .. 2023-12 (a PeriodIndex gives the dates)
df = pd.read_csv(cqboot.data_path("us_china_monthly.csv"), index_col=0)
df.index = pd.PeriodIndex(df.index, freq="M")

# 2. The seed study's pcq_gprc_ipb analysis (data/study-ree.json)
alpha = [0.05, 0.1, 0.5, 0.9, 0.95]
t0 = time.perf_counter()
r = cqboot.cq(df, y="GPRC_CHN", x="IPB52300S", alpha=alpha, lags="1-12", boot=a.boot, seed=2025,
              control={"WGI_CHN_GE": 0.5, "GPR": 0.5}, gridwide=True,
              transform={"IPB52300S": "logdiff", "GPRC_CHN": "logdiff", "GPR": "logdiff"},
              **{"from": "1996-01", "to": "2023-12"})
t_py = time.perf_counter() - t0
print("cqboot.cq: %d cells, B = %d, %.3f s (backend %s, threads %s)"
      % (len(r), a.boot, t_py, r.attrs["backend"], r.attrs["options"].get("threads")))
print(r[["alpha_y", "alpha_x", "lag", "rho_partial", "band_lo", "band_hi", "p_null", "marked"]].head(12)
      .to_string(index=False))

# 3. Heat maps of the partial CQ at lags 1, 3, 6 and 12; '*' = the calibrated test rejects
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

lags = [1, 3, 6, 12]
fig, axes = plt.subplots(1, len(lags), figsize=(4 * len(lags), 3.8), constrained_layout=True)
lim = np.nanmax(np.abs(r["rho_partial"]))
for ax, k in zip(axes, lags):
    g = r[r["lag"] == k].pivot(index="alpha_y", columns="alpha_x", values="rho_partial")
    m = r[r["lag"] == k].pivot(index="alpha_y", columns="alpha_x", values="marked")
    im = ax.imshow(g.to_numpy(), origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks(range(len(g.columns)), [str(v) for v in g.columns])
    ax.set_yticks(range(len(g.index)), [str(v) for v in g.index])
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            ax.text(j, i, "%.2f%s" % (g.iat[i, j], "*" if m.iat[i, j] else ""), ha="center", va="center",
                    fontsize=7)
    ax.set_title("lag %d" % k)
    ax.set_xlabel("alpha (IPB52300S, t-k)")
    ax.set_ylabel("alpha (GPRC_CHN, t)")
fig.colorbar(im, ax=axes, shrink=0.8, label="partial CQ")
fig.suptitle("PCQ of GPRC_CHN on lagged IPB52300S | WGI_CHN_GE, GPR at their medians")
fig.savefig(a.out, dpi=110)
print("heat map:", a.out)

# 4. R quantilogram on the same data, when installed: one cell of the same
# call (all levels 0.05, lag 1) with a few replicates, scaled to the whole
# call's replicate-cells (25 cells x 12 lags x B); R runs one thread.
rlib = os.environ.get("R_LIBS", os.path.expanduser("~/.cache/cqboot-peers/rlib"))
if shutil.which("Rscript"):
    d = df.loc["1996-01":"2023-12", ["GPRC_CHN", "IPB52300S", "WGI_CHN_GE", "GPR"]].copy()
    for c in ("GPRC_CHN", "IPB52300S", "GPR"):
        d[c] = np.log(d[c]).diff()
    d = d.iloc[1:]
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "d.csv")
        d.to_csv(csv, index=False, float_format="%.17g")
        script = ("suppressMessages(library(quantilogram)); d <- as.matrix(read.csv('%s'));"
                  "e <- system.time(crossq.partial.sb(d, c(0.05, 0.05, 0.5, 0.5), 1, 0.1, %d, 0.05))[['elapsed']];"
                  "cat(sprintf('R_ELAPSED %%.6f\\n', e))" % (csv, a.r_bsize))
        p = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True,
                           env=dict(os.environ, R_LIBS=rlib))
        line = [x for x in p.stdout.splitlines() if x.startswith("R_ELAPSED")]
        if line:
            e = float(line[0].split()[1])
            total = e / a.r_bsize * a.boot * len(alpha) ** 2 * 12
            print("R quantilogram::crossq.partial.sb: one cell, lag 1, Bsize %d: %.3f s -> the whole call "
                  "(%d cells x 12 lags x B = %d) would take ~%.0f s (%.0fx cqboot's %.2f s)"
                  % (a.r_bsize, e, len(alpha) ** 2, a.boot, total, total / t_py, t_py))
        else:
            print("R quantilogram not available:", (p.stderr.strip().splitlines() or ["?"])[-1])
else:
    print("R not installed: no comparison")
