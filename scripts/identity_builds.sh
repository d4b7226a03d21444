#!/usr/bin/env bash
# identity_builds.sh BUILD_A BUILD_B — runs the same matrix of `cqboot cq`
# analyses with two builds and compares the JSON byte for byte. Used to show
# that a kernel change leaves every number unchanged (bootstrap bands,
# p-values, Q-test critical values, calibrated test, grid-wide tests) across
# quantile conventions, controls, ties, long series, thread counts and the
# two-pass selection. Writes only to its own temporary folder.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_A BUILD_B (folders holding a cqboot executable)" >&2
    exit 2
fi
A=$1/cqboot
B=$2/cqboot
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
M=$ROOT/data/us_china_monthly.csv
S=$ROOT/tests/data/quantilogram_sys_risk.csv
G=$ROOT/tests/data/wangys96_gold.csv
Q=$ROOT/tests/data/quantilogram_stock.csv
US="--data $M --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff --transform IPB52300S=logdiff"
G9="0.05,0.1,0.2,0.3,0.5,0.7,0.8,0.9,0.95"
cases=(
    "w1|$US --alpha $G9 --lags 1-12 --boot 3000 --gamma 0.1"
    "w1t1|$US --alpha $G9 --lags 1-12 --boot 3000 --gamma 0.1 --threads 1"
    "default|$US --boot 700"
    "indep|$US --boot 300 --independent-cells --alpha 0.1,0.5,0.9 --lags 1-4"
    "type1|$US --boot 500 --quantile type1_lt --gamma 0.2"
    "higher|$US --boot 500 --quantile higher_lt_sub --alpha 0.05,0.5,0.95"
    "partial|$US --boot 500 --control GPRC_USA:0.5 --transform GPRC_USA=logdiff --rotation-margin 5"
    "partial2|$US --boot 300 --control GPRC_USA:0.3:2 --control EPU_US:0.7 --transform GPRC_USA=logdiff --from 2000-01 --lags 1-6 --no-null"
    "gridwide|$US --boot 400 --gridwide --alpha 0.1,0.5,0.9 --lags 1-5"
    "nullsb|$US --boot 400 --null-scheme sb --alpha 0.1,0.9"
    "twopass|$US --boot 2000 --mem-limit 1 --alpha 0.1,0.5,0.9 --gamma 0.15"
    "ties|--data $G --y cgold_overnight --x sgold_overnight --boot 500 --alpha 0.05,0.1,0.5,0.9,0.95 --lags 1-5"
    "ties9|--data $G --y cgold_overnight --x cgold_intraday --boot 300 --alpha $G9 --lags 1-3 --gamma 0.3"
    "long|--data $S --y JPM --x Market --transform JPM=logdiff --alpha 0.05 --lags 1-20 --boot 300 --gamma 0.1"
    "longgrid|--data $S --y JPM --x Market --transform JPM=logdiff --alpha 0.05,0.5,0.95 --lags 1-3 --boot 200"
    "stock|--data $Q --y Return --x Variance --boot 300 --alpha 0.05,0.1,0.9,0.95 --lags 1-8 --gamma 0.05"
    "bigboot|$US --alpha 0.1,0.5 --lags 1-2 --boot 20000 --gamma 0.1 --no-null"
    # B >= 8,192: the CPU's windowed selection (qselect.h), and at B = 1e5 one pass where the
    # stored values would need two
    "w1win|$US --alpha $G9 --lags 1-12 --boot 10000 --gamma 0.1"
    "w1win100k|$US --alpha $G9 --lags 1-12 --boot 100000 --gamma 0.1 --no-null"
    "longwin|--data $S --y JPM --x Market --transform JPM=logdiff --alpha 0.05 --lags 1-20 --boot 10000 --gamma 0.1"
    "tieswin|--data $G --y cgold_overnight --x sgold_overnight --boot 10000 --alpha 0.05,0.1,0.5,0.9,0.95 --lags 1-5"
    "partialwin|$US --boot 9000 --control GPRC_USA:0.5 --transform GPRC_USA=logdiff --lags 1-4"
    "gridwin|$US --boot 10000 --gridwide --alpha 0.1,0.5,0.9 --lags 1-5"
    "stockwin|--data $Q --y Return --x Variance --boot 12000 --alpha 0.05,0.1,0.9,0.95 --lags 1-8 --gamma 0.05"
)
fail=0
for c in "${cases[@]}"; do
    name=${c%%|*}
    args=${c#*|}
    # shellcheck disable=SC2086
    "$A" cq $args --quiet --json "$TMP/$name.a.json" >/dev/null
    # shellcheck disable=SC2086
    "$B" cq $args --quiet --json "$TMP/$name.b.json" >/dev/null
    # the timings (point_s, bootstrap_s, total_s, ...) differ from run to run
    for x in a b; do grep -v '_s":' "$TMP/$name.$x.json" >"$TMP/$name.$x.txt"; done
    if cmp -s "$TMP/$name.a.txt" "$TMP/$name.b.txt"; then
        echo "identical  $name"
    else
        echo "DIFFERENT  $name"
        fail=1
    fi
done
exit $fail
