#!/bin/sh
# Build the seed corpora of every fuzz target from the repository's real
# fixtures (nothing invented): fuzz/corpus/<target>/. Idempotent; the corpus
# directories are not committed (libFuzzer adds thousands of files to them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fx="$here/../fixtures"
c="$here/corpus"
mkdir -p "$c/bdb" "$c/ndb" "$c/rpm_header" "$c/dpkg_status" "$c/os_release" "$c/diff" "$c/caps" "$c/types" "$c/design_plain" "$c/design_toml" "$c/audit_facts" "$c/xfs_image"

# Berkeley DB hash: both real Packages files (16 KiB and 92 KiB).
cp "$fx/rpmdb/centos8-dive/Packages" "$c/bdb/centos8-dive"
cp "$fx/rpmdb/rhel8-libuuid/Packages" "$c/bdb/rhel8-libuuid"

# NDB: the real file is 1.3 MiB, too big for useful mutation speed. Seeds:
# the real slot page with the first blob (file order) kept and every other
# slot freed, plus the first two blobs. Blob bytes are copied unchanged.
# rpm_header: every real header blob of the NDB file (35 packages).
python3 - "$fx/rpmdb/sle15-bci/Packages.db" "$c" <<'PY'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
b = open(src, 'rb').read()
slotnpages = struct.unpack_from('<I', b, 12)[0]
slots = []
for off in range(32, slotnpages * 4096, 16):
    magic, idx, blkoff, blkcnt = struct.unpack_from('<4sIII', b, off)
    if blkoff:
        slots.append((blkoff, blkcnt, idx, off))
slots.sort()
for idx_blob, (blkoff, blkcnt, idx, _) in enumerate(slots):
    bloblen = struct.unpack_from('<I', b, blkoff * 16 + 12)[0]
    open(f'{out}/rpm_header/sle15-{idx}', 'wb').write(b[blkoff * 16 + 16: blkoff * 16 + 16 + bloblen])
for keep in (1, 2):
    page = bytearray(b[:4096])
    struct.pack_into('<I', page, 12, 1)          # one slot page
    kept = slots[:keep]
    for (_, _, _, off) in slots[keep:]:
        struct.pack_into('<III', page, off + 4, 0, 0, 0)   # free the slot
    data = bytearray(page)
    # move the kept blobs right after the slot page, fixing their slots
    for (blkoff, blkcnt, idx, off) in kept:
        new = len(data) // 16
        data += b[blkoff * 16:(blkoff + blkcnt) * 16]
        struct.pack_into('<I', data, off + 8, new)
    open(f'{out}/ndb/sle15-first{keep}', 'wb').write(bytes(data))
PY

# Amplifiers (issue 11): inputs that are small but describe much more
# memory than their size. They are the regression seeds of the RSS limit in
# run.sh: before the parsers had a budget, each of these crossed it.
# * rpm_header: one 60 KB DIRNAMES entry and 11,000 one-byte BASENAMES all
#   indexing it (126 KB; 660 MB of joined paths);
# * dpkg_status: 32 `Multi-Arch: same` instances of one package (in a root
#   they would all fall back to one info/amp.list).
python3 - "$c" <<'PY'
import struct, sys
out = sys.argv[1]
def blob(entries):
    data, index = b"", []
    for tag, ty, d, count in entries:
        if ty == 4:
            data += b"\0" * (-len(data) % 4)
        index.append((tag, ty, len(data), count))
        data += d
    b = struct.pack(">II", len(index), len(data))
    for e in index:
        b += struct.pack(">IIII", *e)
    return b + data
n = 11000
b = blob([
    (1000, 6, b"amp\0", 1),
    (1116, 4, b"\0\0\0\0" * n, n),
    (1117, 8, b"".join(bytes([97 + i % 26, 0]) for i in range(n)), n),
    (1118, 8, b"/" + b"d" * 60000 + b"/\0", 1),
])
assert len(b) <= 131072, len(b)
open(f"{out}/rpm_header/amplify-dirnames", "wb").write(b)
st = "".join(f"Package: amp\nStatus: install ok installed\nArchitecture: arch{i}\n"
             f"Multi-Arch: same\nVersion: 1\n\n" for i in range(32))
