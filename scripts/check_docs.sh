#!/usr/bin/env bash
# Runs every example of README.md and docs/*.md, so that examples cannot drift
# from the program (ctest test_docs).
#
# In each page, in order, in one temporary folder per page:
#   ```sh          a block of commands: run with bash -e (cqboot on the PATH;
#                  data/, build/, scripts/ and bench/ are links into the tree);
#                  `scripts/test.sh` and `scripts/quickstart.sh` are skipped here
#                  (.ci/run runs both).
#   ```text output the output of the previous sh block: each line other than
#                  `...` must appear in it, in this order.
#   <!-- file: NAME -->  before a block: the block is written to NAME first
#                  (for study files that a later sh block runs).
# Other blocks (```text, ```json, ```c, usage synopses) are not run.
# Usage: scripts/check_docs.sh BUILD_DIR [PAGE...]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:?usage: check_docs.sh BUILD_DIR [PAGE...]}" && pwd)"
shift
pages=("$@")
[ ${#pages[@]} -gt 0 ] || pages=("$root/README.md" "$root"/docs/*.md)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# split PAGE into $dir/NNN.kind files (kind: sh, out, file:NAME)
split_page() {
    awk -v dir="$2" '
        /^<!-- file: .* -->$/ { fname = $3; next }
        /^```/ {
            if (!inb) {
                inb = 1; info = substr($0, 4); n++
                kind = "skip"
                if (fname != "") kind = "file:" fname
                else if (info == "sh") kind = "sh"
                else if (info == "text output") kind = "out"
                fname = ""
                out = sprintf("%s/%03d.%s", dir, n, kind)
                printf "" > out
                next
            } else { inb = 0; close(out); next }
        }
        inb { print >> out }
    ' "$1"
}

for page in "${pages[@]}"; do
    name="${page#"$root"/}"
    work="$tmp/$(echo "$name" | tr '/.' '__')"
    mkdir -p "$work/.blocks"
    split_page "$page" "$work/.blocks"
    # the sources are links (read-only use: an example may configure its own
    # build folder); build/ is the tested build; HOME is private to the page
    for l in CMakeLists.txt host include device data scripts bench; do ln -s "$root/$l" "$work/$l"; done
    ln -s "$build" "$work/build"
    mkdir -p "$work/.home"
    last_out=""
    for blk in "$work"/.blocks/*; do
        [ -e "$blk" ] || continue
        kind="${blk##*.}"
        case "$blk" in
        *.file:*)
            cp "$blk" "$work/${blk##*.file:}" ;;
        *.sh)
            script="$(grep -v -E '^[[:space:]]*scripts/(test|quickstart)\.sh' "$blk")"
            [ -n "$(echo "$script" | tr -d '[:space:]')" ] || continue
            last_out="$blk.log"
            # CUDA off the PATH: an example that builds cqboot builds the CPU library
            path="$build:$(echo "$PATH" | tr ':' '\n' | grep -v cuda | paste -sd:)"
            if (cd "$work" && HOME="$work/.home" PATH="$path" timeout 600 bash -e -c "$script") >"$last_out" 2>&1; then
                pass=$((pass + 1))
            else
                fail=$((fail + 1))
                echo "check_docs: FAIL $name, block $(basename "$blk"):"
                sed 's/^/    /' "$blk"; echo "  output:"; tail -20 "$last_out" | sed 's/^/    /'
            fi ;;
        *.out)
            if [ -z "$last_out" ]; then echo "check_docs: $name: output block without a command"; fail=$((fail + 1)); continue; fi
            if awk 'NR == FNR { if ($0 != "..." && $0 != "") want[++n] = $0; next }
                    i < n && $0 == want[i + 1] { i++ }
                    END { if (i < n) { print "  missing or out of order: " want[i + 1]; exit 1 } }' \
                   "$blk" "$last_out"; then
                pass=$((pass + 1))
            else
                fail=$((fail + 1))
                echo "check_docs: FAIL $name: the output shown differs from what the command printed"
                tail -40 "$last_out" | sed 's/^/    /'
            fi ;;
        esac
    done
done
echo "check_docs: examples of ${#pages[@]} pages"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
