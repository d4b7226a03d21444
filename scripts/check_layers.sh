#!/usr/bin/env bash
# Checks the include rules of host/ (host/README.md): every public header
# belongs to one domain, and a domain's sources include only headers of the
# domains below it. The two named exceptions are sibling includes of public
# headers, kept on purpose (see host/README.md). Exits 1 and lists every
# offending include; run by ctest (test_layers).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A owner=(
  [error.h]=base [hd.h]=base [version.h]=base [runtime.h]=base
  [frame.h]=io [transform.h]=io [hash.h]=io [output.h]=io
  [philox.h]=boot [sbresample.h]=boot [blocklen.h]=boot [qselect.h]=boot
  [quantile.h]=boot [backend.h]=boot [sbplan.h]=boot [cqreduce.h]=boot [gram.h]=boot
  [cq.h]=cq [cq_boot.h]=cq [nullboot.h]=cq [cqreg.h]=cq [qreg.h]=cq [selfnorm.h]=cq [span.h]=cq
  [wavelet.h]=wavelet [wmc.h]=wavelet [wlmc.h]=wavelet [wnull.h]=wavelet [fft.h]=wavelet
  [dgp.h]=sim [simulate.h]=sim
  [plot.h]=plot [plot_cq.h]=plot [plot_module.h]=plot
  [embed.h]=cli  # the subcommands in-process (host/cli/embed.c), for the bindings
)
# What each domain may include (besides itself).
declare -A allowed=(
  [base]=""
  [io]="base"
  [boot]="base io"
  [cq]="base io boot"
  [wavelet]="base io boot"
  [sim]="base io boot cq"   # simulate counts the rejections of the CQ tests
  [plot]="base io boot cq"  # plot_cq draws CQ results (cq_boot.h)
)
bad=0
# Every public header has an owner.
for h in include/cqboot/*.h; do
  b=$(basename "$h")
  if [ -z "${owner[$b]:-}" ]; then echo "check_layers: $h has no domain (add it to scripts/check_layers.sh)"; bad=1; fi
done
check() { # file domain
  local f=$1 dom=$2 inc d
  while read -r inc; do
    d=${owner[$inc]:-}
    [ -n "$d" ] || { echo "$f: includes unknown header cqboot/$inc"; bad=1; continue; }
    [ "$d" = "$dom" ] && continue
    case " ${allowed[$dom]} " in *" $d "*) ;; *) echo "$f: domain '$dom' may not include cqboot/$inc (domain '$d')"; bad=1;; esac
  done < <(grep -ho '#include "cqboot/[a-z_]*\.h"' "$f" | sed 's/.*cqboot\///;s/"//')
  # private headers: only the folder's own
  while read -r inc; do
    case "$inc" in */*) echo "$f: includes another folder's private header $inc"; bad=1;; esac
  done < <(grep -ho '#include "[a-z_./]*\.h"' "$f" | sed 's/#include "//;s/"//' | grep -v '^cqboot/' || true)
}
for dom in "${!allowed[@]}"; do
  for f in host/$dom/*.c host/$dom/*.h; do [ -e "$f" ] && check "$f" "$dom"; done
done
# Public headers follow the rules of their owner.
for h in include/cqboot/*.h; do
  b=$(basename "$h"); [ -n "${owner[$b]:-}" ] && check "$h" "${owner[$b]}"
done
# The CLI may include any public header but no private one.
for f in host/cli/*.c host/cli/*.h; do
  if grep -q '#include "\.\./' "$f"; then echo "$f: includes a private library header"; bad=1; fi
done
if [ "$bad" -ne 0 ]; then echo "check_layers: FAILED"; exit 1; fi
echo "check_layers: host/ include rules hold (1 passed, 0 failed)"