open(f"{out}/dpkg_status/amplify-multiarch", "w").write(st)
PY

# dpkg status and os-release from the real Debian 12 root.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$fx/dpkgroot/clean.tar.gz" -C "$tmp" ./var/lib/dpkg/status ./usr/lib/os-release
cp "$tmp/var/lib/dpkg/status" "$c/dpkg_status/debian12-status"
cp "$tmp/usr/lib/os-release" "$c/os_release/debian12"
# design documents: the examples of docs/audit.md.
awk '/^```text$/{f=1;next} /^```$/{f=0} f' "$here/../docs/audit.md" > "$c/design_plain/docs-example"
awk '/^```toml$/{f=1;next} /^```$/{f=0} f' "$here/../docs/audit.md" > "$c/design_toml/docs-example"
# diff: real SBOMs and seal reports of the clean and tampered rpm fixture
# roots, written by bakeproof itself (built here if needed), cut to their
# first 40 components so a seed stays under -max_len, paired as the target
# expects (u16 LE length of OLD, OLD, NEW).
bp="${BAKEPROOF:-}"
if [ -z "$bp" ]; then
    (cd "$here/.." && cargo build -q --release -p bakeproof)
    bp="$here/../target/release/bakeproof"
fi
for v in clean tampered; do
    mkdir -p "$tmp/$v"
    tar -xzf "$fx/rpmroot/$v.tar.gz" -C "$tmp/$v"
    SOURCE_DATE_EPOCH=1704067200 "$bp" scan "$tmp/$v" -q -o "$tmp/$v.cdx.json" || [ $? -eq 3 ]
    "$bp" seal check "$tmp/$v" --format json > "$tmp/$v.seal.json" || true
done
python3 - "$tmp" "$c/diff" <<'PY'
import json, struct, sys
tmp, out = sys.argv[1], sys.argv[2]
def cut(p):
    d = json.load(open(p))
    d["components"] = d.get("components", [])[:40]
    d.pop("dependencies", None)
    return json.dumps(d, separators=(",", ":")).encode()
def pair(a, b):
    return struct.pack("<H", len(a)) + a + b
s = {v: cut(f"{tmp}/{v}.cdx.json") for v in ("clean", "tampered")}
r = {v: open(f"{tmp}/{v}.seal.json", "rb").read() for v in ("clean", "tampered")}
open(f"{out}/sbom-clean-tampered", "wb").write(pair(s["clean"], s["tampered"]))
open(f"{out}/sbom-tampered-clean", "wb").write(pair(s["tampered"], s["clean"]))
open(f"{out}/seal-clean-tampered", "wb").write(pair(r["clean"], r["tampered"]))
PY

# types: the purls bakeproof wrote for the rpm fixture roots above (rpm,
# with epoch qualifiers and percent-encoded versions), and the AMI reference,
# subject name, digest and epoch forms the CLI accepts.
python3 - "$tmp" "$c/types" <<'PY'
import json, sys
tmp, out = sys.argv[1], sys.argv[2]
purls = sorted({c["purl"] for v in ("clean", "tampered")
                for c in json.load(open(f"{tmp}/{v}.cdx.json")).get("components", []) if "purl" in c})
for i, p in enumerate(purls[:64]):
    open(f"{out}/purl-{i}", "w").write(p)
for i, s in enumerate(["us-east-1:ami-0123456789abcdef0", "us-gov-west-1:ami-12345678",
                       "ami://eu-west-1/ami-0fedcba9876543210",
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       " 1704067200\n"]):
    open(f"{out}/form-{i}", "w").write(s)
PY

