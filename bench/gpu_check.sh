#!/bin/sh
# bench/gpu_check.sh — the GPU check: CPU-vs-GPU identity of every device
# path through the CLI, the CUDA test suites, and the W1-W4 benchmarks with
# the CPU measured in the same run; one summary table at the end. Under 8
# minutes on an H200 even when a step hangs (hard limit CQB_CHECK_TOTAL).
# docs/gpu.md says how to run it on a lent machine and what to expect.
#
# Runs on a GPU machine that has the NVIDIA driver but no network and no
# package manager, FROM A BUNDLE built elsewhere by bench/make_gpu_bundle.sh
# (executables with an $ORIGIN run path and their shared libraries beside
# them). Needs only POSIX sh, sed, awk, grep, cmp, date (and timeout, tar,
# nvidia-smi when present; no Python, no Criterion outside the bundle).
#
# Usage: bench/gpu_check.sh [BUNDLE_DIR]        (default: build-gpu)
#
# Steps, each recorded PASS, FAIL or SKIP:
#   gpu        nvidia-smi; the CUDA backend opens (its device self-test
#              compares cuRAND's device API, the Philox header and the
#              epilogues with the host) on a small run
#   id:NAME    `cqboot cq` with --backend cuda and --backend cpu, same seed,
#              B = CQB_CHECK_B (1e5): the whole JSON must be byte-identical
#              once the keys that name the run (timing, backend, device,
#              threads, wait_policy, json, csv) are dropped. Covers the CQ plan
#              kernel and the device reduction (derive, range, count, collect;
#              the device always reduces in two passes): bands, p-values, Q
#              tests, the three quantile conventions, a 9x9 grid x 12 lags
#              with a fixed gamma and a 64-bit seed, one and two controls,
#              independent cells, --gridwide (sup-Q; Romano-Wolf goes through
#              the backend's `run`: statistics copied back), and --mem-limit 1
#              (the host selection forced into its exact two-pass mode for
#              every plan, against the device's two passes). The calibrated
#              test's p_null keys, where this cqboot writes them, are compared
#              too (computed on the host for both backends; counted in the
#              detail); with --null-scheme sb as an extra set when offered.
#   wid:NAME   `cqboot wlmc` / `cqboot wmc` --boot CQB_CHECK_WB with --backend
#              cuda and --backend cpu, compared as id: byte for byte for the
#              bootstrap, rotation and joint schemes; the phase scheme within
#              an absolute 1e-9 per number (its random phases go through the
#              device's cos/sin, 2 ulp, against glibc's: rounding-level
#              differences are expected there and reported).
#   test_cuda, test_wavelet_cuda   the Criterion suites' gpu/* tests when the
#              bundle carries them; their emu/* tests (CPU emulation, also run
#              by ctest where the bundle is built) while the budget lasts
#   W1, W2     bench_cq at B = CQB_BENCH_SMALL_B on the GPU and B =
#              CQB_BENCH_CPU_B on the CPU (all cores), --reps 3; then, while
#              the budget lasts, the GPU at B = CQB_BENCH_B (--reps 1, SKIP
#              when cut off)
#   W3         bench_wavelet W3: B = CQB_BENCH_W3_B bootstrap-null replicates
#              of one WLMC (T = 335, d = 4) on the CPU (all cores) and the GPU
#   W4         bench_wavelet W4 (T = 16,384, d = 8, J = 8): CQB_BENCH_W4_B
#              replicates on the CPU (all cores) and on the GPU
#
# Environment:
#   CQB_CHECK_B=100000           replicates of each CQ identity check
#   CQB_CHECK_WB=2000            replicates of each wavelet identity check
#   CQB_BENCH_SMALL_B=100000     GPU replicates of W1/W2
#   CQB_BENCH_CPU_B=10000        CPU replicates of W1/W2
#   CQB_BENCH_B=1000000          GPU replicates of the optional large W1/W2 runs (0: none)
#   CQB_BENCH_W3_B=10000         W3 replicates (both backends)
#   CQB_BENCH_W4_B=32            W4 replicates (both backends)
#   CQB_CHECK_TOTAL=450          hard limit in seconds for the whole script:
#                                every step's timeout is cut to what is left
#                                (less 10 s for the summary); a required step
#                                left without time is a FAIL
#   CQB_CHECK_BUDGET=300         optional steps (emu tests, large benchmarks)
#                                start only before this many seconds
#   CQB_CHECK_ONLY="id wid test bench"  the step groups to run (a rerun of
#                                one group fits the rest of a device lease)
#   CQB_CHECK_ALLOW_CPU=1        no usable GPU: the CPU stands in for the GPU
#                                (tests this script's mechanics; the summary
#                                says so, and the device-only steps SKIP)
#   CQB_CHECK_INJECT_MISMATCH=1  alter one number of the first CQ and of the
#                                first wavelet identity check's GPU output:
#                                both must FAIL
#   CQB_CHECK_INJECT_HANG=1      the GPU side of the first CQ identity check
#                                hangs (sleep): it must FAIL by its timeout and
#                                the script still end within CQB_CHECK_TOTAL
#   CQB_CHECK_NO_TIMEOUT=1       use the script's own watchdog in place of
#                                timeout(1) (for machines without it; tests it)
#   OUT                          the logs go to $OUT/gpu_check: summary.txt
#                                (written as the steps end) and, at exit,
#                                logs.tar.gz with every log and JSON (two
#                                files, one folder deep). Without OUT, a new
#                                directory under ${TMPDIR:-/tmp}.
# Exit status: 0 when every step passed (SKIPs of optional or device-only
# steps allowed), 1 otherwise, 2 on a usage error.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-build-gpu}
case "$DIR" in /*) ;; *) DIR="$ROOT/$DIR" ;; esac
B=${CQB_CHECK_B:-100000}
WB=${CQB_CHECK_WB:-2000}
SMALL_B=${CQB_BENCH_SMALL_B:-100000}
CPU_B=${CQB_BENCH_CPU_B:-10000}
BENCH_B=${CQB_BENCH_B:-1000000}
W3B=${CQB_BENCH_W3_B:-10000}
W4B=${CQB_BENCH_W4_B:-32}
TOTAL=${CQB_CHECK_TOTAL:-450}
BUDGET=${CQB_CHECK_BUDGET:-300}
ONLY=${CQB_CHECK_ONLY:-id wid test bench}
ALLOW_CPU=${CQB_CHECK_ALLOW_CPU:-0}
INJECT=${CQB_CHECK_INJECT_MISMATCH:-0}
HANG=${CQB_CHECK_INJECT_HANG:-0}
RESERVE=10
START=$(date +%s)
TAB=$(printf '\t')

if [ -n "${OUT:-}" ]; then
    OUTDIR="$OUT/gpu_check"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX") || exit 2
else
    OUTDIR=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX") || exit 2
    WORK="$OUTDIR"
fi
mkdir -p "$OUTDIR" || exit 2
SUMMARY="$OUTDIR/summary.txt"
REC="$WORK/records.txt"
PERF="$WORK/perf.txt"
: >"$SUMMARY"
: >"$REC"
: >"$PERF"
FAILS=0

elapsed() { echo $(($(date +%s) - START)); }
left() { echo $((TOTAL - RESERVE - $(elapsed))); }
say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
over_budget() { [ "$(elapsed)" -ge "$BUDGET" ]; }
# record STATUS NAME DETAIL
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$REC"
    printf '[%4ss] %-4s  %-24s %s\n' "$(elapsed)" "$1" "$2" "$3" | tee -a "$SUMMARY"
    if [ "$1" = FAIL ]; then FAILS=$((FAILS + 1)); fi
}

# run_t SECONDS CMD...: CMD with a time limit of SECONDS, cut to what is left
# of CQB_CHECK_TOTAL; status 124 (or 137) when it timed out, 125 when no time
# was left to start it
if command -v timeout >/dev/null 2>&1 && [ "${CQB_CHECK_NO_TIMEOUT:-0}" != 1 ]; then HAVE_TIMEOUT=1; else HAVE_TIMEOUT=0; fi
run_t() {
    t=$1
    shift
    l=$(left)
    [ "$t" -gt "$l" ] && t=$l
    [ "$t" -le 0 ] && return 125
    if [ $HAVE_TIMEOUT = 1 ]; then
        timeout -k 5 "$t" "$@"
        return $?
    fi
    "$@" &
    rt_pid=$!
    (
        sleep "$t"
        kill -TERM "$rt_pid" 2>/dev/null
        sleep 5
        kill -KILL "$rt_pid" 2>/dev/null
    ) >/dev/null 2>&1 &
    rt_dog=$!
    wait "$rt_pid"
    rt_rc=$?
    kill "$rt_dog" 2>/dev/null
    [ $rt_rc -eq 143 ] && rt_rc=124
    return $rt_rc
}
timed_out() { [ "$1" -eq 124 ] || [ "$1" -eq 137 ] || [ "$1" -eq 125 ]; }
why_rc() {
    case $1 in
    124 | 137) echo "timed out" ;;
    125) echo "not run: no time left (CQB_CHECK_TOTAL $TOTAL s)" ;;
    *) echo "exit $1" ;;
    esac
}

# logs.tar.gz at exit (also when killed), so that $OUT/gpu_check holds two files
pack() {
    trap - EXIT INT TERM
    if [ "$WORK" != "$OUTDIR" ]; then
        if command -v tar >/dev/null 2>&1; then
            (cd "$WORK" && tar czf "$OUTDIR/logs.tar.gz" .) 2>/dev/null
        else
            for f in "$WORK"/*; do
                printf '==> %s <==\n' "${f##*/}"
                cat "$f"
            done >"$OUTDIR/logs.txt" 2>/dev/null
        fi
        rm -rf "$WORK"
    fi
}
trap pack EXIT
trap 'say "gpu_check: interrupted at $(elapsed) s"; exit 1' INT TERM

