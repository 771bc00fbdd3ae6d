#!/usr/bin/env bash
# benches/rpm-vs-librpm.sh: bakeproof against librpm (Debian's rpm 4.18) on the
# same rpm databases and the same root, in one run. A benchmark, not a test.
#
#   benches/rpm-vs-librpm.sh [OUT_DIR]
#
# 1. Parse: the largest rpm database fixture (fixtures/rpmdb/cbl-mariner-2.0,
#    sqlite, 129 packages, 7269 files) read N times by
#      rpm --dbpath COPY -qa --qf '%{NAME}...'   (librpm: open, iterate, format)
#      bakeproof scan COPY/rpmdb.sqlite --format table -q -o /dev/null
#    (both are whole processes: start-up, reading every header, output).
# 2. Verify: a root built here with real rpmbuild + rpm: PKGS packages of FILES
#    files each (FILE_KIB KiB of pseudo-random bytes per file, built from
#    generated spec files), installed with `rpm --root R -i --nodeps
#    --noscripts`; then
#      rpm --root R -Va                           (librpm, single-threaded)
#      bakeproof verify-packages R -j 1           (one worker thread)
#      bakeproof verify-packages R                (one thread per core)
#    median of RUNS after one warm-up each, page cache warm; outputs are
#    compared (they must be identical).
#
# Environment: RUNS (default 5), PKGS (default 100), FILES (default 200),
# FILE_KIB (default 64), PARSE_N (default 20), BAKEPROOF_BIN (default: build
# target/release/bakeproof). Needs rpm and rpmbuild (Debian package `rpm`) and
# root (rpm --root chroots).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
OUT="${1:-$REPO/bench-out/rpm}"
RUNS="${RUNS:-5}"; PKGS="${PKGS:-100}"; FILES="${FILES:-200}"; FILE_KIB="${FILE_KIB:-64}"
PARSE_N="${PARSE_N:-50}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd -P)"
command -v rpm >/dev/null && command -v rpmbuild >/dev/null || { echo "need rpm + rpmbuild (apt-get install rpm)" >&2; exit 1; }
if [ -z "${BAKEPROOF_BIN:-}" ]; then
  (cd "$REPO" && cargo build --release -q -p bakeproof)
  BAKEPROOF_BIN="$REPO/target/release/bakeproof"
fi
B="$BAKEPROOF_BIN"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# seconds (ns resolution) for one run of a command; its exit status is ignored
# (both tools exit 1 when they find differences, which the root has on purpose)
wall() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || true; b=$(date +%s%N); echo "scale=3; ($b - $a) / 1000000000" | bc; }

# ---- 1. parse ------------------------------------------------------------------
DB="$OUT/parse-db"; rm -rf "$DB"; mkdir -p "$DB"
cp "$REPO/fixtures/rpmdb/cbl-mariner-2.0/rpmdb.sqlite" "$DB/"
QF='%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n'
rpm --dbpath "$DB" -qa --qf "$QF" >/dev/null 2>&1   # warm-up (and rpm may create -shm/-wal)
"$B" scan "$DB/rpmdb.sqlite" --format table -q -o /dev/null
t0=$(date +%s.%N); for _ in $(seq "$PARSE_N"); do rpm --dbpath "$DB" -qa --qf "$QF" >/dev/null 2>&1; done; t1=$(date +%s.%N)
for _ in $(seq "$PARSE_N"); do "$B" scan "$DB/rpmdb.sqlite" --format table -q -o /dev/null; done; t2=$(date +%s.%N)
rpm_parse=$(echo "($t1 - $t0) / $PARSE_N" | bc -l); bp_parse=$(echo "($t2 - $t1) / $PARSE_N" | bc -l)
# In-process: the same database parsed by the library alone (headers only).


