#!/bin/sh
# The LAST step inside the build VM (golden.pkr.hcl runs it as root): seal
# the image, scan it, check the seal. Nothing may change the image after it:
# the SBOM's tree digest is what gets attested, and the seal report must
# describe the image as shipped.
#
# Outputs go to tmpfs, never into the image (Packer downloads them):
#   $BAKEPROOF_OUT/sbom.cdx.json   CycloneDX SBOM with the tree digest
#   $BAKEPROOF_OUT/seal.json       seal report (schemas/seal-report.schema.json)
#   $BAKEPROOF_OUT/audit.json      with BAKEPROOF_DESIGN: the design-document
#                                  audit (schemas/audit-report.schema.json)
#
# Environment:
#   BAKEPROOF_OUT          output directory (default /run/bakeproof; on the
#                          running system only /run/... or /dev/shm/...)
#   BAKEPROOF_ROOT         root to seal and scan (default /; a mounted image works)
#   BAKEPROOF_NAME         image name in the SBOM (default golden)
#   BAKEPROOF_DESIGN       design documents (設計書) to audit the image against,
#                          space-separated paths (upload them to /dev/shm, not
#                          into the image); unset: no audit
#   BAKEPROOF_SEAL_STRICT  1 (default): seal warnings fail the build, as they
#                          fail `bakeproof verify` at boot unless tolerated there
#                          with --allow-warn; 0: only failing checks do
#
# Exit: 0 sealed and scanned; otherwise the failing step's code (seal apply 1/2,
# scan 1/2/3, audit 1/2), which fails the Packer build before any AMI exists.
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
rm -f "$OUT/sbom.cdx.json" "$OUT/seal.json" "$OUT/audit.json"

# 1. Seal: machine-id, host keys, the build user's authorized_keys (Packer's
#    open SSH connection survives), cloud-init state, histories, logs, /tmp,
#    package caches, random seed, DHCP leases.
bakeproof seal apply "$ROOT" --yes

# 2. Scan and check the seal in one read of the tree: the SBOM and the seal
#    report describe the same tree (the report carries the SBOM's tree
#    digest), so `bakeproof attest` accepts the pair; a separate `seal check`
#    after the scan would see a tree that may have changed in between.
#    Exit 1: unsealed (the findings follow); 3: some entry could not be
#    indexed (an SBOM with holes is not attested); 2: error.
rc=0
scan_strict=; check_strict=
if [ "$STRICT" = 1 ]; then scan_strict=--seal-strict; check_strict=--strict; fi
bakeproof scan "$ROOT" -o "$OUT/sbom.cdx.json" --name "$NAME" \
  --seal-report "$OUT/seal.json" $scan_strict || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "scan exited $rc: not attesting this image" >&2
  if [ "$rc" -eq 1 ]; then
    echo "the seal findings:" >&2
    bakeproof seal check "$ROOT" $check_strict --format text >&2 || true
  fi
  exit "$rc"
fi

# 3. The design document, after the seal and before the capture: the audit
#    reads the same tree (its report carries the same tree digest, which
#    `attest --audit` requires). Exit 1: a requirement is not met.
if [ -n "${BAKEPROOF_DESIGN:-}" ]; then
  designs=
  for d in $BAKEPROOF_DESIGN; do designs="$designs --design $d"; done
  # shellcheck disable=SC2086
  bakeproof audit "$ROOT" $designs --format json -o "$OUT/audit.json" || {
    rc=$?
    echo "audit exited $rc: the image does not match its design document" >&2
    # shellcheck disable=SC2086
    bakeproof audit "$ROOT" $designs --format text --no-tree-digest >&2 || true
    exit "$rc"
  }
  chmod 0644 "$OUT/audit.json"
fi

# The SSH user downloads these.
chmod 0644 "$OUT/sbom.cdx.json" "$OUT/seal.json"
ls -l "$OUT"
