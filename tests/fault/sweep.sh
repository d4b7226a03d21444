#!/usr/bin/env bash
# tests/fault/sweep.sh CQBOOT DATA_DIR — the fault-injection sweep (issue #11,
# item 8), run by ctest (test fault_sweep) in a -DCQB_FAULT=ON build (the
# sanitizer pass of scripts/test.sh builds that way). CQBOOT must be such a
# build; with ASan it also checks that nothing leaks.
#
# For a small `cqboot cq` run and a small `cqboot run` study it counts the
# allocations and output steps (CQB_FAULT_REPORT), then for k over that
# range fails the k-th allocation (CQB_FAULT_ALLOC=k) or output step
# (CQB_FAULT_IO=k: fopen for writing, mkstemp, fflush, fsync, fclose,
# rename, mkdir) and checks that the run
# - exits 0 with the reference output, or 5 (out of memory; allocations) or
#   3 (output error; output steps) — the README's documented codes — with no
#   sanitizer report and no leak (a sanitizer error exits 86, a leak 87);
# - leaves no temporary file (*.tmp.*, .state/*.run.json) and no partial
#   output: a failed cq run leaves neither --json nor --csv target, a failed
#   study no results.json;
# - for the study: `--resume` afterwards, without the fault, exits 0 and
#   gives the reference results.json (less its timing) and CSVs.
# Every output step is failed; allocations: every CQB_FAULT_CQ_STRIDE-th of
# cq (default 4) and every CQB_FAULT_STRIDE-th of the study (default 20;
# set both to 1 for every one, as docs/fuzzing.md reports).
# CQB_FAULT_JOBS runs that many at once (default: nproc); CQB_FAULT_ONLY=RE
# keeps the cases matching RE ("cq ALLOC 12", "study IO 3", ...).
set -uo pipefail
cli=$(readlink -f "$1")
data=$(readlink -f "$2")
stride="${CQB_FAULT_STRIDE:-20}"
cq_stride="${CQB_FAULT_CQ_STRIDE:-4}"
jobs="${CQB_FAULT_JOBS:-$(nproc)}"
work=$(mktemp -d "${TMPDIR:-/tmp}/cqb_fault_XXXXXX")
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0"
export LSAN_OPTIONS="exitcode=87"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=86"
export OMP_NUM_THREADS=1

cat >"$work/study.json" <<JSON
{"name": "f",
 "datasets": {"m": {"file": "$data/us_china_monthly.csv",
                    "transforms": {"GPRC_CHN": "logdiff", "IPB52300S": "logdiff"}, "from": "2010-01"}},
 "defaults": {"seed": 5, "boot": 19, "threads": 1},
 "analyses": [
  {"name": "bl", "kind": "blocklen", "cols": ["GPRC_CHN", "IPB52300S"]},
  {"name": "c", "kind": "cq", "y": "GPRC_CHN", "x": "IPB52300S", "alpha": [0.5], "lags": "1-2",
   "figures": {"lags": [1]}}]}
JSON

cq_args=(cq --data "$data/us_china_monthly.csv" --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff
    --transform IPB52300S=logdiff --alpha 0.1,0.5 --lags 1-2 --boot 19 --threads 1 --quiet)

# results.json or a cq --json file without its "timing" object
strip_timing() { awk '/^\t"timing":\t\{/ {skip=1; next} skip && /^\t\}/ {skip=0; next} !skip' "$1"; }

# references, and the ranges of k
mkdir -p "$work/ref"
counts=$(CQB_FAULT_REPORT=1 "$cli" "${cq_args[@]}" --json "$work/ref/o.json" --csv "$work/ref/o.csv" 2>&1 >/dev/null) ||
    { echo "sweep: the reference cq run failed: $counts"; exit 1; }
cq_alloc=$(echo "$counts" | sed -n 's/.*allocations \([0-9]*\),.*/\1/p')
cq_io=$(echo "$counts" | sed -n 's/.*output steps \([0-9]*\).*/\1/p')
strip_timing "$work/ref/o.json" >"$work/ref/o.stable.json"
counts=$(CQB_FAULT_REPORT=1 "$cli" run "$work/study.json" --out "$work/ref/study" --quiet 2>&1 >/dev/null) ||
    { echo "sweep: the reference study failed: $counts"; exit 1; }
st_alloc=$(echo "$counts" | sed -n 's/.*allocations \([0-9]*\),.*/\1/p')
st_io=$(echo "$counts" | sed -n 's/.*output steps \([0-9]*\).*/\1/p')
strip_timing "$work/ref/study/results.json" >"$work/ref/study.stable.json"
echo "sweep: cq: $cq_alloc allocations, $cq_io output steps; study: $st_alloc allocations, $st_io output steps"
[ -n "$cq_alloc" ] && [ "$cq_alloc" -gt 0 ] && [ -n "$st_io" ] && [ "$st_io" -gt 0 ] ||
    { echo "sweep: no counts: is $cli a -DCQB_FAULT=ON build?"; exit 1; }

