#!/usr/bin/env bash
# scale_mpi.sh CQBOOT MPIRUN DATA_DIR — ctest test_scale_mpi (MPI builds):
# `mpirun -n 1|2|3 cqboot cq|wlmc|simulate ...` (oversubscribed, root allowed)
# gives JSON results, qtests, supq, wavelet levels and simulate's cells byte-identical to the single
# process (distributed two-pass selection, and the gather variant), and so
# are the analyses of `cqboot run`; a rank that dies fails the job with no output file left; a
# command that is not split is refused under several ranks.
set -euo pipefail
cqb=$1 mpirun=$2 data=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# In sanitizer builds, LeakSanitizer reports Open MPI's own allocations (its
# dlopened components, unnamed by then) as leaks of every rank: leak checks
# are off for the ranks here (test_scale checks the same code without MPI).
mpi() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$mpirun" --oversubscribe --allow-run-as-root "$@"; }
# the computed members, from "results" (or "levels") up to "timing"
region() { awk '/^\t"(results|levels|cells)":/{on=1} /^\t"timing":/{on=0} on' "$1"; }
fail=0
check() { # name single mpi-json
    if [ "$(region "$2" | wc -c)" -lt 200 ]; then echo "FAIL $1: no results in $2"; fail=1; return; fi
    if cmp -s <(region "$2") <(region "$3"); then echo "ok   $1"; else echo "FAIL $1: $3 differs"; fail=1; fi
}
cq=(cq --data "$data/us_china_monthly.csv" --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff
    --transform IPB52300S=logdiff --alpha 0.05,0.5,0.95 --lags 1-4 --boot 600 --seed 5 --gridwide --quiet)
"$cqb" "${cq[@]}" --threads 2 --json "$tmp/one.json"
for n in 1 2 3; do
    mpi -n "$n" "$cqb" "${cq[@]}" --threads 1 --json "$tmp/mpi$n.json"
    check "cq, $n ranks" "$tmp/one.json" "$tmp/mpi$n.json"
done
# the other reductions: every value gathered; pass-2 values recomputed
CQB_MPI_REDUCE=gather mpi -x CQB_MPI_REDUCE -n 2 "$cqb" "${cq[@]}" --threads 1 --json "$tmp/mg.json"
check "cq, 2 ranks, gather" "$tmp/one.json" "$tmp/mg.json"
CQB_MPI_CACHE_MIB=0 mpi -x CQB_MPI_CACHE_MIB -n 3 "$cqb" "${cq[@]}" --threads 1 --json "$tmp/mc.json"
check "cq, 3 ranks, no cache" "$tmp/one.json" "$tmp/mc.json"
tp=(cq --data "$data/us_china_monthly.csv" --y GPRC_CHN --x IPB52300S --lags 1-3 --boot 9000 --mem-limit 1 --no-null
    --quiet)
"$cqb" "${tp[@]}" --json "$tmp/tone.json"
mpi -n 2 "$cqb" "${tp[@]}" --threads 1 --json "$tmp/tmpi.json"
check "cq two-pass, 2 ranks" "$tmp/tone.json" "$tmp/tmpi.json"
wl=(wlmc --data "$data/us_china_monthly.csv" --cols IPB52300S,GPRC_CHN,GPR --levels 3 --M 24 --boot 120
    --null bootstrap --quiet)
"$cqb" "${wl[@]}" --json "$tmp/wone.json"
mpi -n 3 "$cqb" "${wl[@]}" --threads 1 --json "$tmp/wmpi.json"
check "wlmc, 3 ranks" "$tmp/wone.json" "$tmp/wmpi.json"

# simulate: the ranks split the replications, every rank replays the
# gathered records in replication order (the mean and SD of rho-hat too)
sm=(simulate --dgp tail --strength 0.4 --T 150 --alpha 0.1,0.5 --lags 1-3 --reps 23 --rep0 3 --boot 99 --seed 9
    --quiet)
"$cqb" "${sm[@]}" --threads 2 --json "$tmp/sone.json" --csv "$tmp/sone.csv"
for n in 1 2 3; do
    mpi -n "$n" "$cqb" "${sm[@]}" --threads 1 --json "$tmp/smpi$n.json" --csv "$tmp/smpi$n.csv"
    check "simulate, $n ranks" "$tmp/sone.json" "$tmp/smpi$n.json"
    if cmp -s "$tmp/sone.csv" "$tmp/smpi$n.csv"; then echo "ok   simulate CSV, $n ranks"
    else echo "FAIL simulate CSV, $n ranks"; fail=1; fi