say "== cqboot GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
say "   bundle $DIR; logs $OUTDIR; CQ identity B = $B, wavelet identity B = $WB; hard limit $TOTAL s"

# ------------------------------------------------------------ the bundle --
for exe in cqboot bench_cq; do
    if [ ! -x "$DIR/$exe" ]; then
        say "gpu_check: $DIR/$exe is missing: build the bundle with bench/make_gpu_bundle.sh" >&2
        exit 2
    fi
done
[ -f "$DIR/BUNDLE.txt" ] && sed 's/^/   bundle: /' "$DIR/BUNDLE.txt" | tee -a "$SUMMARY"
LD_LIBRARY_PATH="$DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
CQ="$DIR/cqboot"
if command -v ldd >/dev/null 2>&1; then
    missing=$(for e in "$DIR"/cqboot "$DIR"/bench_* "$DIR"/test_* "$DIR"/*.so*; do [ -f "$e" ] && ldd "$e" 2>&1; done |
        grep "not found" | sort -u | tr '\n' ' ')
    if [ -n "$missing" ]; then
        record FAIL libraries "unresolved: $missing"
    else
        record PASS libraries "all shared libraries resolve ($(ldd "$CQ" | grep -c "$DIR") of cqboot's from the bundle)"
    fi
fi

# bench_cq, bench_wavelet and the tests read data through the source path
# they were built in; point it at this checkout when it differs.
SRC=$(sed -n 's/^source_dir=//p' "$DIR/BUNDLE.txt" 2>/dev/null)
if [ -n "$SRC" ] && [ ! -e "$SRC/data/us_china_monthly.csv" ]; then
    if mkdir -p "$(dirname "$SRC")" 2>/dev/null && ln -s "$ROOT" "$SRC" 2>/dev/null; then
        say "   linked $SRC -> $ROOT (the bundle's built-in data path)"
    else
        say "   note: the bundle's data path $SRC does not exist and cannot be linked; the benchmarks may fail"
    fi
fi

# ------------------------------------------------------------------ GPU --
GPUNAME="(nvidia-smi not found)"
DRIVER="?"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi -L 2>&1 | sed 's/^/   /' | tee -a "$SUMMARY"
    nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu \
        --format=csv 2>&1 | sed 's/^/   /' | tee -a "$SUMMARY"
    GPUNAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
    DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
fi

US="$ROOT/data/us_china_monthly.csv"
SR="$ROOT/tests/data/quantilogram_sys_risk.csv"
USARGS="--data $US --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff --transform IPB52300S=logdiff"
SRARGS="--data $SR --y JPM --x Market --transform JPM=logdiff"

GPUB=cuda
# shellcheck disable=SC2086
run_t 60 "$CQ" cq $USARGS --alpha 0.5 --lags 1 --boot 10 --no-qtests --quiet --backend cuda \
    --json "$WORK/probe.json" >"$WORK/probe.out" 2>"$WORK/probe.err"
rc=$?
if [ $rc -eq 0 ]; then
    dev=$(sed -n 's/^[[:space:]]*"device":[[:space:]]*"\(.*\)",*$/\1/p' "$WORK/probe.json" | head -1)
    record PASS gpu "cuda backend opens, device self-test passed: $dev (nvidia-smi: $GPUNAME, driver $DRIVER)"
else
    why="$(why_rc $rc): $(head -1 "$WORK/probe.err")"
    if [ "$ALLOW_CPU" = 1 ]; then
        record SKIP gpu "$why; CQB_CHECK_ALLOW_CPU=1: the CPU stands in for the GPU below"
        GPUB=cpu
    else
        record FAIL gpu "$why"
        GPUB=""
    fi
fi

# ------------------------------------------------------- comparison --
# strip FILE: the JSON without the keys that name the run rather than its
# results. cJSON prints one key per line with tab indents and closes an
# object or array on a line of its own at the key's indent.
strip() {
    awk -v tab="$TAB" '
        skip {
            if (index($0, ind) == 1 && substr($0, length(ind) + 1, 1) != tab) skip = 0
            next
        }
        {
            line = $0; n = 0
            while (substr(line, n + 1, 1) == tab) n++
            key = substr(line, n + 1)
            if (key ~ /^"(timing|backend|device|threads|wait_policy|json|csv|elapsed_s)":/) {
                if (key ~ /[[{]$/) { ind = substr(line, 1, n); skip = 1 }
                next
            }
            print
        }' "$1"
}
# ncompare A B TOL: prints "ndiff_lines maxabs bad" comparing two stripped
# files line by line: tokens that are numbers in both must agree within TOL,
# all other tokens must be equal; bad counts the violations
ncompare() {
    awk -v other="$2" -v tol="$3" '
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
                    if (e > tol) bad++
                } else bad++
            }
        }
        END { if ((getline o < other) > 0) bad++; printf "%d %.3g %d\n", nd, mx, bad }' "$1"
}
# inject FILE KEY: alters the first number after "KEY": in FILE
inject() {
    awk -v k="\"$2\":" '!done && index($0, k) { sub(/[0-9]/, "7&"); done = 1 } { print }' "$1" >"$1.tmp" &&
        mv "$1.tmp" "$1"
}

# pair KIND NAME TOL COMMAND ARGS...: runs the command on the CPU and on the
# GPU backend and compares the stripped JSON (TOL 0: byte for byte)
NPAIR=0
pair() {
    kind=$1
    name=$2
    tol=$3
    shift 3
    NPAIR=$((NPAIR + 1))
    tag="$kind:$name"
    if [ -z "$GPUB" ]; then
        record FAIL "$tag" "no GPU backend"
        return
    fi
    c="$WORK/${kind}_${name}_cpu.json"
    g="$WORK/${kind}_${name}_gpu.json"
    t0=$(date +%s)
    run_t 90 "$CQ" "$@" --quiet --backend cpu --json "$c" >/dev/null 2>"$WORK/${kind}_${name}_cpu.err"
    rc1=$?
    t1=$(date +%s)
    if [ "$HANG" = 1 ] && [ $NPAIR -eq 1 ]; then
        run_t 90 sleep 100000
    else
        run_t 90 "$CQ" "$@" --backend "$GPUB" --json "$g" >/dev/null 2>"$WORK/${kind}_${name}_gpu.err"
    fi
    rc2=$?
    t2=$(date +%s)
    if [ $rc1 -eq 125 ]; then
        record FAIL "$tag" "$(why_rc 125)"
        return
    fi
    if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
        record FAIL "$tag" "cpu $(why_rc $rc1), $GPUB $(why_rc $rc2): $(cat "$WORK/${kind}_${name}_cpu.err" \
            "$WORK/${kind}_${name}_gpu.err" 2>/dev/null | head -2 | tr '\n' ' ')"
        return
    fi
    if [ "$GPUB" = cuda ] && ! grep -q "\"backend\":${TAB}\"cuda\"" "$g"; then
        record FAIL "$tag" "the GPU run did not use the cuda backend: $(head -1 "$WORK/${kind}_${name}_gpu.err")"
        return
    fi
    if [ "$INJECT" = 1 ]; then
        case "$kind:$NPAIR:$NWID" in id:1:* | wid:*:1) inject "$g" "$([ "$kind" = id ] && echo p_value || echo p_boot)" ;; esac
    fi
    strip "$c" >"$c.res"
    strip "$g" >"$g.res"
    nl=$(wc -l <"$c.res" | tr -d ' ')
    if [ "$kind" = id ]; then
        what="$(grep -c '"rho":' "$c.res") cells, $(grep -c '"q_bp":' "$c.res") Q tests"
        np=$(grep -c '"p_null' "$c.res")
        [ "$np" -gt 0 ] && what="$what, $np p_null keys"
    else
        what="$(grep -c '"level":' "$c.res") levels"
    fi
    tm="cpu $((t1 - t0)) s, $GPUB $((t2 - t1)) s"
    if [ "$nl" -lt 5 ]; then
        record FAIL "$tag" "no results in $c"
    elif [ "$tol" = 0 ]; then
        if cmp -s "$c.res" "$g.res"; then
            record PASS "$tag" "$what byte-identical ($nl lines; $tm)"
        else
            first=$(cmp "$c.res" "$g.res" 2>&1 | head -1 | sed "s|$WORK/||g")
            nd=$( (diff "$c.res" "$g.res" 2>/dev/null || true) | grep -c '^<')
            record FAIL "$tag" "results differ: $first; $nd lines (${c##*/}.res, ${g##*/}.res in the logs)"
        fi
    else
        # shellcheck disable=SC2046
        set -- $(ncompare "$c.res" "$g.res" "$tol")
        if [ "$3" -eq 0 ]; then
            record PASS "$tag" "$what within $tol ($1 of $nl lines not byte-identical, max |diff| $2; $tm)"
        else
            record FAIL "$tag" "$3 numbers differ by more than $tol or in text (max |diff| $2)"
        fi
    fi
}
NWID=0
identity() {
    n=$1
    shift
    pair id "$n" 0 cq "$@" --boot "$B"
}
wid() {
    NWID=$((NWID + 1))
    n=$1
    t=$2
    shift 2
    pair wid "$n" "$t" "$@" --boot "$WB"
}

