#!/usr/bin/env bash
# bench/startup.sh [BUILD_DIR] [RUNS] — whole-process time of the small
# commands whose cost is mostly start-up (issue #14: under 3 ms wall on the
# 2-core development VM): `cqboot --version`, `cqboot wmc` on the bundled
# data, and `cqboot cq --boot 0` (point estimates and Q statistics only).
# Uses `perf stat -r RUNS` (task-clock: CPU time of the process; elapsed:
# wall time from fork to exit) when perf works, else times RUNS runs with
# bash's clock (wall only, bash's own fork included). Outputs go to a
# private temporary folder. Prints one table; changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
runs="${2:-50}"
exe="$build/cqboot"
[ -x "$exe" ] || { echo "startup.sh: $exe not found; build first (cmake --build $build)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=data/us_china_monthly.csv
names=("--version" "wmc (3 series, --json)" "cq --boot 0 (5x5, lags 1-12, table)")
cmds=("$exe --version"
      "$exe wmc --data $data --cols GPRC_CHN,IPB52300S,EPU_US --json $tmp/w.json"
      "$exe cq --data $data --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff --transform IPB52300S=logdiff --alpha-y 0.1,0.3,0.5,0.7,0.9 --alpha-x 0.1,0.3,0.5,0.7,0.9 --lags 1-12 --boot 0")
use_perf=0
if command -v perf >/dev/null 2>&1 && perf stat -x, -e task-clock true >/dev/null 2>&1; then use_perf=1; fi
echo "# $(uname -m), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $runs runs each"
printf '%-40s %12s %12s\n' command "CPU ms" "wall ms"
for i in "${!cmds[@]}"; do
    ${cmds[$i]} >/dev/null 2>&1 || { echo "startup.sh: failed: ${cmds[$i]}" >&2; exit 1; }
    if [ $use_perf = 1 ]; then
        out=$(perf stat -r "$runs" -e task-clock ${cmds[$i]} 2>&1 >/dev/null)
        cpu=$(echo "$out" | awk '/task-clock/ {print $1}')
        wall=$(echo "$out" | awk '/seconds time elapsed/ {print $1 * 1000}')
        printf '%-40s %12.2f %12.2f\n' "${names[$i]}" "$cpu" "$wall"
    else
        t0=$(date +%s%N)
        for ((k = 0; k < runs; ++k)); do ${cmds[$i]} >/dev/null 2>&1; done
        wall=$(( ($(date +%s%N) - t0) / runs ))
        printf '%-40s %12s %12.2f\n' "${names[$i]}" "-" "$(echo "$wall / 1000000" | bc -l)"
    fi
done
