#!/bin/sh
# Installs bakeproof's first-boot verifier into the image. Runs inside the
# build VM as root (golden.pkr.hcl), before seal-and-scan.sh; DESTDIR installs
# into a mounted image instead of the running system.
#
# $BAKEPROOF_STAGE (default /tmp/bakeproof-install) holds the uploads:
#   bakeproof                  the binary (the image's architecture and libc)
#   keys/*.pub                 trusted public keys -> /etc/bakeproof/keys/
#   aws-identity/REGION.pem    AWS identity certificates -> /etc/bakeproof/aws-identity/
#   bakeproof-verify.service   docs/examples/bakeproof-verify.service
#
# Environment:
#   BAKEPROOF_STORE         (required) the store `bakeproof publish` writes to
#   BAKEPROOF_STORE_REGION  the store bucket's region (S3 stores)
#   BAKEPROOF_VERIFY_LEVEL  attestation, packages (default) or files
set -eu

STAGE="${BAKEPROOF_STAGE:-/tmp/bakeproof-install}"
STORE="${BAKEPROOF_STORE:?set BAKEPROOF_STORE to the store the attestations are published to}"
STORE_REGION="${BAKEPROOF_STORE_REGION:-}"
LEVEL="${BAKEPROOF_VERIFY_LEVEL:-packages}"
D="${DESTDIR:-}"

install -d -m 0755 "$D/usr/local/bin" "$D/etc/bakeproof/keys" "$D/etc/bakeproof/aws-identity"
install -m 0755 "$STAGE/bakeproof" "$D/usr/local/bin/bakeproof"
# Fails the build here when the binary does not run on this image.
"$D/usr/local/bin/bakeproof" --version

keys=0
for k in "$STAGE"/keys/*.pub; do
  [ -f "$k" ] || continue
  install -m 0644 "$k" "$D/etc/bakeproof/keys/"
  keys=$((keys + 1))
done
if [ "$keys" -eq 0 ]; then
  echo "no trusted public key (*.pub) in $STAGE/keys: every boot would fail" >&2
  exit 1
fi
for c in "$STAGE"/aws-identity/*.pem; do
  [ -f "$c" ] || continue
  install -m 0644 "$c" "$D/etc/bakeproof/aws-identity/"
done

unit=/etc/systemd/system/bakeproof-verify.service
install -d -m 0755 "$D$unit.d"
install -m 0644 "$STAGE/bakeproof-verify.service" "$D$unit"

# This site's settings, as a drop-in: the store, the level, and one
# --identity-cert per installed region certificate (the unit's own ExecStart
# names us-east-1 only). No --key: every *.pub in /etc/bakeproof/keys is
# trusted.
{
  echo "# Written by install-bakeproof.sh (docs/examples/packer)."
  echo "[Service]"
  echo "Environment=BAKEPROOF_STORE=$STORE"
  echo "ExecStart="
  printf 'ExecStart=/usr/local/bin/bakeproof verify --ami auto --level %s --host-key-age image --format json' "$LEVEL"
  if [ -n "$STORE_REGION" ]; then
    printf ' \\\n    --region %s' "$STORE_REGION"
  fi
  for c in "$D"/etc/bakeproof/aws-identity/*.pem; do
    [ -f "$c" ] || continue
    printf ' \\\n    --identity-cert %s' "${c#"$D"}"
  done
  echo
} > "$D$unit.d/site.conf"
chmod 0644 "$D$unit.d/site.conf"

if [ -z "$D" ]; then
  systemctl daemon-reload
  systemctl enable bakeproof-verify.service
else
  install -d -m 0755 "$D/etc/systemd/system/multi-user.target.wants"
  ln -sfn "$unit" "$D/etc/systemd/system/multi-user.target.wants/bakeproof-verify.service"
fi
rm -rf "$STAGE"
echo "bakeproof-verify.service enabled: $keys trusted key(s), store $STORE"
