#!/usr/bin/env bash
# benches/diff.sh: time `bakeproof diff` on two large SBOMs. A benchmark, not a test.
#
#   benches/diff.sh [TREE] [OUT_DIR]
#
# TREE     tree to scan twice (default /usr: ~100k files on a Debian 12 machine).
# OUT_DIR  SBOMs and timings (default ./bench-out/diff).
#
# Environment:
#   EXCLUDE        glob given to the second scan only (default /share/doc/**), so the two
#                  SBOMs differ by a few thousand removed files
#   RUNS           timed diff runs (default 5), after 1 untimed warm-up
#   BAKEPROOF_BIN  use this binary instead of building target/release/bakeproof
#
# Prints the file and package counts of both SBOMs and, per output format, the best and
# median wall time of `bakeproof diff OLD NEW` (GNU time, output to /dev/null). Target
# (issue 7): <= 1 s for two SBOMs of 100k files each.
set -euo pipefail
export LC_ALL=C
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TREE="${1:-/usr}"
OUT="${2:-$REPO/bench-out/diff}"
EXCLUDE="${EXCLUDE:-/share/doc/**}"
RUNS="${RUNS:-5}"
mkdir -p "$OUT"

if [ -n "${BAKEPROOF_BIN:-}" ]; then
  BIN="$BAKEPROOF_BIN"
else
  (cd "$REPO" && cargo build --release -q -p bakeproof)
  BIN="$REPO/target/release/bakeproof"
fi
[ -x /usr/bin/time ] || { echo "diff.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }

scan() {  # scan OUT [ARGS...]; exit 3 (some entries unreadable) is fine for a bench
  local out=$1; shift
  "$BIN" scan "$TREE" -o "$out" "$@" 2>"$out.log" || [ $? -eq 3 ] \
    || { cat "$out.log" >&2; exit 1; }
}
echo "scanning $TREE twice (second with --exclude '$EXCLUDE') ..."
scan "$OUT/old.cdx.json"
scan "$OUT/new.cdx.json" --exclude "$EXCLUDE"

count() {  # count SBOM: "N files, M packages, SIZE"
  python3 - "$1" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
c = d.get("components", [])
f = sum(1 for x in c if x.get("type") == "file")
print(f"{f} file components, {len(c) - f} other components, {os.path.getsize(sys.argv[1]) / 1e6:.1f} MB")
PY
}
echo "old: $(count "$OUT/old.cdx.json")"
echo "new: $(count "$OUT/new.cdx.json")"

for fmt in json text markdown; do
  "$BIN" diff "$OUT/old.cdx.json" "$OUT/new.cdx.json" --format "$fmt" >/dev/null  # warm-up
  : > "$OUT/times-$fmt.txt"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -a -o "$OUT/times-$fmt.txt" \
      "$BIN" diff "$OUT/old.cdx.json" "$OUT/new.cdx.json" --format "$fmt" >/dev/null
  done
  sort -n "$OUT/times-$fmt.txt" | awk -v fmt="$fmt" '
    { t[NR] = $1; m[NR] = $2 }
    END { printf "diff --format %-8s best %.2f s, median %.2f s, peak RSS %.0f MB (%d runs)\n",
          fmt, t[1], t[int((NR + 1) / 2)], m[int((NR + 1) / 2)] / 1024, NR }'
done
"$BIN" diff "$OUT/old.cdx.json" "$OUT/new.cdx.json" --format json > "$OUT/diff.json"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("changes:", {k: v for k, v in s.items() if isinstance(v, int) and v})' "$OUT/diff.json"
