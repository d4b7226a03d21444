#!/usr/bin/env bash
# Side-by-side benchmark against the R peers (quantilogram 3.1.1, wavemulcor
# 3.1.2) in the same run: installs them into a private R library from
# ../shared/peers (the project's measuring instruments; never part of cqboot),
# then runs bench_cq (W1, W2) and bench_wavelet (W3, W4), which time R on the
# same data and print the ratios. Where the peers are not available (no
# ../shared/peers, or R cannot be installed), says so and runs the benchmarks
# alone, with the quoted R figures labelled as quoted.
# Usage: bench/peers.sh [BUILD_DIR]     (default: build)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
peers="$root/../shared/peers"
rlib="${CQB_PEERS_RLIB:-$HOME/.cache/cqboot-peers/rlib}"
if [ -x "$peers/install.sh" ]; then
    if R_LIBS="$rlib" Rscript -e 'suppressMessages({library(quantilogram); library(wavemulcor)})' >/dev/null 2>&1 ||
        "$peers/install.sh" "$rlib" >&2; then
        export R_LIBS="$rlib"
        echo "peers: R $(Rscript -e 'cat(as.character(getRversion()))' 2>/dev/null), quantilogram and wavemulcor from $rlib"
    else
        echo "peers: SKIPPED (installing the R peers failed); R figures below are the quoted ones"
    fi
else
    echo "peers: SKIPPED ($peers not found: the R peers are not shipped with cqboot); R figures below are the quoted ones"
fi
"$build/bench_cq"
"$build/bench_wavelet"