leftovers() { find "$1" \( -name '*.tmp.*' -o -name '*.run.json' \) 2>/dev/null; }

# one case: KIND (cq|study) VAR (ALLOC|IO) K; prints a line on failure
one() {
    local kind=$1 var=$2 k=$3 d="$work/$1_$2_$3" rc want out
    mkdir -p "$d"
    want=$([ "$var" = ALLOC ] && echo 5 || echo 3)
    if [ "$kind" = cq ]; then
        env CQB_FAULT_$var="$k" "$cli" "${cq_args[@]}" --json "$d/o.json" --csv "$d/o.csv" >"$d/stdout" 2>"$d/stderr"
        rc=$?
        out=$(leftovers "$d")
        [ -z "$out" ] || { echo "cq $var=$k: temporary files left: $out"; return; }
        if [ $rc -eq 0 ]; then
            strip_timing "$d/o.json" | cmp -s - "$work/ref/o.stable.json" && cmp -s "$d/o.csv" "$work/ref/o.csv" ||
                echo "cq $var=$k: exit 0 but the output differs from the reference"
        elif [ $rc -eq "$want" ]; then
            [ ! -e "$d/o.json" ] && [ ! -e "$d/o.csv" ] || echo "cq $var=$k: exit $rc but an output was written"
            [ "$(wc -l <"$d/stderr")" -ge 1 ] || echo "cq $var=$k: exit $rc without a message"
        else
            echo "cq $var=$k: exit $rc (want 0 or $want): $(head -c 600 "$d/stderr" | tr "\n" " " | cut -c1-300)"
        fi
    else
        env CQB_FAULT_$var="$k" "$cli" run "$work/study.json" --out "$d/out" --quiet >"$d/stdout" 2>"$d/stderr"
        rc=$?
        out=$(leftovers "$d")
        [ -z "$out" ] || { echo "study $var=$k: temporary files left: $out"; return; }
        if [ $rc -ne 0 ] && [ $rc -ne "$want" ]; then
            echo "study $var=$k: exit $rc (want 0 or $want): $(head -c 600 "$d/stderr" | tr "\n" " " | cut -c1-300)"
            return
        fi
        [ $rc -eq 0 ] || [ ! -e "$d/out/results.json" ] || { echo "study $var=$k: exit $rc but results.json was written"; return; }
        "$cli" run "$work/study.json" --out "$d/out" --quiet --resume >"$d/stdout2" 2>"$d/stderr2"
        rc=$?
        [ $rc -eq 0 ] || { echo "study $var=$k: --resume after the fault exits $rc: $(head -c 600 "$d/stderr2" | tr "\n" " " | cut -c1-300)"; return; }
        strip_timing "$d/out/results.json" | cmp -s - "$work/ref/study.stable.json" ||
            { echo "study $var=$k: results.json after --resume differs from the reference"; return; }
        for f in "$work/ref/study/"*.csv; do
            cmp -s "$f" "$d/out/$(basename "$f")" || { echo "study $var=$k: $(basename "$f") after --resume differs"; return; }
        done
        out=$(leftovers "$d")
        [ -z "$out" ] || { echo "study $var=$k: temporary files left after --resume: $out"; return; }
    fi
    rm -rf "$d"
}
export -f one leftovers strip_timing
export cli work
export cq_args_str="${cq_args[*]}"

{
    for k in $(seq 1 "$cq_stride" "$cq_alloc"); do echo "cq ALLOC $k"; done
    for k in $(seq 1 "$cq_io"); do echo "cq IO $k"; done
    for k in $(seq 1 "$stride" "$st_alloc"); do echo "study ALLOC $k"; done
    for k in $(seq 1 "$st_io"); do echo "study IO $k"; done
} | grep -E "${CQB_FAULT_ONLY:-.}" >"$work/cases"
ncases=$(wc -l <"$work/cases")
# cq_args is an array: pass it to the workers through a file
printf '%s\n' "${cq_args[@]}" >"$work/cq_args"
xargs -P "$jobs" -L 1 bash -c 'mapfile -t cq_args <"$work/cq_args"; one "$@"' _ <"$work/cases" >"$work/failures"
nfail=$(wc -l <"$work/failures")
if [ "$nfail" -ne 0 ]; then
    head -n 40 "$work/failures"
    echo "sweep: $nfail of $ncases fault cases failed"
    exit 1
fi
echo "sweep: $ncases fault cases (allocations every $cq_stride of cq and every $stride of the study, every output step of both; the study rerun with --resume): all exit 0, 3 or 5 as documented, no leak, no temporary or partial file, --resume identical"
