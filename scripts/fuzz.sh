#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [HARNESS...] — builds the libFuzzer harnesses of
# tests/fuzz (clang, -DCQB_FUZZ=ON: ASan + UBSan + libFuzzer, in build-fuzz/)
# and runs each (default: csv study options) for SECONDS (default 60) on a
# copy of its stored corpus (tests/fuzz/corpus/NAME) in a temporary
# directory. Exits 1 if any harness finds a crash, a leak or a timeout (the
# input is kept in that directory and named in the message); prints each
# harness's execution count. Set CQB_FUZZ_RUNS=N to stop each harness after
# N executions instead of after SECONDS, CQB_FUZZ_JOBS=N to run N harnesses
# at once (default 1). Without clang or libFuzzer it says so and exits 0
# (nothing to run). docs/fuzzing.md describes the harnesses.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(csv study options)

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz.sh: clang not found (apt-get install clang); fuzzing skipped" >&2
    exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! clang -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
    echo "fuzz.sh: clang has no libFuzzer (-fsanitize=fuzzer); fuzzing skipped" >&2
    exit 0
fi

CC=clang cmake -S . -B build-fuzz -DCQB_FUZZ=ON -DCQB_CUDA=OFF -DCQB_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(printf 'fuzz_%s ' "${harnesses[@]}") >/dev/null

# One OpenMP thread: the harnesses run tiny parallel regions, between which
# libomp's waiting threads spun for a third of fuzz_study's time.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
work=$(mktemp -d "${TMPDIR:-/tmp}/cqb_fuzz_XXXXXX")
export TMPDIR="$work"   # the study harness makes its directory here
runs_opt=()
[ -n "${CQB_FUZZ_RUNS:-}" ] && runs_opt=(-runs="$CQB_FUZZ_RUNS")
fail=0
run_one() {
    local h=$1 dict=()
    mkdir -p "$work/$h/corpus" "$work/$h/crash"
    cp tests/fuzz/corpus/"$h"/* "$work/$h/corpus/"
    [ -f tests/fuzz/"$h".dict ] && dict=(-dict=tests/fuzz/"$h".dict)
    local maxt=(-max_total_time="$secs")
    [ ${#runs_opt[@]} -gt 0 ] && maxt=()
    if build-fuzz/fuzz_"$h" "$work/$h/corpus" "${dict[@]}" "${maxt[@]}" "${runs_opt[@]}" \
        -timeout=10 -rss_limit_mb=2048 -max_len=4096 -close_fd_mask=1 -print_final_stats=1 \
        -artifact_prefix="$work/$h/crash/" >"$work/$h/log" 2>&1; then
        local n
        n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$h/log" | grep -o '[0-9]*$' || echo '?')
        echo "fuzz.sh: $h: $n executions, no crash, leak or timeout"
    else
        echo "fuzz.sh: $h: FAILED; log $work/$h/log, input(s) in $work/$h/crash/" >&2
        tail -n 40 "$work/$h/log" >&2
        return 1
    fi
}
jobs_max="${CQB_FUZZ_JOBS:-1}"
pids=()
for h in "${harnesses[@]}"; do
    run_one "$h" &
    pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
if [ "$fail" -eq 0 ]; then rm -rf "$work"; fi
exit "$fail"
