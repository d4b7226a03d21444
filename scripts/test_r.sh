#!/usr/bin/env bash
# Tests of the R package (bindings/r): installs what is missing (r-base-dev,
# r-cran-testthat, libcjson-dev, through apt), builds the package tarball with
# `R CMD build` (the library sources travel inside it), installs that tarball
# into a temporary R library and runs its testthat tests.
# The identity tests compare with the CLI at BUILD_DIR/cqboot (default:
# build) and skip, saying so, when it is not built; run_study uses the
# figure module BUILD_DIR/libcqboot_plot.so when present. The R peers
# (quantilogram, wavemulcor), when bench/peers.sh has installed them in
# ~/.cache/cqboot-peers/rlib, add the live comparison of point estimates.
# Usage: scripts/test_r.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "$root" && realpath -m "${1:-build}")"

missing=""
for p in r-base-dev r-cran-testthat libcjson-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "test_r: installing$missing"
    $SUDO apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lib"
t0=$(date +%s)
# R CMD build works on a copy (it follows tools/'s links into the repository)
(cd "$tmp" && R CMD build --no-manual "$root/bindings/r" >build.log 2>&1) || { cat "$tmp/build.log"; exit 1; }
tarball="$(ls "$tmp"/cqboot_*.tar.gz)"
MAKEFLAGS="-j$(nproc)" R CMD INSTALL --library="$tmp/lib" "$tarball" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
echo "test_r: built $(basename "$tarball") and installed it in $(($(date +%s) - t0)) s"

export R_LIBS="$tmp/lib"
peers="$HOME/.cache/cqboot-peers/rlib"
if [ -d "$peers/quantilogram" ] && [ -d "$peers/wavemulcor" ]; then
    R_LIBS="$R_LIBS:$peers"
    echo "test_r: R peers from $peers (live comparison of point estimates)"
else
    echo "test_r: R peers not installed (bench/peers.sh): the drop-in tests use the recorded fixture only"
fi
if [ -x "$build/cqboot" ]; then
    export CQBOOT_CLI="$build/cqboot"
else
    echo "test_r: no CLI at $build/cqboot: the tests against the CLI skip"
fi
[ -f "$build/libcqboot_plot.so" ] && export CQB_PLOT_MODULE="$build/libcqboot_plot.so"
cd "$root/bindings/r/tests/testthat"
Rscript -e 'suppressMessages(library(cqboot)); library(testthat)
r <- test_dir(".", reporter = "summary", package = "cqboot", load_package = "installed", stop_on_failure = TRUE)'