# caps: security.capability values written by the real setcap(8) (libcap),
# and the same sets as text.
for spec in "cap_net_raw=ep" "cap_setuid=p" "cap_net_admin,cap_net_raw=p cap_sys_nice=i" "cap_bpf=p"; do
    n=$(printf '%s' "$spec" | tr -c 'a-z0-9' _)
    : > "$tmp/capfile"
    if setcap "$spec" "$tmp/capfile" 2>/dev/null; then
        python3 -c 'import os,sys; open(sys.argv[2],"wb").write(os.getxattr(sys.argv[1],"security.capability"))' \
            "$tmp/capfile" "$c/caps/xattr-$n"
    fi
    printf '%s' "$spec" > "$c/caps/text-$n"
done

# sshd_config, systemd_unit (issue 14): the sshd_config openssh-server
# installs, and unit files of this machine's systemd.
mkdir -p "$c/sshd_config" "$c/systemd_unit"
for f in /usr/share/openssh/sshd_config /etc/ssh/sshd_config; do
    [ -f "$f" ] && cp "$f" "$c/sshd_config/$(echo "$f" | tr / _)"
done
for f in /lib/systemd/system/getty@.service /lib/systemd/system/ssh.service \
         /lib/systemd/system/systemd-networkd.service; do
    [ -f "$f" ] && cp "$f" "$c/systemd_unit/$(basename "$f")"
done
# audit_facts: the first byte picks the parser (0 passwd, 1 shadow/group,
# 2 login.defs/shells, 3 the join, 4 selinux/ufw, 5 /proc/net, 6 ELF). The
# seeds are this machine's real files (the build host's, read only here).
seed() { # N NAME FILE
    [ -r "$3" ] || return 0
    { printf "\\$(printf '%03o' "$1")"; head -c 65536 "$3"; } > "$c/audit_facts/$2"
}
seed 0 passwd /etc/passwd
seed 1 group /etc/group
seed 2 login.defs /etc/login.defs
seed 2 shells /etc/shells
seed 3 passwd-join /etc/passwd
seed 4 selinux-config /etc/selinux/config
seed 5 proc-net-tcp /proc/net/tcp
seed 5 proc-net-tcp6 /proc/net/tcp6
seed 5 proc-net-udp /proc/net/udp
seed 6 elf-sh /bin/sh

# ext4_image (issue 16): small images made by the real mke2fs -d (e2fsprogs)
# from a tree with a file, a symlink, a FIFO, a file capability and a
# subdirectory: ext2 (block maps), ext4 without journal, ext4 inline_data.
# 128 KiB or less: run.sh's -max_len.
if command -v mke2fs >/dev/null 2>&1; then
    mkdir -p "$c/ext4_image"
    t=$(mktemp -d)
    mkdir -p "$t/src/dir/sub"
    printf 'hello\n' > "$t/src/file"
    head -c 20000 /bin/sh > "$t/src/dir/blocks"
    ln -s file "$t/src/link"
    ln "$t/src/file" "$t/src/dir/hardlink"
    mkfifo "$t/src/fifo"
    command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep "$t/src/dir/blocks" 2>/dev/null || true
    for v in "ext2 -b 1024" "ext4 -b 1024 -O ^has_journal" "ext4 -b 1024 -O ^has_journal,inline_data -I 256"; do
        name=$(echo "$v" | tr -c 'a-z0-9\n' _)
        # shellcheck disable=SC2086
        mke2fs -q -F -N 32 -t $v -d "$t/src" "$t/img" 128K >/dev/null 2>&1 \
            && cp "$t/img" "$c/ext4_image/$name"
        rm -f "$t/img"
    done
    rm -rf "$t"
fi

# xfs_image: a real mkfs.xfs (xfsprogs) image made from a protofile (a file,
# a symlink, a FIFO, a short-form directory and a 150-entry leaf directory),
# as the sparse chunks the target reads: the image's non-zero byte runs,
# its log left out. Skipped without mkfs.xfs.
mkfs_xfs=$(command -v mkfs.xfs || { [ -x /usr/sbin/mkfs.xfs ] && echo /usr/sbin/mkfs.xfs; } || { [ -x /sbin/mkfs.xfs ] && echo /sbin/mkfs.xfs; } || true)
if [ -n "$mkfs_xfs" ]; then
    xt=$(mktemp -d)
    printf 'hello\n' > "$xt/a"
    python3 - "$xt" > "$xt/proto" <<'PY'
