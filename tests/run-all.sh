#!/usr/bin/env bash
# tests/run-all.sh: THE test command of bakeproof (CI runs it through .ci/run).
#
# On a Debian 12 machine with a Rust toolchain (rustfmt + clippy components) it:
#   1. installs the Debian packages the tests need, only those missing (dpkg-query):
#        time          GNU time, /usr/bin/time (benchmarks and timing checks)
#        rpm           rpm/rpmbuild 4.18 (oracle for the rpm tests: rpm --root -Va)
#        python3, python3-venv   only when no usable Python >= 3.9 with venv is found
#        golang-go, maven, a JDK, zip, unzip   the language-ecosystem oracles
#        musl-tools, gcc-aarch64-linux-gnu, musl-dev:arm64 (adds dpkg's arm64
#        architecture), qemu-user-static, file   the static builds and their tests
#      then the Rust targets x86_64/aarch64-unknown-linux-musl (rustup) and
#      cargo-deb 3.8.0, cargo-generate-rpm 0.21.1, cargo-auditable 0.7.7 (cargo install --locked);
#      (apt-get as root; through sudo when not root and sudo exists; else it stops
#      and names the packages to install);
#   2. creates/updates the virtualenv .venv with the pinned Python tools from
#      tests/tools/requirements.txt (cyclonedx-python-lib[json-validation]); skipped
#      when .venv already matches the requirements file (stamp in .venv);
#   3. runs, in order, stopping at the first failure:
#        cargo fmt --all -- --check
#        cargo clippy --workspace --all-targets -- -D warnings
#        cargo test --workspace
#      (no separate `cargo build --workspace`: the tests' dev-dependencies
#      (jsonschema, ureq) change the features of shared crates (memchr, serde,
#      regex, the AWS SDK's smithy crates), so a plain build compiled most of
#      the graph a second time; the plain feature set is still built, for the
#      release profile and musl, by tests/static_binary.rs)
#      with BAKEPROOF_PYTHON=$REPO/.venv/bin/python exported, so the Rust tests can run
#      tests/tools/validate_cyclonedx.py (they fail, never skip, without it).
#
# Environment:
#   PYTHON         interpreter used to create .venv (default: python3 on PATH)
#   SKIP_SETUP=1   skip steps 1-2 (use the existing .venv as it is)
#   CARGO_TEST_ARGS  extra arguments appended to `cargo test --workspace`
# Idempotent; a second run does no installs and no network access.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"

REQS="tests/tools/requirements.txt"
VENV="$REPO/.venv"
STAMP="$VENV/.bakeproof-requirements.sha256"

