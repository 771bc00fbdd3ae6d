#!/usr/bin/env bash
# tools/release.sh: bakeproof's release artifacts, by one command
# (docs/release.md). From the repository root, after the README's set-up:
#
#   COSIGN_PASSWORD=... tools/release.sh --key release.key [--out DIR]
#
# writes into DIR (default target/dist/VERSION):
#   bakeproof-VERSION-x86_64-unknown-linux-musl     static binaries, stripped
#   bakeproof-VERSION-aarch64-unknown-linux-musl    (profile `dist`)
#   bakeproof_VERSION-1_amd64.deb, bakeproof_VERSION-1_arm64.deb     cargo-deb
#   bakeproof-VERSION-1.x86_64.rpm, bakeproof-VERSION-1.aarch64.rpm  cargo-generate-rpm
#   SHA256SUMS                   sha256sum of each of the above
#   bakeproof-VERSION.cdx.json   bakeproof's own SBOM of them (`bakeproof scan`)
#   bakeproof-VERSION.sigstore.json   a statement about each artifact (name,
#                                SHA-256) with that SBOM, signed by bakeproof
#                                itself (`bakeproof attest-artifacts`)
#   release.pub                  the public key it verifies with (KEY.pub)
#
# and checks them before it ends: each binary static and glibc-free, and
# tests/static_binary.rs run against these very binaries and packages (the
# x86_64 one in an empty chroot, the aarch64 one under qemu-aarch64-static,
# the .deb installed into a scratch root), then the sums and the
# attestation verified as a user would (README, "Install").
#
# Options / environment:
#   --key FILE | BAKEPROOF_RELEASE_KEY   cosign-format private key (required;
#                                        `bakeproof key generate` makes one);
#                                        its password from COSIGN_PASSWORD or a prompt
#   --out DIR  | BAKEPROOF_RELEASE_OUT   output directory (must not exist)
#   BAKEPROOF_RELEASE_PROFILE            cargo profile (default dist)
#   SOURCE_DATE_EPOCH                    every timestamp (default: the commit's time)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"

die() { printf 'release.sh: ERROR: %s\n' "$*" >&2; exit 1; }
say() { printf '\n==> %s\n' "$*"; }

KEY="${BAKEPROOF_RELEASE_KEY:-}"
OUT="${BAKEPROOF_RELEASE_OUT:-}"
PROFILE="${BAKEPROOF_RELEASE_PROFILE:-dist}"
while [ $# -gt 0 ]; do
  case "$1" in
    --key) KEY="${2:?--key FILE}"; shift 2 ;;
    --out) OUT="${2:?--out DIR}"; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$KEY" ] || die "no signing key: --key FILE or BAKEPROOF_RELEASE_KEY (bakeproof key generate makes one)"
[ -f "$KEY" ] || die "$KEY: no such key file"
KEY="$(cd "$(dirname "$KEY")" && pwd -P)/$(basename "$KEY")"

for tool in musl-gcc aarch64-linux-musl-gcc aarch64-linux-gnu-gcc qemu-aarch64-static \
            cargo-deb cargo-generate-rpm dpkg-deb rpm readelf file sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run the README's set-up (tests/run-all.sh installs it)"
done

VERSION="$(cargo pkgid -p bakeproof | sed 's/.*[#@]//')"
# Reproducible: every timestamp (the binaries' build date in `version`, the
# SBOM's and the attestation's) is the commit's time unless already set.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct HEAD)" || die "cannot read the commit's time (git)"
fi
export SOURCE_DATE_EPOCH
[ -n "$VERSION" ] || die "cannot read bakeproof's version"
OUT="${OUT:-$REPO/target/dist/$VERSION}"
[ ! -e "$OUT" ] || die "$OUT exists: remove it or give --out"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[ -n "$TARGET_DIR" ] || die "cannot read cargo's target directory"
mkdir -p "$OUT"

