#!/bin/sh
# Run every fuzz target for SECONDS (default 60) each.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Only the stable toolchain is installed here. cargo-fuzz passes nightly-only
# flags (-Zsanitizer=address, -Cpasses=sancov-module, ...); RUSTC_BOOTSTRAP=1
# makes the stable compiler accept them. This is an escape hatch meant for
# building the compiler itself: fine for local fuzzing, never for shipping
# builds.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"bdb ndb rpm_header dpkg_status os_release diff caps types design_plain design_toml sshd_config systemd_unit audit_facts ext4_image xfs_image disk_layout qcow2_image lvm_metadata eco_java eco_go eco_rust eco_python eco_npm eco_version"}

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

"$here/seed.sh"
cd "$here"
status=0
for t in $targets; do
    echo "=== $t: ${secs}s"
    # -max_len: the seeds go up to 92 KiB (a real BDB file); libFuzzer would
    # otherwise cap mutations at 4 KiB and never grow past the metadata page.
    # -rss_limit_mb / -malloc_limit_mb: no input of at most 128 KiB has any
    # business using 512 MiB (the targets parse within a 64 MiB budget).
    # The amplifier seeds (seed.sh) took 700 MB+ before the parsers had a
    # memory budget; with the old 2048 MiB limit they passed unnoticed.
    if ! cargo fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len=131072 -rss_limit_mb=512 -malloc_limit_mb=512 -timeout=10 \
        -print_final_stats=1 2>&1 | tee "/tmp/bakeproof-fuzz-$t.log" | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Done|INFO: -max_total_time)' ; then
        :
    fi
    if grep -qE 'ERROR: libFuzzer|deadly signal|panicked|out-of-memory' "/tmp/bakeproof-fuzz-$t.log"; then
        echo "!!! $t crashed: see /tmp/bakeproof-fuzz-$t.log and fuzz/artifacts/$t/"
        status=1
    elif ! grep -q 'stat::number_of_executed_units' "/tmp/bakeproof-fuzz-$t.log"; then
        echo "!!! $t did not run (build failure?): see /tmp/bakeproof-fuzz-$t.log"
        status=1
    fi
done
exit $status
