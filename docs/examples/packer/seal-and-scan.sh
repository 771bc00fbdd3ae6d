#!/bin/sh
# The LAST step inside the build VM (golden.pkr.hcl runs it as root): seal
# the image, scan it, check the seal. Nothing may change the image after it:
# the SBOM's tree digest is what gets attested, and the seal report must
# describe the image as shipped.
#
# Outputs go to tmpfs, never into the image (Packer downloads them):
#   $BAKEPROOF_OUT/sbom.cdx.json   CycloneDX SBOM with the tree digest
#   $BAKEPROOF_OUT/seal.json       seal report (schemas/seal-report.schema.json)
#
# Environment:
#   BAKEPROOF_OUT          output directory (default /run/bakeproof; on the
#                          running system only /run/... or /dev/shm/...)
#   BAKEPROOF_ROOT         root to seal and scan (default /; a mounted image works)
#   BAKEPROOF_NAME         image name in the SBOM (default golden)
#   BAKEPROOF_SEAL_STRICT  1 (default): seal warnings fail the build, as they
#                          fail `bakeproof verify` at boot unless tolerated there
#                          with --allow-warn; 0: only failing checks do
#
# Exit: 0 sealed and scanned; otherwise the failing step's code (seal apply 1/2,
# scan 2/3, seal check 1/2), which fails the Packer build before any AMI exists.
set -eu

ROOT="${BAKEPROOF_ROOT:-/}"
OUT="${BAKEPROOF_OUT:-/run/bakeproof}"
NAME="${BAKEPROOF_NAME:-golden}"
STRICT="${BAKEPROOF_SEAL_STRICT:-1}"
export PATH="$PATH:/usr/local/bin"

if [ "$ROOT" = / ]; then
  case "$OUT" in
    /run/*|/dev/shm/*) ;;
    *) echo "refusing to write into the image: BAKEPROOF_OUT=$OUT is not under /run or /dev/shm" >&2
       exit 2 ;;
  esac
fi
install -d -m 0755 "$OUT"
rm -f "$OUT/sbom.cdx.json" "$OUT/seal.json"

# 1. Seal: machine-id, host keys, the build user's authorized_keys (Packer's
#    open SSH connection survives), cloud-init state, histories, logs, /tmp,
#    package caches, random seed, DHCP leases.
bakeproof seal apply "$ROOT" --yes

# 2. Scan. Exit 3 (some entry could not be indexed) fails too: an SBOM with
#    holes is not attested.
rc=0
bakeproof scan "$ROOT" -o "$OUT/sbom.cdx.json" --name "$NAME" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "scan exited $rc: not attesting this image" >&2
  exit "$rc"
fi

# 3. Check the seal of what was scanned.
rc=0
if [ "$STRICT" = 1 ]; then
  bakeproof seal check "$ROOT" --strict --format json > "$OUT/seal.json" || rc=$?
else
  bakeproof seal check "$ROOT" --format json > "$OUT/seal.json" || rc=$?
fi
if [ "$rc" -ne 0 ]; then
  echo "seal check exited $rc; the findings:" >&2
  bakeproof seal check "$ROOT" --format text >&2 || true
  exit "$rc"
fi

# The SSH user downloads these.
chmod 0644 "$OUT/sbom.cdx.json" "$OUT/seal.json"
ls -l "$OUT"
