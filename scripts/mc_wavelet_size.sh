#!/usr/bin/env bash
# Monte Carlo size of the WLMC/WMC resampling tests under independent series
# (issue #10, docs/calibrated.md section 10): R replications of 4 independent
# Gaussian AR(1) series (coefficient 0.3), T = 336, la8, J = 4, Gaussian
# window M = 24, B = 199, null bootstrap; per replication the pointwise
# (p_boot) and family-wise (p_fw) WLMC marks at 5% per level and time, and the
# WMC p_boot per level, then the rates by position in the sample.
# usage: scripts/mc_wavelet_size.sh [R] [CQBOOT] [WORKDIR]   (defaults 300 build/cqboot /tmp/mcw)
set -euo pipefail
R=${1:-300}; B=${2:-build/cqboot}; W=${3:-/tmp/mcw}
B=$(cd "$(dirname "$B")" && pwd)/$(basename "$B")
mkdir -p "$W"
one() {
  local r=$1 d=$W/r$1
  mkdir -p "$d"
  python3 - "$r" "$d" <<'PY'
import random, sys
r = int(sys.argv[1]); d = sys.argv[2]
random.seed(1000 + r)
T = 336
cols = []
for j in range(4):
    s = 0; v = []
    for t in range(T + 200):
        s = 0.3 * s + random.gauss(0, 1); v.append(s)
    cols.append(v[200:])
with open(d + '/d.csv', 'w') as f:
    f.write('date,A,B,C,D\n')
    for t in range(T):
        f.write(f"{t+1}," + ",".join(f"{cols[j][t]:.6f}" for j in range(4)) + "\n")
PY
  "$B" wlmc --data "$d/d.csv" --cols A,B,C,D --wavelet la8 --levels 4 --window gaussian --M 24 --boot 199 \
      --null bootstrap --seed $((r + 1)) --json "$d/wlmc.json" --quiet --threads 1 > /dev/null
  "$B" wmc --data "$d/d.csv" --cols A,B,C,D --wavelet la8 --levels 4 --boot 199 --null bootstrap \
      --seed $((r + 1)) --json "$d/wmc.json" --quiet --threads 1 > /dev/null
  python3 - "$d" <<'PY'
import json, sys
d = sys.argv[1]
j = json.load(open(d + '/wlmc.json')); k = json.load(open(d + '/wmc.json'))
out = {'wlmc': [[[p is not None and p < 0.05 for p in l['p_boot']], [p is not None and p < 0.05 for p in l['p_fw']]]
                for l in j['levels']],
       'wmc': [l.get('p_boot') is not None and l['p_boot'] < 0.05 for l in k['levels']]}
json.dump(out, open(d + '/sum.json', 'w'))
PY
  rm -f "$d/wlmc.json" "$d/wmc.json" "$d/d.csv"
}
export -f one; export B W
seq 0 $((R - 1)) | xargs -P 2 -I{} bash -c 'one {}'
python3 - "$W" "$R" <<'PY'
import json, sys
W, R = sys.argv[1], int(sys.argv[2]); M = 24
runs = [json.load(open(f"{W}/r{r}/sum.json")) for r in range(R)]
nl = len(runs[0]['wlmc'])
for i in range(nl):
    n = len(runs[0]['wlmc'][i][0])
    pw = sum(sum(x['wlmc'][i][0]) for x in runs) / (R * n)
    fwer = sum(any(x['wlmc'][i][1]) for x in runs) / R
    fwer_in = sum(any(v for t, v in enumerate(x['wlmc'][i][1]) if M <= t < n - M) for x in runs) / R
    marks = sum(sum(x['wlmc'][i][1]) for x in runs)
    edge = sum(sum(v for t, v in enumerate(x['wlmc'][i][1]) if t < M or t >= n - M) for x in runs)
    wmc = sum(x['wmc'][i] for x in runs) / R
    print(f"level {i + 1}: pointwise {pw:.4f}; family-wise any mark {fwer:.4f}, interior only {fwer_in:.4f}; "
          f"marks within M of an edge {edge}/{marks}; WMC {wmc:.4f}")
print("any level, family-wise:", sum(any(any(l[1]) for l in x['wlmc']) for x in runs) / R)
PY
