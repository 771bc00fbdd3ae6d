#!/usr/bin/env bash
# benches/image-scan.sh: `bakeproof scan IMAGE` against the physical limit and the
# directory scan, same run. A benchmark, not a test.
#
#   benches/image-scan.sh [TREE] [OUT_DIR]
#
# TREE     tree made into images (default /usr: ~100k files on a Debian 12 machine).
# OUT_DIR  images, SBOMs and timings (default ./bench-out/image-scan).
#
# Environment:
#   RUNS           timed runs of each command (default 3), after 1 untimed warm-up
#   FS             filesystems to build: "ext4 xfs" (default) or one of them
#   BAKEPROOF_BIN  use this binary instead of building target/release/bakeproof
#
# For each filesystem it builds one partition image of TREE (ext4: `mke2fs -d`; XFS:
# mkfs.xfs with a protofile), a GPT disk around it and its qcow2 conversion, then times,
# on a warm page cache:
#   dd if=IMAGE of=/dev/null bs=1M      the physical limit of reading the image's bytes
#                                       (the issue's `cat` to /dev/null; coreutils' cat may
#                                       skip the reads when its output is /dev/null)
#   bakeproof scan DISK.img             raw disk, GPT, the filesystem read in user space
#   bakeproof scan DISK.qcow2           the same through qcow2
#   bakeproof scan TREE                 the directory the image was made from
# and prints best and median wall times, the image scan's ratio to cat and to the
# directory scan, and whether the tree digests of the three scans agree (they must).
set -euo pipefail
export LC_ALL=C
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TREE="${1:-/usr}"
OUT="${2:-$REPO/bench-out/image-scan}"
RUNS="${RUNS:-3}"
FSS="${FS:-ext4 xfs}"
mkdir -p "$OUT"

if [ -n "${BAKEPROOF_BIN:-}" ]; then
  BIN="$BAKEPROOF_BIN"
else
  (cd "$REPO" && cargo build --release -q -p bakeproof)
  BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/bakeproof"
fi
[ -x /usr/bin/time ] || { echo "image-scan.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }

# Size of TREE in MiB, with room for the filesystem's metadata.
mib=$(du -sm --apparent-size "$TREE" | cut -f1)
size=$(( mib * 3 / 2 + 256 ))

timed() {  # timed NAME CMD...: RUNS wall times (s) into $OUT/NAME.times
  local name=$1; shift
  "$@" >/dev/null 2>"$OUT/$name.log" || [ $? -eq 3 ] || { cat "$OUT/$name.log" >&2; exit 1; }
  : > "$OUT/$name.times"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e' -a -o "$OUT/$name.times" "$@" >/dev/null 2>>"$OUT/$name.log" \
      || [ $? -eq 3 ] || { cat "$OUT/$name.log" >&2; exit 1; }
  done
}
stat_of() {  # best and median of NAME's times: "best median"
  sort -n "$OUT/$1.times" | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}'
}
digest() {  # the tree digest of an SBOM
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["metadata"]["component"]["hashes"][0]["content"])' "$1"
}

build_xfs() {  # build_xfs TREE IMG: mkfs.xfs -p PROTOFILE
  python3 - "$1" "$2.proto" <<'PY'
import os, stat, sys
root, out = sys.argv[1], sys.argv[2]
def mode(st):
    m = st.st_mode
    t = 'd' if stat.S_ISDIR(m) else 'l' if stat.S_ISLNK(m) else '-' if stat.S_ISREG(m) else \
        'p' if stat.S_ISFIFO(m) else 'c' if stat.S_ISCHR(m) else 'b'
    return f"{t}{'u' if m & 0o4000 else '-'}{'g' if m & 0o2000 else '-'}{m & 0o777:03o} {st.st_uid} {st.st_gid}"
with open(out, 'wb') as f:
    f.write(b"/dev/null\n0 0\n" + mode(os.lstat(root)).encode() + b"\n")
    def walk(d):
        for n in sorted(os.listdir(d)):
            p = os.path.join(d, n); st = os.lstat(p)
            if stat.S_ISSOCK(st.st_mode) or b' ' in os.fsencode(n) or b'\n' in os.fsencode(n):
                continue
            line = os.fsencode(n) + b' ' + mode(st).encode()
            if stat.S_ISREG(st.st_mode): line += b' ' + os.fsencode(p)
            elif stat.S_ISLNK(st.st_mode): line += b' ' + os.fsencode(os.readlink(p))
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                line += f" {os.major(st.st_rdev)} {os.minor(st.st_rdev)}".encode()
            f.write(line + b'\n')
            if stat.S_ISDIR(st.st_mode):
                walk(p); f.write(b"$\n")
    walk(root)
    f.write(b"$\n")
PY
  truncate -s "${size}M" "$2"
  mkfs.xfs -q -f -p "$2.proto" "$2"
}