declare -A DEB_ARCH=([x86_64-unknown-linux-musl]=amd64 [aarch64-unknown-linux-musl]=arm64)
declare -A ELF_MACHINE=([x86_64-unknown-linux-musl]=x86-64 [aarch64-unknown-linux-musl]=aarch64)

for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  say "build $target (profile $PROFILE)"
  cargo build --locked -p bakeproof --profile "$PROFILE" --target "$target"
  bin="$TARGET_DIR/$target/$PROFILE/bakeproof"
  # Static and glibc-free (the test checks it again, independently).
  file -b "$bin" | grep -Eq 'statically linked|static-pie linked' || die "$bin is not static: $(file -b "$bin")"
  file -b "$bin" | grep -q "${ELF_MACHINE[$target]}" || die "$bin: wrong machine: $(file -b "$bin")"
  ! readelf -d "$bin" | grep -q '(NEEDED)' || die "$bin needs shared libraries"
  ! grep -q 'GLIBC_' "$bin" || die "$bin names GLIBC_ symbols"
  file -b "$bin" | grep -q 'not stripped' && die "$bin is not stripped"
  cp "$bin" "$OUT/bakeproof-$VERSION-$target"

  say "packages $target"
  # Manual pages and completions, made by the x86_64 binary (built first:
  # it runs here; they are the same for every target).
  packaging/share.sh "$TARGET_DIR/x86_64-unknown-linux-musl/$PROFILE/bakeproof" "$TARGET_DIR/$target/$PROFILE/share"
  cargo deb -p bakeproof --no-build --no-strip --target "$target" --profile "$PROFILE" -o "$OUT"
  cargo generate-rpm -p crates/bakeproof --target "$target" --profile "$PROFILE" -o "$OUT"
done

ls "$OUT"/*.deb "$OUT"/*.rpm >/dev/null || die "no packages written"
DEB_X86="$(ls "$OUT"/*_amd64.deb)"
RPM_X86="$(ls "$OUT"/*.x86_64.rpm)"

say "tests/static_binary.rs against the artifacts"
BAKEPROOF_STATIC_X86_64="$OUT/bakeproof-$VERSION-x86_64-unknown-linux-musl" \
BAKEPROOF_STATIC_AARCH64="$OUT/bakeproof-$VERSION-aarch64-unknown-linux-musl" \
BAKEPROOF_DEB="$DEB_X86" BAKEPROOF_RPM="$RPM_X86" \
  cargo test --locked -p bakeproof --test static_binary -- --include-ignored

say "sums, SBOM, attestation"
BP="$OUT/bakeproof-$VERSION-x86_64-unknown-linux-musl"
(
  cd "$OUT"
  sha256sum -- bakeproof-*-unknown-linux-musl *.deb *.rpm > SHA256SUMS
)
# (Written beside, then moved in: the scan must not see its own output.)
"$BP" scan "$OUT" -q -o "$OUT.cdx.json"
mv "$OUT.cdx.json" "$OUT/bakeproof-$VERSION.cdx.json"
[ -f "${KEY%.key}.pub" ] || die "no public key beside $KEY (${KEY%.key}.pub)"
cp "${KEY%.key}.pub" "$OUT/release.pub"
artifacts=()
while read -r _ f; do artifacts+=("$OUT/$f"); done < "$OUT/SHA256SUMS"
"$BP" attest-artifacts --sbom "$OUT/bakeproof-$VERSION.cdx.json" --key "$KEY" \
  -o "$OUT/bakeproof-$VERSION.sigstore.json" "${artifacts[@]}"

say "check as a user would (README, Install)"
(
  cd "$OUT"
  sha256sum --check --strict SHA256SUMS
  "$BP" verify-artifacts --bundle "bakeproof-$VERSION.sigstore.json" --key release.pub \
    "${artifacts[@]}"
)

say "release $VERSION in $OUT"
ls -l "$OUT"
