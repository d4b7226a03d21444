#!/usr/bin/env bash
# The README's main command: installs what is missing, builds the library and
# the CLI only (no tests; the CUDA backend only where an NVIDIA driver is
# present), and runs the seed study data/study-ree.json on
# data/us_china_monthly.csv:
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
# one CSV per analysis and results.json. Extra arguments go to `cqboot run`
# (e.g. --resume, which reuses the analyses whose inputs and options did not
# change).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s.%N)
scripts/deps.sh
if [ ! -f build/CMakeCache.txt ]; then
    # A fresh build folder: CPU only unless this machine has an NVIDIA driver
    # (CUDA objects take longer to compile than the whole CPU library).
    cuda=OFF
    if [ -e /proc/driver/nvidia/version ] && command -v nvcc >/dev/null 2>&1; then cuda=AUTO; fi
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCQB_TESTS=OFF -DCQB_CUDA=$cuda >/dev/null
fi
# Only the CLI and the library it links, whatever else the folder is set up for.
cmake --build build --target cqboot-cli -j"$(nproc)" >/dev/null
./build/cqboot run data/study-ree.json --out out/study-ree --progress plain "$@"
end=$(date +%s.%N)
echo "report: out/study-ree/index.html (and out/study-ree/report.md)"
awk -v a="$start" -v b="$end" 'BEGIN { printf "quickstart: %.1f s in all (build and study)\n", b - a }'
