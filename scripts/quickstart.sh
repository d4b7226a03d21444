#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the
# main analysis on data/us_china_monthly.csv -- the partial cross-quantilogram
# of China's geopolitical risk (GPRC_CHN growth) on lagged U.S. defense
# production growth (IPB52300S), controlling for China's government
# effectiveness (WGI) and global geopolitical risk (GPR), with 2,000
# stationary-bootstrap replicates. Results: out/main.json, out/main.csv and a
# table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
mkdir -p out
./build/cqboot cq --data data/us_china_monthly.csv \
    --y GPRC_CHN --x IPB52300S \
    --transform GPRC_CHN=logdiff --transform IPB52300S=logdiff --transform GPR=logdiff \
    --control WGI_CHN_GE:0.5 --control GPR:0.5 \
    --alpha 0.05,0.1,0.5,0.9,0.95 --lags 1-12 --boot 2000 --seed 2025 \
    --json out/main.json --csv out/main.csv
./build/cqboot cq --data data/us_china_monthly.csv \
    --y GPRC_CHN --x IPB52300S \
    --transform GPRC_CHN=logdiff --transform IPB52300S=logdiff --transform GPR=logdiff \
    --control WGI_CHN_GE:0.5 --control GPR:0.5 \
    --alpha 0.05,0.5,0.95 --lags 1-3 --boot 2000 --seed 2025 --quiet
echo "full results: out/main.json, out/main.csv"
