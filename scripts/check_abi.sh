#!/usr/bin/env bash
# Checks the shared library's interface (ctest test_abi): the SONAME, that
# exactly the cqb_* functions of the public headers are exported (private
# helpers and the bundled CUDA runtime are hidden), and that the version
# macros of cqboot/version.h agree with the build's version.
# Usage: scripts/check_abi.sh LIBCQBOOT_SO PROJECT_VERSION
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
so="${1:?usage: check_abi.sh LIB.so VERSION}"
ver="${2:?usage: check_abi.sh LIB.so VERSION}"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "check_abi: $*"; }

major=${ver%%.*}
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = "libcqboot.so.$major" ] && ok || bad "SONAME is '$soname', expected libcqboot.so.$major"

hdr=$(grep -ho '\bcqb_[a-z0-9_]*\b' "$root"/include/cqboot/*.h | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBRVW]/ { print $3 }' | sed 's/@.*//' | grep -v '^CQBOOT_' | sort -u)
extra=$(comm -13 <(echo "$hdr") <(echo "$exported"))
[ -z "$extra" ] && ok || bad "exported but not in a public header: $(echo $extra)"
n=$(echo "$exported" | grep -c . || true)
[ "$n" -ge 100 ] && ok || bad "only $n symbols exported"
# private helpers stay inside (a private header's function, the CUDA runtime)
for s in cqbw_mulcor cudaMalloc __cudaRegisterFatBinary; do
    if echo "$exported" | grep -qx "$s"; then bad "private symbol $s is exported"; else ok; fi
done
# version macros
hv=$(sed -n 's/#define CQB_VERSION "\(.*\)"/\1/p' "$root/include/cqboot/version.h")
[ "$hv" = "$ver" ] && ok || bad "cqboot/version.h says $hv, the build says $ver"
grep -q '^#define CQB_API_VERSION [0-9]' "$root/include/cqboot/version.h" && ok || bad "CQB_API_VERSION missing"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