GRID9=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9
if want id; then
    # shellcheck disable=SC2086
    {
        identity r7_le $USARGS --alpha 0.1,0.5,0.9 --lags 1-3
        identity type1_lt $USARGS --alpha 0.1,0.5,0.9 --lags 1-3 --quantile type1_lt
        identity higher_lt_sub $USARGS --alpha 0.05,0.5,0.95 --lags 1-3 --quantile higher_lt_sub
        identity w1_grid_seed $USARGS --alpha $GRID9 --lags 1-12 --gamma 0.1 --seed 18446744073709551557 --level 0.9
        identity twopass_mem1 $USARGS --alpha 0.1,0.3,0.5,0.7,0.9 --lags 1-4 --mem-limit 1 --quantile type1_lt
        identity gridwide $USARGS --alpha 0.1,0.5,0.9 --lags 1-4 --gridwide --gamma 0.1
        identity control1_indep $USARGS --control EPU_US:0.5 --transform EPU_US=logdiff --alpha 0.1,0.9 --lags 1-2 \
            --independent-cells
        identity control2_daily $SRARGS --control VIX:0.5 --control MS:0.3:1 --transform VIX=diff \
            --transform MS=logdiff --alpha 0.05,0.5 --lags 1-2 --quantile higher_lt_sub
        if "$CQ" cq --help 2>/dev/null | grep -q -- '--null-scheme'; then
            identity null_sb $USARGS --alpha 0.1,0.5,0.9 --lags 1-3 --null-scheme sb --mem-limit 1
        fi
    }
