#!/usr/bin/env bash
# Builds and tests the Python package (bindings/python) as a user would get
# it: a fresh virtual environment in a temporary folder, `pip install
# ./bindings/python` (pip fetches scikit-build-core; the library is built from
# this clone's sources, CPU only unless CQBOOT_CUDA=AUTO|ON), then pytest,
# pandas and numpy, and the package's tests. Everything it writes is in the
# temporary folder and in bindings/python/build/ (the CMake build, kept to
# make the next run quicker; gitignored).
# Usage: scripts/test_python.sh [PYTEST ARGS...]   (PYTHON=python3.X to choose)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-python3}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cqboot-py.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Debian's own python3 splits venv/ensurepip and the C headers into packages
if ! "$py" -c 'import ensurepip, sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "test_python: installing python3-venv python3-dev"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv python3-dev >/dev/null
fi
"$py" -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip --quiet)
"${pip[@]}" install pytest pandas numpy
"${pip[@]}" install "$root/bindings/python"
# from the temporary folder: the tests import the installed package, not the source tree
cd "$tmp"
"$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/bindings/python/tests" "$@"