say()  { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die()  { printf '\nrun-all.sh: ERROR: %s\n' "$*" >&2; exit 1; }

START=$(date +%s)

# ---- 0. /dev/null sanity -----------------------------------------------------
# cargo feeds rustc its probe program on a null stdin; if /dev/null has become
# a regular file (an old bakeproof renamed `scan -o /dev/null`'s temporary file
# over it, fixed and tested in tests/hostile.rs), every build fails with
# nonsense. Repair it when we can, otherwise say exactly what is wrong.
if [ ! -c /dev/null ]; then
  if [ "$(id -u)" -eq 0 ]; then
    printf 'run-all.sh: WARNING: /dev/null is not a character device; recreating it\n' >&2
    rm -f /dev/null && mknod -m 666 /dev/null c 1 3 \
      || { printf 'run-all.sh: ERROR: cannot recreate /dev/null\n' >&2; exit 1; }
  else
    printf 'run-all.sh: ERROR: /dev/null is not a character device (as root: rm /dev/null; mknod -m 666 /dev/null c 1 3)\n' >&2
    exit 1
  fi
fi

# ---- 1. Debian packages ------------------------------------------------------
pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_install() {  # apt_install PKG...  (only the missing ones are passed)
  [ $# -gt 0 ] || return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "missing Debian packages: $* (not root and no password-less sudo: install them with 'apt-get install $*')"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages $* and no apt-get on this machine"
  note "installing: $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get install $* failed"
}

python_ok() {  # python_ok INTERPRETER: >= 3.9 with working venv + ensurepip
  "$1" - <<'EOF' >/dev/null 2>&1
import sys, venv, ensurepip
sys.exit(0 if sys.version_info >= (3, 9) else 1)
EOF
}

if [ "${SKIP_SETUP:-0}" != 1 ]; then
  say "Debian packages"
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian 12"
  missing=()
  pkg_installed time || missing+=(time)
  pkg_installed rpm || missing+=(rpm)   # rpm 4.18: rpmbuild + librpm, the oracle of the rpm tests
  pkg_installed python3-rpm || missing+=(python3-rpm)   # rpm.labelCompare: the oracle of the version sort keys (crates/bakeproof-fleet/tests/sortkey_oracle.rs)
  pkg_installed openssh-client || missing+=(openssh-client)   # ssh-keygen: real keys and the fingerprint oracle of the seal tests
  pkg_installed libcap2-bin || missing+=(libcap2-bin)   # setcap/getcap: file capabilities in the rpm -V 'P' test
  pkg_installed xfsprogs || missing+=(xfsprogs)   # mkfs.xfs -p: the XFS images of crates/bakeproof-image/tests/xfs.rs
  pkg_installed attr || missing+=(attr)   # setfattr/getfattr: the xattrs of the XFS image test and the xattr oracle of the ext and XFS reader tests
  pkg_installed zsh || missing+=(zsh)   # loads the generated zsh completion (tests/cli_conventions.rs)
  pkg_installed groff-base || missing+=(groff-base)   # groff: the generated manual pages format without warnings
  pkg_installed man-db || missing+=(man-db)   # man -l: the pages render with each command's options
  pkg_installed dpkg-dev || missing+=(dpkg-dev)   # dpkg-scanpackages: the local apt archive of the supplier test (apt_origin.rs)
  pkg_installed openssh-server || missing+=(openssh-server)   # sshd -T: the oracle of the audit's sshd facts (crates/bakeproof-audit/tests/sshd_oracle.rs)
  pkg_installed e2fsprogs || missing+=(e2fsprogs)   # mke2fs -d, e2fsck -D, debugfs: the images of the ext reader's tests (crates/bakeproof-image/tests/ext4.rs)
  pkg_installed fdisk || missing+=(fdisk)   # sfdisk: the partition tables and the oracle (sfdisk --json) of crates/bakeproof-image/tests/disk.rs
  pkg_installed gdisk || missing+=(gdisk)   # sgdisk: GPT with names and type codes (tests/disk.rs)
  pkg_installed dosfstools || missing+=(dosfstools)   # mkfs.vfat --offset: an EFI system partition in tests/disk.rs
  pkg_installed qemu-utils || missing+=(qemu-utils)   # qemu-img, qemu-io: the qcow2 files and their raw oracle (crates/bakeproof-image/tests/qcow2.rs)
  pkg_installed lvm2 || missing+=(lvm2)
  # The language-ecosystem oracles (crates/bakeproof-ecosystems/tests, tests/ecosystems.rs):
  pkg_installed golang-go || missing+=(golang-go)   # go version -m, go build, x/mod/semver (vendored in GOROOT)
  pkg_installed maven || missing+=(maven)   # Debian's Java archives (/usr/share/java) and Maven's ComparableVersion
  command -v jar >/dev/null 2>&1 || missing+=(default-jdk-headless)   # java/jar: the Maven order oracle, the nested-war test
  pkg_installed zip || missing+=(zip)   # zip -P: an encrypted archive; nested wars
  pkg_installed unzip || missing+=(unzip)   # unzip -p: pom.properties, the Java oracle   # pvcreate, vgcreate, lvcreate, pvs/lvs/vgs: the PVs and their oracle (crates/bakeproof-image/tests/lvm.rs; root, loop devices)
  # Node.js + npm: sigstore-js, the independent bundle verifier of tests/attest.rs
  # (machines of this kind ship Node.js 20; Debian's own 18 is the fallback).
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  PYTHON="${PYTHON:-$(command -v python3 || true)}"
  if [ -z "$PYTHON" ] || ! python_ok "$PYTHON"; then
    # No usable interpreter: take Debian's (python3-venv brings ensurepip).
    pkg_installed python3 || missing+=(python3)
    pkg_installed python3-venv || missing+=(python3-venv)
    PYTHON=/usr/bin/python3
  fi
  # The static builds and their tests (tests/static_binary.rs, docs/release.md):
  # musl-gcc, the aarch64 cross gcc and musl's arm64 headers/wrapper
  # (aarch64-linux-musl-gcc, Multi-Arch package: needs the arm64 architecture
  # in dpkg), qemu-user-static (the aarch64 binary under user emulation), file.
  pkg_installed musl-tools || missing+=(musl-tools)
  pkg_installed gcc-aarch64-linux-gnu || missing+=(gcc-aarch64-linux-gnu)
  pkg_installed qemu-user-static || missing+=(qemu-user-static)
  pkg_installed file || missing+=(file)
  if ! pkg_installed musl-dev:arm64; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      [ "$(id -u)" -eq 0 ] || die "musl-dev:arm64 missing: as root, dpkg --add-architecture arm64 && apt-get update && apt-get install musl-dev:arm64"
      note "dpkg --add-architecture arm64 (for musl-dev:arm64)"
      dpkg --add-architecture arm64
    fi
    missing+=(musl-dev:arm64)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
  else
    note "nothing to install (python: $PYTHON)"
  fi
  [ -x /usr/bin/time ] && /usr/bin/time -f '%e' true >/dev/null 2>&1 \
    || die "/usr/bin/time is not GNU time"
  python_ok "$PYTHON" || die "$PYTHON cannot create a virtualenv (need Python >= 3.9 with venv/ensurepip)"

  # ---- 1b. Rust targets and packagers (static builds, tests/static_binary.rs) --
  say "Rust musl targets, cargo-deb, cargo-generate-rpm, cargo-auditable"
  command -v rustup >/dev/null 2>&1 || die "rustup not found: the musl targets are added with rustup"
  for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    rustup target list --installed | grep -qx "$t" || { note "rustup target add $t"; rustup target add "$t" || die "rustup target add $t failed"; }
  done
  cargo_tool() {  # cargo_tool CRATE VERSION: cargo install --locked, unless that version is there
    if cargo install --list | grep -qx "$1 v$2:"; then return 0; fi
    note "cargo install --locked $1@$2"
    cargo install --locked --quiet "$1@$2" || die "cargo install $1@$2 failed"
  }
  cargo_tool cargo-deb 3.8.0
  cargo_tool cargo-generate-rpm 0.21.1
  # cargo auditable build: the real .dep-v0 binaries of crates/bakeproof-ecosystems/tests/rust_oracle.rs
  cargo_tool cargo-auditable 0.7.7
  note "ok"

  # ---- 2. Python venv --------------------------------------------------------
  say "Python venv $VENV ($REQS)"
  want="$( { sha256sum "$REQS" | cut -d' ' -f1; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
     && "$VENV/bin/python" -c 'import cyclonedx.validation.json, jsonschema' >/dev/null 2>&1; then
    note "up to date"
  else
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
      note "creating with $PYTHON ($("$PYTHON" --version 2>&1))"
      rm -rf "$VENV"
      "$PYTHON" -m venv "$VENV" || die "python -m venv failed"
    fi
    note "installing pinned requirements"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS" \
      || die "pip install -r $REQS failed"
    "$VENV/bin/python" -c 'import cyclonedx.validation.json, jsonschema' \
      || die "cyclonedx-python-lib is not importable from $VENV"
    echo "$want" > "$STAMP"
  fi
  note "$("$VENV/bin/python" -m pip show cyclonedx-python-lib 2>/dev/null | sed -n 's/^Version: /cyclonedx-python-lib /p')"
fi

[ -x "$VENV/bin/python" ] || die "$VENV/bin/python missing (run without SKIP_SETUP=1)"
export BAKEPROOF_PYTHON="$VENV/bin/python"

# ---- 3. cargo ------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain"
cargo fmt --version >/dev/null 2>&1 || die "rustfmt missing: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || die "clippy missing: rustup component add clippy"

run() {
  say "$*"
  local t0=$SECONDS
  "$@" || die "failed: $*"
  note "ok ($((SECONDS - t0)) s)"
}

run cargo fmt --all -- --check
run cargo clippy --workspace --all-targets -- -D warnings
# shellcheck disable=SC2086
run cargo test --workspace ${CARGO_TEST_ARGS:-}

say "all checks passed in $(( $(date +%s) - START )) s"