fi

# ------------------------------------------------ wavelet identity ----
W3ARGS="--data $US --cols IPB52300S,GPRC_CHN,GPR,EPU_US --transform IPB52300S=logdiff --transform GPRC_CHN=logdiff \
--transform GPR=logdiff --from 1996-01 --to 2023-12 --levels 4"
if want wid; then
    # shellcheck disable=SC2086
    {
        wid wlmc_boot 0 wlmc $W3ARGS --M 24 --null bootstrap
        wid wlmc_rot_corr 0 wlmc $W3ARGS --M 12 --window uniform --mode corrected --boundary reflection \
            --null rotation --seed 18446744073709551557
        wid wlmc_phase 1e-9 wlmc $W3ARGS --M 24 --window epanechnikov --null phase
        wid wmc_joint 0 wmc $W3ARGS --null joint --gamma 0.1 --level 0.9
        wid wmc_boot_ymaxr 0 wmc $W3ARGS --null bootstrap --ymaxr EPU_US --levels 5
        wid wmc_phase 1e-9 wmc $W3ARGS --null phase --levels 5
    }
fi

# --------------------------------------------------------- test suites --
suite() { # EXE FILTER OPTIONAL
    exe=$1
    f=$2
    opt=$3
    tag="$exe:${f%/*}"
    log="$WORK/${exe}_${f%/*}.log"
    if [ ! -x "$DIR/$exe" ]; then
        record SKIP "$tag" "not in the bundle (Criterion was not installed where it was built)"
        return
    fi
    if [ "$GPUB" != cuda ] && [ "${f%/*}" = gpu ]; then
        record SKIP "$tag" "no GPU"
        return
    fi
    if [ "$opt" = 1 ] && over_budget; then
        record SKIP "$tag" "time budget spent"
        return
    fi
    run_t 150 "$DIR/$exe" --jobs 1 --verbose --filter "$f" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 125 ]; then
        record "$([ "$opt" = 1 ] && echo SKIP || echo FAIL)" "$tag" "$(why_rc 125)"
        return
    fi
    syn=$(grep 'Synthesis' "$log" | sed 's/.*Synthesis: //' | tail -1)
    nskip=$(grep '^\[SKIP\]' "$log" | grep -vc 'Test is disabled')
    why=$(grep '^\[SKIP\]' "$log" | grep -v 'Test is disabled' | head -1 | sed 's/^[^:]*::[^:]*: //')
    detail="${syn:-no result}, skipped $nskip${why:+ ($why)}"
    if [ $rc -eq 0 ]; then
        record PASS "$tag" "$detail"
    elif [ "$opt" = 1 ] && timed_out $rc; then
        record SKIP "$tag" "$(why_rc $rc); $detail"
    else
        record FAIL "$tag" "$(why_rc $rc); $detail"
    fi
}
if want test; then
    suite test_cuda 'gpu/*' 0
    suite test_wavelet_cuda 'gpu/*' 0