done

# many pairs: the ranks split the pairs
pr=(cq --data "$data/us_china_monthly.csv" --series GPRC_CHN,IPB52300S,GPR --pairs all --alpha 0.1,0.5 --lags 1-2
    --boot 150 --quiet)
"$cqb" "${pr[@]}" --json "$tmp/pone.json" --csv "$tmp/pone.csv"
mpi -n 2 "$cqb" "${pr[@]}" --threads 1 --json "$tmp/pmpi.json" --csv "$tmp/pmpi.csv"
check "cq --pairs all, 2 ranks" "$tmp/pone.json" "$tmp/pmpi.json"
if cmp -s "$tmp/pone.csv" "$tmp/pmpi.csv"; then echo "ok   pairs CSV, 2 ranks"; else echo "FAIL pairs CSV"; fail=1; fi

# cqboot run: each analysis split over the ranks; the other ranks write in
# a private temporary folder (under TMPDIR), removed at the end
cp "$data/us_china_monthly.csv" "$tmp/"
cat >"$tmp/s.json" <<'EOF'
{"name": "mini", "datasets": {"m": {"file": "us_china_monthly.csv",
  "transforms": {"IPB52300S": "logdiff", "GPRC_CHN": "logdiff", "GPR": "logdiff"}}},
 "defaults": {"seed": 5, "boot": 300},
 "analyses": [
  {"name": "bl", "kind": "blocklen", "dataset": "m", "cols": ["GPRC_CHN", "IPB52300S"], "lag": 1},
  {"name": "cq1", "kind": "cq", "dataset": "m", "y": "GPRC_CHN", "x": "IPB52300S", "alpha": [0.1, 0.5],
   "lags": "1-3", "gridwide": true},
  {"name": "wl", "kind": "wlmc", "dataset": "m", "cols": ["IPB52300S", "GPRC_CHN", "GPR"], "levels": 3, "M": 24,
   "boot": 100, "null": "bootstrap"},
  {"name": "sim", "kind": "simulate", "dgp": "tail", "T": 120, "alpha": [0.1, 0.5], "lags": "1-2", "reps": 7,
   "boot": 49},
  {"name": "net", "kind": "cq", "dataset": "m", "series": ["GPRC_CHN", "IPB52300S", "GPR"], "pairs": "all",
   "alpha": [0.5], "lags": "1"}]}
EOF
mkdir -p "$tmp/t"
(cd "$tmp" && "$cqb" run s.json --out o1 --quiet &&
    TMPDIR="$tmp/t" mpi -x TMPDIR -n 2 "$cqb" run s.json --out o2 --quiet --threads 1)
ok=1
for f in bl cq1 wl sim net; do cmp -s "$tmp/o1/$f.csv" "$tmp/o2/$f.csv" || ok=0; done
[ -z "$(ls -A "$tmp/t")" ] || ok=0
if [ "$ok" = 1 ]; then echo "ok   run, 2 ranks"; else echo "FAIL run under 2 ranks: $(ls -A "$tmp/t")"; fail=1; fi

# a rank dies at its first replicate: the job fails, no output is left
rm -f "$tmp"/dead*
rc=0
CQB_TEST_KILL_RANK=1 mpi -x CQB_TEST_KILL_RANK -n 2 "$cqb" "${cq[@]}" --threads 1 --json "$tmp/dead.json" \
    >"$tmp/dead.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && ! ls "$tmp"/dead.json* >/dev/null 2>&1; then echo "ok   dying rank: exit $rc, no output"
else echo "FAIL dying rank: exit $rc, files: $(ls "$tmp")"; fail=1; fi

# not split: refused (exit 2) rather than run N times
rc=0
mpi -n 2 "$cqb" blocklen --data "$data/us_china_monthly.csv" --cols GPR >"$tmp/bl.log" 2>&1 || rc=$?
if [ "$rc" -eq 2 ] && grep -q "not split across ranks" "$tmp/bl.log"; then echo "ok   blocklen refused"
else echo "FAIL blocklen under 2 ranks: exit $rc"; fail=1; fi
exit "$fail"
