"""The binding's overhead: one cqboot.cq call from Python against the CLI
program on the same work (the bundled data, 5 x 5 levels, lags 1-12), as
medians of N runs. The Python figure includes the DataFrame's conversion,
the in-memory CSV the engine reads, and pandas reading the result; the
CLI's includes starting the process and writing the files.

Usage: python overhead.py [N]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import pandas as pd

import cqboot
from cqboot import _core

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20
df = pd.read_csv(cqboot.data_path(), index_col=0)
df.index = pd.PeriodIndex(df.index, freq="M")
opts = dict(alpha=[0.05, 0.1, 0.5, 0.9, 0.95], lags="1-12", seed=1,
            transform={"GPRC_CHN": "logdiff", "IPB52300S": "logdiff"})
cli_opts = ["--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.05,0.1,0.5,0.9,0.95", "--lags", "1-12",
            "--seed", "1", "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff"]


def med(f):
    f()  # warm
    ts = []
    for _ in range(N):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return 1000 * statistics.median(ts)


with tempfile.TemporaryDirectory() as tmp:
    for boot in (0, 1000):
        py = med(lambda: cqboot.cq(df, "GPRC_CHN", "IPB52300S", boot=boot, progress=False, **opts))
        names, cols, labels = cqboot._frame(df)
        argv = cqboot._argv(dict(y="GPRC_CHN", x="IPB52300S", boot=boot, **opts))
        core = med(lambda: _core.run("cq", argv, names, cols, labels))
        cmd = [cqboot.cli_path(), "cq", "--data", cqboot.data_path()] + cli_opts + [
            "--boot", str(boot), "--json", os.path.join(tmp, "j"), "--csv", os.path.join(tmp, "c")]
        cli = med(lambda: subprocess.run(cmd, check=True))
        print("boot=%-5d cqboot.cq %.2f ms | engine call alone (_core.run) %.2f ms | CLI process %.2f ms | "
              "Python - CLI %+.2f ms" % (boot, py, core, cli, py - cli))