fi

# ---------------------------------------------------------- benchmarks --
# perf lines: WORKLOAD SIDE REP_PER_S CELLS_PER_S B NOTE
perf() { printf '%s %s %s %s %s %s\n' "$@" >>"$PERF"; }
bench_cq() { # NAME SECONDS OPTIONAL SIDE ARGS...
    name=$1
    secs=$2
    optional=$3
    side=$4
    shift 4
    log="$WORK/bench_$name.log"
    run_t "$secs" "$DIR/bench_cq" "$@" >"$log" 2>&1
    rc=$?
    res=$(grep '^RESULT' "$log" | awk '{
        w = ""; r = ""; c = ""; t = ""; b = "";
        for (i = 2; i <= NF; ++i) {
            split($i, kv, "=");
            if (kv[1] == "workload") w = kv[2];
            if (kv[1] == "rep_per_s") r = kv[2];
            if (kv[1] == "repcells_per_s") c = kv[2];
            if (kv[1] == "wall_s") t = kv[2];
            if (kv[1] == "B") b = kv[2];
        }
        printf "%s %s %s %s %s\n", w, r, c, t, b }')
    if [ $rc -eq 0 ] && grep -q 'DIFFERS between reps' "$log"; then
        record FAIL "bench:$name" "the checksum of the results differs between repetitions (see bench_$name.log)"
    elif [ $rc -eq 0 ] && [ -n "$res" ]; then
        echo "$res" | while read -r w r c t b; do perf "$w" "$side" "$r" "$c" "$b" "${name}"; done
        record PASS "bench:$name" "$(echo "$res" | awk '{ printf "%s %.3g rep/s %.3g cells/s (%ss, B = %s); ", $1, $2, $3, $4, $5 }')"
    elif timed_out $rc && [ "$optional" = 1 ]; then
        record SKIP "bench:$name" "$(why_rc $rc) after $secs s (time budget)"
    else
        record FAIL "bench:$name" "$(why_rc $rc); $(grep -m1 -i 'error' "$log")"
    fi
}
# kv LINE KEY: the value of KEY=... in a RESULT line
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
bench_w() { # W SIDE-ARGS...
    w=$1
    shift
    log="$WORK/bench_wavelet_$w.log"
    if [ ! -x "$DIR/bench_wavelet" ]; then
        record FAIL "bench:$w" "bench_wavelet not in the bundle"
        return
    fi
    run_t 150 "$DIR/bench_wavelet" --only "$w" --backend "$GPUB" "$@" >"$log" 2>&1
    rc=$?
    res=$(grep "^RESULT workload=$w" "$log" | sed 's/^RESULT //')
    if [ $rc -ne 0 ] || [ -z "$res" ]; then
        record FAIL "bench:$w" "$(why_rc $rc); $(grep -m1 -i 'error' "$log")"
        return
    fi
    if [ "$w" = W3 ]; then
        nb=$(kv "$res" B)
        tc=$(kv "$res" boot_cpu_s)
        td=$(kv "$res" boot_dev_s)
        detail="B = $nb: cpu $tc s ($(kv "$res" threads) threads), $GPUB ${td} s; one WLMC $(kv "$res" eval_ms) ms"
        if grep -q 'DIFFER from' "$log"; then
            record FAIL "bench:$w" "GPU null differs from the CPU's: $(grep -m1 'DIFFER' "$log" | sed 's/^ *//')"
            return
        fi
    else
        nb=$(kv "$res" B4)
        [ -n "$nb" ] || nb=1
        tc=$(kv "$res" boot4_cpu_s)
        td=$(kv "$res" boot4_dev_s)
        [ -n "$tc" ] || tc=$(kv "$res" rep_cpu_s)
        [ -n "$td" ] || td=$(kv "$res" rep_dev_s)
        detail="B = $nb: cpu $tc s ($(kv "$res" threads4) threads), $GPUB ${td} s; max |diff| $(kv "$res" maxdiff)"
        nbit=$(kv "$res" notbitid)
        if [ "$(kv "$res" backend)" = cuda ] && { [ "${nbit:-0}" != 0 ] || [ "$(kv "$res" maxdiff)" != 0 ]; }; then
            record FAIL "bench:$w" "$nbit device values not bit-identical to the CPU's (bootstrap null); $detail"
            return
        fi
    fi
    perf "$w" cpu "$(awk -v b="$nb" -v t="$tc" 'BEGIN { if (t > 0) printf "%.6g", b / t; else print "na" }')" na "$nb" bench
    case "$td" in
    na | NA | "" | -*) ;;
    *) perf "$w" gpu "$(awk -v b="$nb" -v t="$td" 'BEGIN { if (t > 0) printf "%.6g", b / t; else print "na" }')" na "$nb" bench ;;
    esac
    record PASS "bench:$w" "$detail"
}

