#!/usr/bin/env bash
# ci_scale.sh [BUILD_DIR] — the scale-out checks of CI (docs/scale-out.md):
# installs Open MPI if missing (scripts/deps.sh --mpi), configures a build
# with -DCQB_MPI=ON, and runs the ctest tests
#   test_scale      shards + merge byte-identical, refusals   (no MPI needed)
#   test_scale_mpi  mpirun -n 1/2/3 byte-identical, both MPI reductions,
#                   pairs over ranks, a dying rank             (needs MPI)
# mpirun runs oversubscribed and as root where CI runs as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-mpi}"
"$root/scripts/deps.sh" --mpi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCQB_MPI=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target cqboot-cli test_scale >/dev/null
(cd "$build" && ctest -R '^test_scale' --output-on-failure)
