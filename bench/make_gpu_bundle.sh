#!/bin/sh
# bench/make_gpu_bundle.sh — builds cqboot with the CUDA backend into one
# directory that runs on a GPU machine without network or package manager
# (bench/gpu_check.sh runs there from it).
#
# Usage: bench/make_gpu_bundle.sh [DIR]      (default: build-gpu)
#
# The directory gets the executables cqboot, bench_cq and (when Criterion is
# installed here) test_cuda, built in DIR-cmake, Release, with -DCQB_CUDA=ON and
# -DCQB_PORTABLE_RPATH=ON (RUNPATH $ORIGIN), and beside them every shared
# library they load that is not part of glibc or the NVIDIA driver
# (libcjson, libgomp, libstdc++, libgcc_s; Criterion's dependencies for
# test_cuda). The CUDA runtime is linked statically; the target needs only
# the NVIDIA driver (libcuda.so.1). BUNDLE.txt records what was built.
#
# Needs: cmake, nvcc, a C compiler, cJSON; ldd. Exit status 0 on success.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-build-gpu}
case "$OUTDIR" in /*) ;; *) OUTDIR="$ROOT/$OUTDIR" ;; esac
JOBS=$(nproc 2>/dev/null || echo 2)

TESTS=OFF
TARGETS="cqboot-cli bench_cq bench_wavelet"
if [ -e /usr/include/criterion/criterion.h ] || [ -e /usr/local/include/criterion/criterion.h ]; then
    TESTS=ON
    TARGETS="$TARGETS test_cuda test_wavelet_cuda"
fi

# The CMake build lives beside the bundle (DIR-cmake); DIR gets only what
# runs, so that it is small enough to copy.
BUILD="$OUTDIR-cmake"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCQB_CUDA=ON -DCQB_PORTABLE_RPATH=ON \
    -DCQB_TESTS="$TESTS" >"$BUILD/configure.log" 2>&1 || {
    cat "$BUILD/configure.log" >&2
    echo "make_gpu_bundle: cmake configure failed (is nvcc on PATH?)" >&2
    exit 1
}
# shellcheck disable=SC2086
cmake --build "$BUILD" -j"$JOBS" --target $TARGETS

rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
cp "$BUILD/cqboot" "$BUILD/bench_cq" "$BUILD/bench_wavelet" "$OUTDIR/"
# the figure module that `cqboot run` loads beside the executable (its
# libraries, cairo's, are carried with the others below)
cp "$BUILD/libcqboot_plot.so" "$OUTDIR/"
EXES="$OUTDIR/cqboot $OUTDIR/bench_cq $OUTDIR/bench_wavelet $OUTDIR/libcqboot_plot.so"
for t in test_cuda test_wavelet_cuda; do
    if [ "$TESTS" = ON ] && [ -x "$BUILD/$t" ]; then
        cp "$BUILD/$t" "$OUTDIR/"
        EXES="$EXES $OUTDIR/$t"
    fi
done

# Shared libraries to carry: everything ldd resolves except glibc's own
# libraries, the dynamic loader and the driver.
LIBS=""
for exe in $EXES; do
    for lib in $(ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
        base=$(basename "$lib")
        case "$base" in
        libc.so.* | libm.so.* | libdl.so.* | librt.so.* | libpthread.so.* | libresolv.so.* | libutil.so.* | \
            libnsl.so.* | libanl.so.* | libmvec.so.* | libBrokenLocale.so.* | ld-linux*.so.* | libcuda.so.* | \
            libnvidia-*.so.*)
            continue
            ;;
        esac
        [ "$(dirname "$lib")" = "$OUTDIR" ] || cp -L "$lib" "$OUTDIR/$base"
        case " $LIBS " in *" $base "*) ;; *) LIBS="$LIBS $base" ;; esac
    done
done

# The executables must now resolve their direct libraries beside themselves.
for exe in $EXES; do
    if ldd "$exe" | grep -q "not found"; then
        ldd "$exe" >&2
        echo "make_gpu_bundle: $exe has unresolved libraries" >&2
        exit 1
    fi
    if ! readelf -d "$exe" 2>/dev/null | grep -q 'ORIGIN'; then
        echo "make_gpu_bundle: $exe has no \$ORIGIN run path (CQB_PORTABLE_RPATH)" >&2
        exit 1
    fi
done

{
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host=$(uname -n) $(uname -m)"
    dirty=""
    if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty="+dirty"; fi
    echo "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$dirty"
    echo "source_dir=$ROOT"
    echo "nvcc=$(nvcc --version 2>/dev/null | tail -1)"
    echo "executables=$(for e in $EXES; do basename "$e"; done | tr '\n' ' ')"
    echo "libraries=$LIBS"
} >"$OUTDIR/BUNDLE.txt"

SIZE=$(du -sk "$OUTDIR" | awk '{ print $1 }')
echo "make_gpu_bundle: $OUTDIR ready ($(echo "$EXES" | wc -w) executables,$(echo "$LIBS" | wc -w) libraries, ${SIZE} KiB to carry)"
cat "$OUTDIR/BUNDLE.txt"
