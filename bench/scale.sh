#!/usr/bin/env bash
# bench/scale.sh CQBOOT [MPIRUN] — strong scaling of the scale-out paths
# (docs/scale-out.md):
#   W1B   W1 of bench_cq at B = 100,000 (T = 335, 9 x 9 grid, lags 1-12,
#         gamma 0.1, bands + Q tests, no calibrated test): one process with
#         one thread, mpirun -n 1 and -n 2 (one thread per rank), and two
#         shards run one after the other plus merge;
#   PAIRS 20 synthetic series, all 380 directed pairs, 5 x 5 grid, lags 1-12,
#         B = 1,000 (calibrated test on, as the CLI default): one process,
#         mpirun -n 1 and -n 2.
#   SIM   cqboot simulate, tail DGP, T = 336, 3 x 3 grid, lags 1-6, 400
#         replications of B = 499 (calibrated test on): one process with one
#         thread, mpirun -n 2, and two shards in sequence plus merge.
# W1_BOOT, PAIRS_BOOT and SIM_REPS override B and R (a quick check of the script).
# Every variant's JSON results are checked byte-identical to the one-process
# run. Prints one line per run (wall and CPU seconds) and the machine; needs
# /usr/bin/time and bc. Writes only in
# a mktemp folder, removed at the end.
set -euo pipefail
cqb=${1:?usage: bench/scale.sh CQBOOT [MPIRUN]}
mpirun=${2:-$(command -v mpirun || true)}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi() { "$mpirun" --oversubscribe --allow-run-as-root "$@"; }
region() { awk '/^\t"(results|levels|cells)":/{on=1} /^\t"timing":/{on=0} on' "$1"; }
same() { cmp -s <(region "$1") <(region "$2") && echo same || echo DIFFERENT; }
now() { date +%s.%N; }
timed() { # label cmd...: wall and CPU (user + system of the command and its children)
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" "${@:2}" >"$tmp/stdout" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    read -r wall usr sys <"$tmp/time"
    printf '%-34s %8.2f s wall %8.2f s CPU' "$1" "$wall" "$(echo "$usr + $sys" | bc -l)"
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs," \
     "load $(cut -d' ' -f1-3 /proc/loadavg); $("$cqb" --version)"
[ -n "$mpirun" ] && echo "mpi: $("$mpirun" --version 2>/dev/null | head -1)"

w1=(cq --data "$here/data/us_china_monthly.csv" --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff
    --transform IPB52300S=logdiff --alpha 0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9 --lags 1-12 --boot "${W1_BOOT:-100000}"
    --gamma 0.1 --no-null --quiet --threads 1)
timed "W1B one process, 1 thread" "$cqb" "${w1[@]}" --json "$tmp/w1.json"; echo
if [ -n "$mpirun" ]; then
    for n in 1 2; do
        timed "W1B mpirun -n $n, 1 thread/rank" "$mpirun" --oversubscribe --allow-run-as-root -n "$n" "$cqb" "${w1[@]}" --json "$tmp/w1m$n.json"
        echo "   results $(same "$tmp/w1.json" "$tmp/w1m$n.json")"
    done
fi
t0=$(now)
"$cqb" "${w1[@]}" --shard 1/2 --part "$tmp/w1.1.part"
"$cqb" "${w1[@]}" --shard 2/2 --part "$tmp/w1.2.part"
t1=$(now)
timed "W1B merge of 2 shards" "$cqb" merge "$tmp/w1.1.part" "$tmp/w1.2.part" --json "$tmp/w1s.json"
printf '   (shards %.2f s in sequence, parts %s MB)   results %s\n' "$(echo "$t1 - $t0" | bc -l)" \
    "$(du -cm "$tmp"/w1.*.part | tail -1 | cut -f1)" "$(same "$tmp/w1.json" "$tmp/w1s.json")"

# 20 synthetic series (AR(1) with a common factor), T = 335
awk 'BEGIN { srand(1); T = 335; K = 20;
    printf "t"; for (k = 1; k <= K; ++k) printf ",S%02d", k; printf "\n";
    for (k = 1; k <= K; ++k) v[k] = 0;
    for (t = 1; t <= T; ++t) {
        f = 0; for (i = 0; i < 12; ++i) f += rand(); f -= 6;
        printf "%d", t;
        for (k = 1; k <= K; ++k) { e = 0; for (i = 0; i < 12; ++i) e += rand(); e -= 6;
            v[k] = 0.3 * v[k] + e + 0.3 * f; printf ",%.6f", v[k] }
        printf "\n" } }' >"$tmp/s20.csv"
series=$(head -1 "$tmp/s20.csv" | cut -d, -f2- )
pairs=(cq --data "$tmp/s20.csv" --series "$series" --pairs all --alpha 0.05,0.1,0.5,0.9,0.95 --lags 1-12
       --boot "${PAIRS_BOOT:-1000}" --quiet --threads 1)
timed "PAIRS one process, 1 thread" "$cqb" "${pairs[@]}" --json "$tmp/p.json"; echo
if [ -n "$mpirun" ]; then
    for n in 1 2; do
        timed "PAIRS mpirun -n $n, 1 thread/rank" "$mpirun" --oversubscribe --allow-run-as-root -n "$n" "$cqb" "${pairs[@]}" --json "$tmp/pm$n.json"
        echo "   results $(same "$tmp/p.json" "$tmp/pm$n.json")"
    done
fi

sim=(simulate --dgp tail --T 336 --alpha 0.05,0.5,0.95 --lags 1-6 --reps "${SIM_REPS:-400}" --boot 499 --seed 3
     --quiet --threads 1)
timed "SIM one process, 1 thread" "$cqb" "${sim[@]}" --json "$tmp/s.json"; echo
if [ -n "$mpirun" ]; then
    timed "SIM mpirun -n 2, 1 thread/rank" "$mpirun" --oversubscribe --allow-run-as-root -n 2 "$cqb" "${sim[@]}" --json "$tmp/sm2.json"
    echo "   results $(same "$tmp/s.json" "$tmp/sm2.json")"
fi
t0=$(now)
"$cqb" "${sim[@]}" --shard 1/2 --part "$tmp/s.1.part"
"$cqb" "${sim[@]}" --shard 2/2 --part "$tmp/s.2.part"
t1=$(now)
timed "SIM merge of 2 shards" "$cqb" merge "$tmp/s.1.part" "$tmp/s.2.part" --json "$tmp/ss.json"
printf '   (shards %.2f s in sequence, parts %s KB)   results %s\n' "$(echo "$t1 - $t0" | bc -l)" \
    "$(du -ck "$tmp"/s.*.part | tail -1 | cut -f1)" "$(same "$tmp/s.json" "$tmp/ss.json")"
