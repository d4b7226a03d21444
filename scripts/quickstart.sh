#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the
# seed study data/study-ree.json on data/us_china_monthly.csv:
#   - cross-quantilograms and partial CQs (controls: China's government
#     effectiveness, WGI, and global geopolitical risk, GPR) of China's
#     geopolitical risk and policy uncertainty on lagged U.S. defense
#     production and orders, bear/median/bull quantiles, lags 1-12,
#     B = 10,000 stationary-bootstrap replicates, Q tests, grid-wide tests;
#   - Politis-White block lengths;
#   - wavelet multiple and local multiple correlation of the four main series
#     with bootstrap-null p-values;
#   - a rolling-window CQ.
# Results land in out/study-ree/: report.md, index.html, figures (PNG, SVG),
# one CSV per analysis and results.json. Rerunning with --resume reuses
# the analyses whose inputs and options did not change.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
./build/cqboot run data/study-ree.json --out out/study-ree --progress plain "$@"
echo "open out/study-ree/index.html (or read out/study-ree/report.md)"