if want bench; then
    # one workload per process (--only: other default workloads stay out)
    for w in W1 W2; do
        if [ -n "$GPUB" ]; then
            bench_cq "gpu_$w" 100 0 gpu --backend "$GPUB" --boot "$SMALL_B" --reps 3 --only "$w"
        else
            record FAIL "bench:gpu_$w" "no GPU backend"
        fi
        bench_cq "cpu_$w" 100 0 cpu --backend cpu --boot "$CPU_B" --reps 3 --only "$w"
    done
    if [ -n "$GPUB" ]; then
        bench_w W3 --boot "$W3B" --reps 20
        bench_w W4 --boot4 "$W4B"
    fi
fi
if want test; then
    suite test_cuda 'emu/*' 1
    suite test_wavelet_cuda 'emu/*' 1
fi
if want bench && [ -n "$GPUB" ] && [ "$BENCH_B" -gt 0 ] 2>/dev/null; then
    for w in W1 W2; do
        if over_budget; then
            record SKIP "bench:gpu_${w}_big" "time budget spent (B = $BENCH_B)"
        else
            bench_cq "gpu_${w}_big" $((TOTAL - RESERVE - $(elapsed))) 1 gpu --backend "$GPUB" --boot "$BENCH_B" \
                --reps 1 --only "$w"
        fi
    done