import sys
t = sys.argv[1]
print('/dev/null\n0 0\nd--755 0 0')
print(f'a ---644 0 0 {t}/a\nl l--777 0 0 a\nfifo p--644 0 0\nd d--755 0 0')
for i in range(10):
    print(f'file-{i:02} ---644 1 1 {t}/a')
print('$\nbig d--700 0 0')
for i in range(150):
    print(f'entry-{i:04} ---644 0 0 /dev/null')
print('$\n$')
PY
    truncate -s 300M "$xt/x.img"
    "$mkfs_xfs" -q -m reflink=0,rmapbt=0,finobt=0 -d agcount=2 -p "$xt/proto" "$xt/x.img"
    python3 - "$xt/x.img" "$c/xfs_image/mkfs-proto" <<'PY'
import re, struct, sys
img, out = sys.argv[1], sys.argv[2]
f = open(img, 'rb')
sb = f.read(512)
logstart, = struct.unpack_from('>Q', sb, 48)
logblocks, = struct.unpack_from('>I', sb, 96)
agblocks, = struct.unpack_from('>I', sb, 84)
agblklog = sb[124]
log = (logstart >> agblklog) * agblocks + (logstart & ((1 << agblklog) - 1))
f.seek(0)
chunks = bytearray()
i = 0
while True:
    blk = f.read(4096)
    if not blk:
        break
    if any(blk) and not log <= i < log + logblocks:
        for m in re.finditer(rb'[^\0](?:[^\0]|\0{1,15}(?=[^\0]))*', blk):
            s = m.start() // 8 * 8
            chunks += struct.pack('<IH', (i * 4096 + s) // 8, m.end() - s) + blk[s:m.end()]
    i += 1
open(out, 'wb').write(chunks)
PY
    rm -rf "$xt"
fi

# disk_layout, qcow2_image, lvm_metadata (issue 16): tables written by the
# real sfdisk/sgdisk, qcow2 files by qemu-img, a PV and its metadata by the
# lvm2 tools (root and a loop device; skipped otherwise). 128 KiB or less.
t=$(mktemp -d)
if command -v sfdisk >/dev/null 2>&1; then
    mkdir -p "$c/disk_layout"
    truncate -s 128K "$t/mbr"
    printf 'label: dos\n,32,83\n,,5\n,16,83\n,16,82\n,,83\n' | sfdisk -q "$t/mbr" >/dev/null 2>&1 \
        && cp "$t/mbr" "$c/disk_layout/mbr-logical"
    truncate -s 128K "$t/gpt"
    printf 'label: gpt\nsize=32, name=a\nsize=16, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n' | sfdisk -q "$t/gpt" >/dev/null 2>&1 \
        && cp "$t/gpt" "$c/disk_layout/gpt"
fi
if command -v qemu-img >/dev/null 2>&1; then
    mkdir -p "$c/qcow2_image"
    head -c 16384 /bin/sh > "$t/raw"; truncate -s 64K "$t/raw"
    for v in "-c -o cluster_size=512" "-o cluster_size=512,compat=0.10" "-c -o cluster_size=512,compression_type=zstd"; do
        name=$(echo "$v" | tr -c 'a-z0-9\n' _)
        # shellcheck disable=SC2086
        qemu-img convert -f raw -O qcow2 $v "$t/raw" "$t/q" >/dev/null 2>&1 && cp "$t/q" "$c/qcow2_image/$name"
        rm -f "$t/q"
    done
fi
if command -v pvcreate >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && truncate -s 16M "$t/pv" && l=$(losetup -f --show "$t/pv" 2>/dev/null); then
    mkdir -p "$c/lvm_metadata"
    cfg='--config=activation{udev_sync=0 udev_rules=0 monitoring=0} devices{obtain_device_list_from_udev=0}'
    vg="bkpseed$$"
    export LVM_SUPPRESS_FD_WARNINGS=1
    if pvcreate "$cfg" -q --metadatasize 64k "$l" >/dev/null 2>&1 && vgcreate "$cfg" -q -s 1M "$vg" "$l" >/dev/null 2>&1; then
        lvcreate "$cfg" --driverloaded n -an -Zn -q -L 2M -n a "$vg" >/dev/null 2>&1
        lvcreate "$cfg" --driverloaded n -an -Zn -q -L 1M -n b "$vg" >/dev/null 2>&1
        # A PV (first byte 0 picks read_pv) and its metadata text (1).
        { printf '\0'; head -c 130000 "$t/pv"; } > "$c/lvm_metadata/pv"
        vgcfgbackup "$cfg" -q -f "$t/txt" "$vg" >/dev/null 2>&1 && { printf '\1'; cat "$t/txt"; } > "$c/lvm_metadata/text"
        vgremove "$cfg" -f -q "$vg" >/dev/null 2>&1
        pvremove "$cfg" -q -y "$l" >/dev/null 2>&1
    fi
    losetup -d "$l"
fi
rm -rf "$t"

# eco_java: the small jars Debian ships (under run.sh's 128 KiB -max_len),
# and a war of two of them (nested archives reachable from the seeds).
mkdir -p "$c/eco_java"
n=0
for f in /usr/share/java/*.jar; do
    [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %s "$f")" -le 60000 ] || continue
    cp "$f" "$c/eco_java/$(basename "$f")"
    n=$((n + 1))
    [ "$n" -ge 8 ] && break
done
if command -v zip >/dev/null; then
    w=$(mktemp -d)
    mkdir -p "$w/WEB-INF/lib"
    for f in $(ls "$c/eco_java"/*.jar 2>/dev/null | head -2); do cp "$f" "$w/WEB-INF/lib/"; done
    (cd "$w" && zip -qr0 "$c/eco_java/app.war" WEB-INF)
    rm -rf "$w"
fi

# eco_python: METADATA and RECORD of up to 8 distributions of the host's
# Python (each under 128 KiB).
# eco_version: their versions, two by two, joined by a 0x00 byte.
mkdir -p "$c/eco_python" "$c/eco_version"
if command -v python3 >/dev/null; then
    n=0
    prev=""
    for d in $(python3 -c 'import site, sys; print("\n".join(site.getsitepackages() + [sys.prefix + "/lib/python3/dist-packages"]))' 2>/dev/null | sort -u); do
        for m in "$d"/*.dist-info/METADATA; do
            [ -f "$m" ] && [ "$(stat -c %s "$m")" -le 131072 ] || continue
            di=$(dirname "$m")
            b=$(basename "$di" .dist-info)
            cp "$m" "$c/eco_python/$b.METADATA"
            [ -f "$di/RECORD" ] && [ "$(stat -c %s "$di/RECORD")" -le 131072 ] && cp "$di/RECORD" "$c/eco_python/$b.RECORD"
            v=${b##*-}
            [ -n "$prev" ] && printf '%s\0%s' "$prev" "$v" > "$c/eco_version/$b"
            prev=$v
            n=$((n + 1))
            [ "$n" -ge 8 ] && break 2
        done
    done
fi

# eco_npm: the test app's package.json and package-lock.json, and up to 8
# package.json files of Debian's node modules.
mkdir -p "$c/eco_npm"
cp "$here/../tests/tools/npm-app/package.json" "$c/eco_npm/app-package.json"
cp "$here/../tests/tools/npm-app/package-lock.json" "$c/eco_npm/app-package-lock.json"
n=0
for f in /usr/share/nodejs/*/package.json; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 131072 ] || continue
    cp "$f" "$c/eco_npm/$(basename "$(dirname "$f")").package.json"
    n=$((n + 1))
    [ "$n" -ge 8 ] && break
done

echo "seeded $(find "$c" -type f | wc -l) files under $c"