# ---- 2. verify -------------------------------------------------------------------
ROOT="$OUT/root"; TOP="$OUT/rpmbuild"
STAMP="$OUT/.root-$PKGS-$FILES-$FILE_KIB"
if [ ! -f "$STAMP" ]; then
  rm -rf "$ROOT" "$TOP"; mkdir -p "$TOP"/{SPECS,RPMS,BUILD,SOURCES,SRPMS,BUILDROOT}
  for p in $(seq -w 1 "$PKGS"); do
    cat > "$TOP/SPECS/bench$p.spec" <<EOF
Name: bench$p
Version: 1.0
Release: 1
Summary: generated benchmark package $p
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
generated
%install
mkdir -p %{buildroot}/usr/share/bench$p
for f in \$(seq 1 $FILES); do
  head -c $((FILE_KIB * 1024)) /dev/urandom > %{buildroot}/usr/share/bench$p/f\$f.bin
done
%files
/usr/share/bench$p
EOF
    rpmbuild --quiet --define "_topdir $TOP" -bb "$TOP/SPECS/bench$p.spec" >/dev/null 2>&1
  done
  mkdir -p "$ROOT"
  rpm --root "$ROOT" --dbpath /var/lib/rpm -i --nodeps --noscripts "$TOP"/RPMS/noarch/*.rpm 2>/dev/null
  # a few differences so that both tools have something to report
  printf 'x' >> "$ROOT/usr/share/bench001/f1.bin"
  chmod 0600 "$ROOT/usr/share/bench002/f2.bin"
  rm -f "$ROOT/usr/share/bench003/f3.bin"
  touch "$STAMP"
fi
files=$(find "$ROOT/usr/share" -type f | wc -l); bytes=$(du -sb "$ROOT/usr/share" | cut -f1)
rpm --root "$ROOT" --dbpath /var/lib/rpm -Va > "$OUT/rpm-Va.txt" 2>/dev/null || true
"$B" verify-packages "$ROOT" > "$OUT/bakeproof-Va.txt" 2>/dev/null || true
same=no; cmp -s "$OUT/rpm-Va.txt" "$OUT/bakeproof-Va.txt" && same=yes
r=(); b1=(); bn=()
for _ in $(seq "$RUNS"); do
  r+=("$(wall rpm --root "$ROOT" --dbpath /var/lib/rpm -Va)")
  b1+=("$(wall "$B" verify-packages "$ROOT" -j 1)")
  bn+=("$(wall "$B" verify-packages "$ROOT")")
done
mr=$(printf '%s\n' "${r[@]}" | median); m1=$(printf '%s\n' "${b1[@]}" | median); mn=$(printf '%s\n' "${bn[@]}" | median)

{
  echo "# bakeproof vs librpm ($(rpm --version))"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores, $("$B" --version)"
  echo
  echo "## Parse: fixtures/rpmdb/cbl-mariner-2.0/rpmdb.sqlite (129 packages), mean of $PARSE_N whole-process runs"
  echo
  echo "| tool | s per run |"
  echo "|---|---|"
  printf '| rpm --dbpath -qa --qf | %.4f |\n' "$rpm_parse"
  printf '| bakeproof scan rpmdb.sqlite --format table | %.4f |\n' "$bp_parse"
  printf '\nrpm / bakeproof: **%.2f×**\n\n' "$(echo "$rpm_parse / $bp_parse" | bc -l)"
  echo "## Verify: $PKGS packages × $FILES files ($files files, $bytes bytes), median of $RUNS runs, warm"
  echo
  echo "| tool | median wall s | runs |"
  echo "|---|---|---|"
  echo "| rpm --root R -Va | $mr | ${r[*]} |"
  echo "| bakeproof verify-packages R -j 1 | $m1 | ${b1[*]} |"
  echo "| bakeproof verify-packages R ($(nproc) threads) | $mn | ${bn[*]} |"
  echo
  printf 'rpm -Va / bakeproof -j 1: **%.2f×**; rpm -Va / bakeproof (all cores): **%.2f×**; outputs identical: **%s**\n' \
    "$(echo "$mr / $m1" | bc -l)" "$(echo "$mr / $mn" | bc -l)" "$same"
} | tee "$OUT/summary.md"
