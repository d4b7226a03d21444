#!/bin/sh
# bench/gpu_check.sh — the GPU check: CPU-vs-GPU identity of the CLI results,
# the CUDA test suite, and benchmarks, in one run (< 8 minutes on an H200).
#
# Runs on a GPU machine that has the NVIDIA driver but no network and no
# package manager, FROM A BUNDLE built elsewhere by bench/make_gpu_bundle.sh
# (executables with an $ORIGIN run path and their shared libraries beside
# them). Needs only POSIX sh, sed, awk, grep, cmp (and timeout, nvidia-smi
# when present).
#
# Usage: bench/gpu_check.sh [BUNDLE_DIR]        (default: build-gpu)
#
# Steps, each recorded PASS, FAIL or SKIP in the summary at the end:
#   gpu        nvidia-smi; the CUDA backend opens (its device self-test
#              compares cuRAND's device API, the Philox header and the
#              epilogues with the host) on a small run
#   id:NAME    the same `cqboot cq` with --backend cuda and --backend cpu
#              (same seed, B = CQB_CHECK_B): the JSON from "results" to
#              "timing" (results, qtests and any later result arrays) must be
#              byte-identical; options, timing, backend, device and threads
#              are left out. Option sets cover the three quantile
#              conventions, a 9x9 grid with 12 lags, one and two controls,
#              independent cells, a fixed gamma and a 64-bit seed.
#   wid:NAME   the same `cqboot wlmc` / `cqboot wmc` with --backend cuda and
#              --backend cpu (B = CQB_CHECK_WB resampling replicates): the JSON
#              "levels" arrays (values, intervals, p_boot, p_fw, cv_fw) must
#              agree within 1e-12 (numbers compared as numbers, everything
#              else as text; the count of lines that are not byte-identical
#              is reported). Bootstrap, rotation, joint and phase schemes.
#   test_cuda  the Criterion suite's gpu and emu tests, when the bundle has it
#   test_wavelet_cuda  likewise for the wavelet kernels, when in the bundle
#   bench:*    bench_cq --backend cuda (W1, W2) at B = 1e5, bench_cq
#              --backend cpu at B = 1e4, then, while the time budget lasts,
#              --backend cuda at B = 1e6 (--reps 1; cut off at the budget +
#              60 s, which is then a SKIP)
#   bench:wavelet_*  bench_wavelet W3 (one WLMC; B = 1e4 bootstrap null on the
#              CPU and on the GPU) and W4 (one WLMC at T = 16,384, d = 8), when
#              the bundle has bench_wavelet
#
# Environment:
#   CQB_CHECK_B=100000           replicates of each identity check
#   CQB_CHECK_WB=2000            replicates of each wavelet identity check
#   CQB_BENCH_B=1000000          replicates of the large GPU benchmark (0: skip)
#   CQB_BENCH_SMALL_B=100000     replicates of the first GPU benchmark
#   CQB_BENCH_CPU_B=10000        replicates of the CPU benchmark
#   CQB_CHECK_BUDGET=420         seconds; later optional steps are skipped once
#                                this much time is spent
#   CQB_CHECK_ALLOW_CPU=1        no usable GPU: run everything with the CPU in
#                                place of the GPU (tests this script's
#                                mechanics; the summary says so)
#   CQB_CHECK_INJECT_MISMATCH=1  alter one value of the first identity check's
#                                GPU output: that check must FAIL
#   OUT                          directory for the logs and JSON (else a new
#                                directory under ${TMPDIR:-/tmp})
# Exit status: 0 when nothing FAILed, 1 otherwise, 2 on a usage error.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-build-gpu}
case "$DIR" in /*) ;; *) DIR="$ROOT/$DIR" ;; esac
B=${CQB_CHECK_B:-100000}
WB=${CQB_CHECK_WB:-2000}
BENCH_B=${CQB_BENCH_B:-1000000}
SMALL_B=${CQB_BENCH_SMALL_B:-100000}
CPU_B=${CQB_BENCH_CPU_B:-10000}
BUDGET=${CQB_CHECK_BUDGET:-420}
ALLOW_CPU=${CQB_CHECK_ALLOW_CPU:-0}
INJECT=${CQB_CHECK_INJECT_MISMATCH:-0}
if [ -n "${OUT:-}" ]; then
    LOGDIR="$OUT/gpu_check"
else
    LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
fi
mkdir -p "$LOGDIR" || exit 2
SUMMARY="$LOGDIR/summary.txt"
: >"$SUMMARY"
FAILS=0
START=$(date +%s)
TAB=$(printf '\t')

elapsed() { echo $(($(date +%s) - START)); }
say() { printf '%s\n' "$*"; }
# record STATUS NAME DETAIL
record() {
    printf '%-4s  %-22s %s\n' "$1" "$2" "$3" >>"$SUMMARY"
    printf '[%4ss] %-4s  %-22s %s\n' "$(elapsed)" "$1" "$2" "$3"
    if [ "$1" = FAIL ]; then FAILS=$((FAILS + 1)); fi
}
# run_t SECONDS CMD...: with a time limit when timeout(1) exists
if command -v timeout >/dev/null 2>&1; then
    run_t() {
        t=$1
        shift
        timeout "$t" "$@"
    }
else
    run_t() {
        shift
        "$@"
    }
fi
over_budget() { [ "$(elapsed)" -ge "$BUDGET" ]; }

say "== cqboot GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
say "   bundle $DIR; logs $LOGDIR; B = $B (identity), $BENCH_B (large benchmark)"

# ------------------------------------------------------------ the bundle --
for exe in cqboot bench_cq; do
    if [ ! -x "$DIR/$exe" ]; then
        say "gpu_check: $DIR/$exe is missing: build the bundle with bench/make_gpu_bundle.sh" >&2
        exit 2
    fi
done
[ -f "$DIR/BUNDLE.txt" ] && sed 's/^/   bundle: /' "$DIR/BUNDLE.txt"
LD_LIBRARY_PATH="$DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
CQ="$DIR/cqboot"
if command -v ldd >/dev/null 2>&1; then
    missing=$(ldd "$CQ" "$DIR/bench_cq" 2>&1 | grep "not found" | sort -u | tr '\n' ' ')
    if [ -n "$missing" ]; then
        record FAIL libraries "unresolved: $missing"
    else
        record PASS libraries "all shared libraries resolve ($(ldd "$CQ" | grep -c "$DIR") from the bundle)"
    fi
fi

# bench_cq and test_cuda read data through the source path they were built
# in; point it at this checkout when it differs.
SRC=$(sed -n 's/^source_dir=//p' "$DIR/BUNDLE.txt" 2>/dev/null)
if [ -n "$SRC" ] && [ ! -e "$SRC/data/us_china_monthly.csv" ]; then
    if mkdir -p "$(dirname "$SRC")" 2>/dev/null && ln -s "$ROOT" "$SRC" 2>/dev/null; then
        say "   linked $SRC -> $ROOT (the bundle's built-in data path)"
    else
        say "   note: the bundle's data path $SRC does not exist and cannot be linked; bench_cq may fail"
    fi
fi

# ------------------------------------------------------------------ GPU --
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi -L 2>&1 | sed 's/^/   /'
    nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu \
        --format=csv 2>&1 | sed 's/^/   /'
    GPUNAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
else
    say "   nvidia-smi: not found"
    GPUNAME="(nvidia-smi not found)"
fi

US="$ROOT/data/us_china_monthly.csv"
SR="$ROOT/tests/data/quantilogram_sys_risk.csv"
USARGS="--data $US --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff --transform IPB52300S=logdiff"
SRARGS="--data $SR --y JPM --x Market --transform JPM=logdiff"

GPUB=cuda
# shellcheck disable=SC2086
"$CQ" cq $USARGS --alpha 0.5 --lags 1 --boot 10 --no-qtests --quiet --backend cuda \
    --json "$LOGDIR/probe.json" >"$LOGDIR/probe.out" 2>"$LOGDIR/probe.err"
rc=$?
if [ $rc -eq 0 ]; then
    dev=$(sed -n 's/^[[:space:]]*"device":[[:space:]]*"\(.*\)",$/\1/p' "$LOGDIR/probe.json" | head -1)
    record PASS gpu "cuda backend opens, device self-test passed: $dev (nvidia-smi: $GPUNAME)"
else
    why=$(head -1 "$LOGDIR/probe.err")
    if [ "$ALLOW_CPU" = 1 ]; then
        record SKIP gpu "exit $rc: $why; CQB_CHECK_ALLOW_CPU=1: the CPU stands in for the GPU below"
        GPUB=cpu
    else
        record FAIL gpu "exit $rc: $why"
        GPUB=""
    fi
fi

# --------------------------------------------------------- identity ----
# extract FILE: the result part of a cqboot JSON (from "results" up to, not
# including, "timing"); cJSON prints one key per line with tab indents.
extract() {
    sed -n "/^${TAB}\"results\":/,/^${TAB}\"timing\":/p" "$1" | grep -v "^${TAB}\"timing\":"
}

NID=0
identity() { # NAME ARGS...
    name=$1
    shift
    NID=$((NID + 1))
    if [ -z "$GPUB" ]; then
        record SKIP "id:$name" "no GPU backend"
        return
    fi
    c="$LOGDIR/id_${name}_cpu.json"
    g="$LOGDIR/id_${name}_gpu.json"
    t0=$(date +%s)
    run_t 200 "$CQ" cq "$@" --boot "$B" --quiet --backend cpu --json "$c" >/dev/null 2>"$LOGDIR/id_${name}_cpu.err"
    rc1=$?
    t1=$(date +%s)
    run_t 200 "$CQ" cq "$@" --boot "$B" --quiet --backend "$GPUB" --json "$g" >/dev/null 2>"$LOGDIR/id_${name}_gpu.err"
    rc2=$?
    t2=$(date +%s)
    if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
        record FAIL "id:$name" "exit cpu $rc1, $GPUB $rc2: $(cat "$LOGDIR/id_${name}_cpu.err" "$LOGDIR/id_${name}_gpu.err" | head -2 | tr '\n' ' ')"
        return
    fi
    if [ "$INJECT" = 1 ] && [ $NID -eq 1 ]; then
        awk '!done && /"p_value":/ { sub(/"p_value":/, "\"p_value\":\t0.123456789 +"); done = 1 } { print }' "$g" >"$g.tmp" &&
            mv "$g.tmp" "$g"
    fi
    extract "$c" >"$c.res"
    extract "$g" >"$g.res"
    nres=$(grep -c '"rho":' "$c.res")
    nq=$(grep -c '"q_bp":' "$c.res")
    if [ "$nres" -eq 0 ]; then
        record FAIL "id:$name" "no results found in $c"
        return
    fi
    if [ "$GPUB" = cuda ] && ! grep -q "\"backend\":${TAB}\"cuda\"" "$g"; then
        record FAIL "id:$name" "the GPU run did not use the cuda backend"
        return
    fi
    if cmp -s "$c.res" "$g.res"; then
        record PASS "id:$name" "$nres cells, $nq Q tests identical (B = $B; cpu $((t1 - t0)) s, $GPUB $((t2 - t1)) s)"
    else
        first=$(cmp "$c.res" "$g.res" 2>&1 | head -1)
        ndiff=$( (diff "$c.res" "$g.res" 2>/dev/null || true) | grep -c '^<')
        record FAIL "id:$name" "results differ: $first; $ndiff lines; see $c.res and $g.res"
    fi
}

GRID9=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9
# shellcheck disable=SC2086
{
    identity r7_le $USARGS --alpha 0.1,0.5,0.9 --lags 1-3
    identity type1_lt $USARGS --alpha 0.1,0.5,0.9 --lags 1-3 --quantile type1_lt
    identity higher_lt_sub $USARGS --alpha 0.05,0.5,0.95 --lags 1-3 --quantile higher_lt_sub
    identity w1_grid_seed $USARGS --alpha $GRID9 --lags 1-12 --gamma 0.1 --seed 18446744073709551557 --level 0.9
    identity control1_indep $USARGS --control EPU_US:0.5 --transform EPU_US=logdiff --alpha 0.1,0.9 --lags 1-2 \
        --independent-cells
    identity control2_daily $SRARGS --control VIX:0.5 --control MS:0.3:1 --transform VIX=diff --transform MS=logdiff \
        --alpha 0.05,0.5 --lags 1-2
}

# ------------------------------------------------ wavelet identity ----
# wextract FILE: the "levels" array of a cqboot wavelet JSON (up to, not
# including, "timing")
wextract() {
    sed -n "/^${TAB}\"levels\":/,/^${TAB}\"timing\":/p" "$1" | grep -v "^${TAB}\"timing\":"
}
# wcompare A B: prints "ndiff_lines maxabs bad" comparing two extracts line by
# line: tokens that are numbers in both must agree within 1e-12, all other
# tokens must be equal; bad counts the violations
wcompare() {
    awk -v other="$2" '
        function isnum(s) { return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
        {
            if ((getline o < other) <= 0) { bad++; next }
            if ($0 == o) next
            nd++
            na = split($0, ta, /[][, \t:]+/)
            nb = split(o, tb, /[][, \t:]+/)
            if (na != nb) { bad++; next }
            for (i = 1; i <= na; ++i) {
                if (ta[i] == tb[i]) continue
                if (isnum(ta[i]) && isnum(tb[i])) {
                    e = ta[i] - tb[i]; if (e < 0) e = -e
                    if (e > mx) mx = e
                    if (e > 1e-12) bad++
                } else bad++
            }
        }
        END { if ((getline o < other) > 0) bad++; printf "%d %.3g %d\n", nd, mx, bad }' "$1"
}

wid() { # NAME COMMAND ARGS...
    name=$1
    shift
    if [ -z "$GPUB" ]; then
        record SKIP "wid:$name" "no GPU backend"
        return
    fi
    c="$LOGDIR/wid_${name}_cpu.json"
    g="$LOGDIR/wid_${name}_gpu.json"
    t0=$(date +%s)
    run_t 200 "$CQ" "$@" --boot "$WB" --quiet --backend cpu --json "$c" >/dev/null 2>"$LOGDIR/wid_${name}_cpu.err"
    rc1=$?
    t1=$(date +%s)
    run_t 200 "$CQ" "$@" --boot "$WB" --backend "$GPUB" --json "$g" >/dev/null 2>"$LOGDIR/wid_${name}_gpu.err"
    rc2=$?
    t2=$(date +%s)
    if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
        record FAIL "wid:$name" "exit cpu $rc1, $GPUB $rc2: $(cat "$LOGDIR/wid_${name}_cpu.err" "$LOGDIR/wid_${name}_gpu.err" | head -2 | tr '\n' ' ')"
        return
    fi
    if [ "$INJECT" = 1 ] && [ "$name" = wlmc_boot ]; then
        awk '!done && /"p_boot":/ { sub(/"p_boot":\t\[/, "\"p_boot\":\t[0.123456789, "); done = 1 } { print }' "$g" >"$g.tmp" &&
            mv "$g.tmp" "$g"
    fi
    wextract "$c" >"$c.res"
    wextract "$g" >"$g.res"
    nlev=$(grep -c '"level":' "$c.res")
    if [ "$nlev" -eq 0 ]; then
        record FAIL "wid:$name" "no levels found in $c"
        return
    fi
    if [ "$GPUB" = cuda ] && ! grep -q "\"backend\":${TAB}\"cuda\"" "$g"; then
        record FAIL "wid:$name" "the replicates did not run on the cuda backend: $(head -1 "$LOGDIR/wid_${name}_gpu.err")"
        return
    fi
    set -- $(wcompare "$c.res" "$g.res")
    if [ "$3" -eq 0 ]; then
        record PASS "wid:$name" "$nlev levels agree within 1e-12 (B = $WB; $1 lines not byte-identical, max |diff| $2; cpu $((t1 - t0)) s, $GPUB $((t2 - t1)) s)"
    else
        record FAIL "wid:$name" "$3 values differ by more than 1e-12 or in text (max |diff| $2); see $c.res and $g.res"
    fi
}

W3ARGS="--data $US --cols IPB52300S,GPRC_CHN,GPR,EPU_US --transform IPB52300S=logdiff --transform GPRC_CHN=logdiff \
--transform GPR=logdiff --from 1996-01 --to 2023-12 --levels 4"
# shellcheck disable=SC2086
{
    wid wlmc_boot wlmc $W3ARGS --M 24 --null bootstrap
    wid wlmc_rot_corr wlmc $W3ARGS --M 12 --window uniform --mode corrected --boundary reflection --null rotation \
        --seed 18446744073709551557
    wid wlmc_phase wlmc $W3ARGS --M 24 --window epanechnikov --null phase
    wid wmc_joint wmc $W3ARGS --null joint --gamma 0.1 --level 0.9
    wid wmc_boot_ymaxr wmc $W3ARGS --null bootstrap --ymaxr EPU_US --levels 5
}

# --------------------------------------------------------- test suite --
if [ -x "$DIR/test_cuda" ]; then
    if over_budget; then
        record SKIP test_cuda "time budget spent"
    else
        ok=1
        detail=""
        for f in 'gpu/*' 'emu/*'; do
            run_t 240 "$DIR/test_cuda" --jobs 1 --verbose --filter "$f" >"$LOGDIR/test_cuda_${f%/*}.log" 2>&1 || ok=0
            syn=$(grep 'Synthesis' "$LOGDIR/test_cuda_${f%/*}.log" | sed 's/.*Synthesis: //' | tail -1)
            nskip=$(grep '^\[SKIP\]' "$LOGDIR/test_cuda_${f%/*}.log" | grep -vc 'Test is disabled')
            why=$(grep '^\[SKIP\]' "$LOGDIR/test_cuda_${f%/*}.log" | grep -v 'Test is disabled' | head -1 |
                sed 's/^[^:]*::[^:]*: //')
            detail="$detail ${f%/*}: ${syn:-no result}, skipped $nskip${why:+ ($why)};"
        done
        if [ $ok -eq 1 ]; then record PASS test_cuda "$detail"; else record FAIL test_cuda "$detail see $LOGDIR/test_cuda_*.log"; fi
    fi
else
    record SKIP test_cuda "not in the bundle (Criterion was not installed where it was built)"
fi
if [ -x "$DIR/test_wavelet_cuda" ]; then
    if over_budget; then
        record SKIP test_wavelet_cuda "time budget spent"
    else
        ok=1
        detail=""
        for f in 'gpu/*' 'emu/*'; do
            log="$LOGDIR/test_wavelet_cuda_${f%/*}.log"
            run_t 240 "$DIR/test_wavelet_cuda" --jobs 1 --verbose --filter "$f" >"$log" 2>&1 || ok=0
            syn=$(grep 'Synthesis' "$log" | sed 's/.*Synthesis: //' | tail -1)
            nskip=$(grep '^\[SKIP\]' "$log" | grep -vc 'Test is disabled')
            why=$(grep '^\[SKIP\]' "$log" | grep -v 'Test is disabled' | head -1 | sed 's/^[^:]*::[^:]*: //')
            detail="$detail ${f%/*}: ${syn:-no result}, skipped $nskip${why:+ ($why)};"
        done
        if [ $ok -eq 1 ]; then record PASS test_wavelet_cuda "$detail"; else record FAIL test_wavelet_cuda "$detail see $LOGDIR/test_wavelet_cuda_*.log"; fi
    fi
else
    record SKIP test_wavelet_cuda "not in the bundle (add it to bench/make_gpu_bundle.sh)"
fi

# ---------------------------------------------------------- benchmarks --
bench() { # NAME SECONDS OPTIONAL ARGS... (OPTIONAL=1: a timeout is a SKIP)
    name=$1
    secs=$2
    optional=$3
    shift 3
    log="$LOGDIR/bench_$name.log"
    run_t "$secs" "$DIR/bench_cq" "$@" >"$log" 2>&1
    rc=$?
    res=$(grep '^RESULT' "$log" | awk '{
        w = ""; r = ""; c = ""; t = "";
        for (i = 2; i <= NF; ++i) {
            split($i, kv, "=");
            if (kv[1] == "workload") w = kv[2];
            if (kv[1] == "rep_per_s") r = kv[2];
            if (kv[1] == "repcells_per_s") c = kv[2];
            if (kv[1] == "wall_s") t = kv[2];
        }
        printf "%s %.3g rep/s %.3g cells/s (%ss); ", w, r, c, t }')
    if [ $rc -eq 0 ] && [ -n "$res" ]; then
        record PASS "bench:$name" "$res"
    elif [ $rc -eq 124 ] && [ "$optional" = 1 ]; then
        record SKIP "bench:$name" "stopped after $secs s (time budget); $res see $log"
    elif [ $rc -eq 124 ]; then
        record FAIL "bench:$name" "timed out after $secs s; $res see $log"
    else
        record FAIL "bench:$name" "exit $rc; $res $(grep -m1 'error' "$log")"
    fi
}

if [ -n "$GPUB" ]; then
    bench gpu_small 150 0 --backend "$GPUB" --boot "$SMALL_B" --reps 3
else
    record SKIP bench:gpu "no GPU backend"
fi
bench cpu 150 0 --backend cpu --boot "$CPU_B" --reps 3
if [ -n "$GPUB" ] && [ "$BENCH_B" -gt 0 ] 2>/dev/null; then
    for w in W1 W2; do
        if over_budget; then
            record SKIP "bench:gpu_${w}_big" "time budget spent (B = $BENCH_B)"
        else
            bench "gpu_${w}_big" $((BUDGET + 60 - $(elapsed))) 1 --backend "$GPUB" --boot "$BENCH_B" --reps 1 --only "$w"
        fi
    done
fi

# wavelet benchmarks: W3 (B = 1e4 on the CPU and the GPU) and W4
if [ -x "$DIR/bench_wavelet" ]; then
    for w in W3 W4; do
        log="$LOGDIR/bench_wavelet_$w.log"
        if over_budget; then
            record SKIP "bench:wavelet_$w" "time budget spent"
            continue
        fi
        run_t 180 "$DIR/bench_wavelet" --only "$w" --backend "${GPUB:-cpu}" >"$log" 2>&1
        rc=$?
        res=$(grep '^RESULT' "$log" | sed 's/^RESULT //')
        if [ $rc -eq 0 ] && [ -n "$res" ]; then
            record PASS "bench:wavelet_$w" "$res"
        else
            record FAIL "bench:wavelet_$w" "exit $rc; $res $(grep -m1 'error' "$log")"
        fi
    done
else
    record SKIP bench:wavelet "bench_wavelet not in the bundle (add it to bench/make_gpu_bundle.sh)"
fi

# -------------------------------------------------------------- summary --
say ""
say "== summary ($(elapsed) s; GPU: $GPUNAME; backend compared with the CPU: ${GPUB:-none})"
[ "$GPUB" = cpu ] && say "   NOTE: CQB_CHECK_ALLOW_CPU=1 and no GPU: the CPU stood in for the GPU (mechanics only)"
[ "$INJECT" = 1 ] && say "   NOTE: CQB_CHECK_INJECT_MISMATCH=1: the first identity check was altered and must FAIL"
cat "$SUMMARY"
if [ $FAILS -eq 0 ]; then
    say "RESULT: PASS"
    exit 0
fi
say "RESULT: FAIL ($FAILS failed)"
exit 1
