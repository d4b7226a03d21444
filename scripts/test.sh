#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the
# whole Criterion suite with ctest; then again under AddressSanitizer and
# UndefinedBehaviorSanitizer (set CQB_SKIP_SANITIZE=1 to skip that pass),
# built with fault injection (-DCQB_FAULT=ON, so ctest also runs the
# fault_sweep of tests/fault/sweep.sh). Between the two: the main command
# (scripts/quickstart.sh), the Python and R packages' tests
# (scripts/test_python.sh, scripts/test_r.sh) and a short libFuzzer smoke run of each harness
# (scripts/fuzz.sh, CQB_FUZZ_SECONDS each, default 20; 0 or a missing
# clang/libFuzzer skips it, saying so).
set -euo pipefail
cd "$(dirname "$0")/.."
# Open MPI too: CMake then builds the MPI module and ctest runs test_scale_mpi
scripts/deps.sh --mpi
# Test-only: headless Chromium renders the study report in tests/test_run.c
# (the test skips, saying so, when no browser is installed).
if [ "${CQB_SKIP_CHROMIUM:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
        echo "cqboot: chromium could not be installed; the report-rendering test will skip" >&2
fi
jobs="$(nproc)"
# CQB_TESTS/CQB_CUDA explicit: the folder may have been set up by quickstart.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCQB_TESTS=ON -DCQB_CUDA=AUTO >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
# The main command on the build just tested (set CQB_SKIP_QUICKSTART=1 to skip).
if [ "${CQB_SKIP_QUICKSTART:-0}" != "1" ]; then
    scripts/quickstart.sh --quiet >/dev/null
    test -s out/study-ree/index.html
    echo "quickstart: the seed study's report out/study-ree/index.html was written"
fi
# The Python and R packages (bindings/): each built from this clone's sources
# as a user installs it, then its own tests (identical numbers to the CLI just
# built, errors, interrupts). CQB_SKIP_PYTHON=1 / CQB_SKIP_R=1 skip them.
if [ "${CQB_SKIP_PYTHON:-0}" != "1" ]; then
    scripts/test_python.sh
fi
if [ "${CQB_SKIP_R:-0}" != "1" ]; then
    scripts/test_r.sh build
fi
fuzz_secs="${CQB_FUZZ_SECONDS:-20}"
if [ "$fuzz_secs" != "0" ]; then
    # Test-only: Debian's clang brings libFuzzer (scripts/fuzz.sh skips,
    # saying so, when it is missing).
    if ! command -v clang >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang >/dev/null ||
            echo "cqboot: clang could not be installed; the fuzz smoke run will skip" >&2
    fi
    scripts/fuzz.sh "$fuzz_secs"
fi
if [ "${CQB_SKIP_SANITIZE:-0}" != "1" ]; then
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCQB_SANITIZE=ON -DCQB_FAULT=ON -DCQB_CUDA=OFF >/dev/null
    cmake --build build-asan -j"$jobs"
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs")
fi