fi

# -------------------------------------------------------------- summary --
# the table: per workload the best GPU figure (the largest B that ran) and
# the CPU figure of this run; then every check
table() {
    printf '\n== summary: %s s of %s s; GPU: %s, driver %s; GPU side: %s\n' "$(elapsed)" "$TOTAL" "$GPUNAME" "$DRIVER" \
        "${GPUB:-none}"
    [ "$GPUB" = cpu ] && printf '   NOTE: CQB_CHECK_ALLOW_CPU=1 and no GPU: the CPU stood in for the GPU (mechanics only)\n'
    [ "$INJECT" = 1 ] && printf '   NOTE: CQB_CHECK_INJECT_MISMATCH=1: the first id and wid checks were altered and must FAIL\n'
    [ "$HANG" = 1 ] && printf '   NOTE: CQB_CHECK_INJECT_HANG=1: the first id check hung on purpose and must FAIL\n'
    printf '%-4s %-40s %12s %8s %12s %8s %9s\n' work what "GPU rep/s" "GPU B" "CPU rep/s" "CPU B" "GPU/CPU"
    for w in W1 W2 W3 W4; do
        case $w in
        W1) what="T=335 9x9 lags 1-12, bands+Q (x972 cells)" ;;
        W2) what="T=5505 1 cell lags 1-20, bands+Q (x20)" ;;
        W3) what="WLMC T=335 d=4 J=4 M=24, boot null" ;;
        W4) what="WLMC T=16384 d=8 J=8 M=64, boot null" ;;
        esac
        awk -v w="$w" -v what="$what" '
            $1 == w && $2 == "gpu" && $3 != "na" { if ($5 + 0 >= gb + 0) { gb = $5; g = $3 } }
            $1 == w && $2 == "cpu" && $3 != "na" { c = $3; cb = $5 }
            END {
                r = (g != "" && c != "" && c > 0) ? sprintf("%.2fx", g / c) : "-"
                printf "%-4s %-40s %12s %8s %12s %8s %9s\n", w, what, g != "" ? sprintf("%.4g", g) : "-",
                    gb != "" ? gb : "-", c != "" ? sprintf("%.4g", c) : "-", cb != "" ? cb : "-", r
            }' "$PERF"
    done
    printf '%-4s %-24s %s\n' "" check "result (detail above and in summary.txt)"
    awk -F '\t' '{ d = $3; if (length(d) > 90) d = substr(d, 1, 87) "..."; printf "%-4s %-24s %s\n", $1, $2, d }' "$REC"
    if [ $FAILS -eq 0 ]; then
        printf 'RESULT: PASS (%s checks, %s s)\n' "$(wc -l <"$REC" | tr -d ' ')" "$(elapsed)"
    else
        printf 'RESULT: FAIL (%s of %s checks failed, %s s)\n' "$FAILS" "$(wc -l <"$REC" | tr -d ' ')" "$(elapsed)"
    fi
}
table | tee -a "$SUMMARY"
[ $FAILS -eq 0 ]
exit $?
