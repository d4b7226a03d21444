#!/usr/bin/env bash
# Installs what cqboot needs to build and test on Debian/Ubuntu, if missing:
# a C compiler with OpenMP (gcc), CMake, cJSON, Criterion and cairo (figures).
# Uses sudo when not run as root. The CUDA Toolkit is optional (see README).
# Optional, for tests and clusters: --mpi also installs Open MPI (openmpi-bin,
# libopenmpi-dev), with which CMake builds the MPI path (docs/scale-out.md)
# and ctest runs test_scale_mpi.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcjson-dev libcriterion-dev libcairo2-dev)
for a in "$@"; do
    case "$a" in
    --mpi) pkgs+=(openmpi-bin libopenmpi-dev) ;;
    *) echo "usage: scripts/deps.sh [--mpi]" >&2; exit 2 ;;
    esac
done
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "cqboot: installing ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