echo "tree $TREE: $mib MiB; images of ${size} MiB in $OUT"
timed dir "$BIN" scan "$TREE" -q -o "$OUT/dir.json"
read -r dir_best dir_med <<<"$(stat_of dir)"
printf '%-28s best %6.2f s  median %6.2f s\n' "scan $TREE (directory)" "$dir_best" "$dir_med"
for fs in $FSS; do
  part="$OUT/$fs.part"
  disk="$OUT/$fs.img"
  rm -f "$part" "$disk" "$OUT/$fs.qcow2"
  case $fs in
    ext4) mke2fs -q -F -t ext4 -d "$TREE" "$part" "${size}M" ;;
    xfs) build_xfs "$TREE" "$part" ;;
  esac
  bytes=$(stat -c %s "$part")
  truncate -s $(( bytes + 4 * 1048576 )) "$disk"
  printf 'label: gpt\nstart=2048, size=%d, type=linux\n' $(( bytes / 512 )) | sfdisk -q "$disk"
  dd if="$part" of="$disk" bs=4M oflag=seek_bytes seek=1048576 conv=notrunc,sparse status=none
  qemu-img convert -O qcow2 "$disk" "$OUT/$fs.qcow2"
  # dd, not cat: coreutils' cat to /dev/null may copy without reading.
  timed "$fs-cat" dd if="$disk" of=/dev/null bs=1M status=none
  timed "$fs-raw" "$BIN" scan "$disk" -q -o "$OUT/$fs-raw.json"
  timed "$fs-qcow2" "$BIN" scan "$OUT/$fs.qcow2" -q -o "$OUT/$fs-qcow2.json"
  read -r cat_best cat_med <<<"$(stat_of "$fs-cat")"
  read -r raw_best raw_med <<<"$(stat_of "$fs-raw")"
  read -r q_best q_med <<<"$(stat_of "$fs-qcow2")"
  printf '%-28s best %6.2f s  median %6.2f s\n' "dd $fs.img >/dev/null" "$cat_best" "$cat_med"
  printf '%-28s best %6.2f s  median %6.2f s  (x%.2f of dd, x%.2f of the directory scan)\n' \
    "scan $fs.img (raw GPT)" "$raw_best" "$raw_med" \
    "$(echo "$raw_best / $cat_best" | bc -l)" "$(echo "$raw_best / $dir_best" | bc -l)"
  printf '%-28s best %6.2f s  median %6.2f s  (x%.2f of dd)\n' \
    "scan $fs.qcow2" "$q_best" "$q_med" "$(echo "$q_best / $cat_best" | bc -l)"
  d0=$(digest "$OUT/dir.json"); d1=$(digest "$OUT/$fs-raw.json"); d2=$(digest "$OUT/$fs-qcow2.json")
  if [ "$d1" = "$d2" ] && { [ "$fs" = xfs ] || [ "$d0" = "$d1" ]; }; then
    echo "tree digests agree: $d1"
  else
    echo "tree digests: directory $d0, raw $d1, qcow2 $d2" >&2
    [ "$d1" = "$d2" ] || exit 1
  fi
done
