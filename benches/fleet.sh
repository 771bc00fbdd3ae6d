#!/usr/bin/env bash
# Fleet tables benchmark: publish N synthetic AMIs' attestations into a
# store with and without the Parquet fleet tables, then answer "which AMIs
# have xz in [5.6.0, 5.6.2)" with `bakeproof query` and with DuckDB, on a
# local directory store and on S3 (moto).
#
#   benches/fleet.sh [N...]          (default: 10 100 1000)
#
# Environment:
#   BAKEPROOF_BIN     the binary (default: cargo build --release -p bakeproof
#                     into CARGO_TARGET_DIR, default REPO/target)
#   BAKEPROOF_PYTHON  a python with duckdb, moto[server], boto3 (default
#                     /tmp/benchvenv, made with the pins of
#                     tests/tools/requirements.txt when missing)
#   OUT               work and result directory (default ./bench-out/fleet)
#   S3_MAX            largest N also run against moto S3 (default 1000)
#   S3_PAR            parallel publishes into S3 for N >= 1000 (default 2;
#                     smaller N publish one at a time)
#   PAR               parallel attests (default 2)
#   RUNS              query repetitions, best taken (default 3)
#
# The SBOMs are mutations of real scans (benches/fleet_synth.py): this
# machine's dpkg status and the cbl-mariner rpmdb fixture, each scanned as
# a minimal root (the database and os-release) so the scan is sealed and
# attestable. Results: OUT/results.tsv and OUT/results.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
OUT=${OUT:-./bench-out/fleet}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ $# -gt 0 ]; then NS=("$@"); else NS=(10 100 1000); fi
S3_MAX=${S3_MAX:-1000}
S3_PAR=${S3_PAR:-2}
PAR=${PAR:-2}
RUNS=${RUNS:-3}
FIXTURES=${FIXTURES:-/work/shared/fixtures}
export COSIGN_PASSWORD=${COSIGN_PASSWORD:-fleet-bench}
QUERY='xz-utils >= 5.6.0 xz-utils < 5.6.2 xz >= 5.6.0 xz < 5.6.2'

log() { printf '[fleet %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

# ---- the binary and python -------------------------------------------------
if [ -z "${BAKEPROOF_BIN:-}" ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
    log "building bakeproof (release) into $CARGO_TARGET_DIR"
    (cd "$REPO" && nice cargo build --release -q -p bakeproof)
    BAKEPROOF_BIN=$CARGO_TARGET_DIR/release/bakeproof
fi
BIN=$BAKEPROOF_BIN
PY=${BAKEPROOF_PYTHON:-/tmp/benchvenv/bin/python}
if ! "$PY" -c 'import duckdb, moto.server, boto3' 2>/dev/null; then
    [ -n "${BAKEPROOF_PYTHON:-}" ] && { echo "BAKEPROOF_PYTHON=$PY lacks duckdb/moto/boto3" >&2; exit 2; }
    log "creating /tmp/benchvenv (duckdb, moto[server] as pinned in tests/tools/requirements.txt)"
    python3 -m venv /tmp/benchvenv
    /tmp/benchvenv/bin/pip install -q \
        "$(grep -E '^duckdb==' "$REPO/tests/tools/requirements.txt")" \
        "$(grep -E '^moto\[server\]==' "$REPO/tests/tools/requirements.txt")" boto3
fi

# S3 credentials for moto (never a real account: the config files are
# pointed away, as tests/common/moto.rs does)
export AWS_CONFIG_FILE=/nonexistent/bakeproof-bench AWS_SHARED_CREDENTIALS_FILE=/nonexistent/bakeproof-bench
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN || true

# ---- bases: real scans --------------------------------------------------------
BASES=$OUT/bases
if [ ! -s "$BASES/rpm.json" ]; then
    log "scanning the bases (this machine's dpkg status; cbl-mariner-2.0 rpmdb)"
    rm -rf "$BASES"
    mkdir -p "$BASES/deb-root/var/lib/dpkg" "$BASES/deb-root/etc" "$BASES/rpm-root/var/lib/rpm" "$BASES/rpm-root/etc"
    cp /var/lib/dpkg/status "$BASES/deb-root/var/lib/dpkg/status"
    cp /etc/os-release "$BASES/deb-root/etc/os-release"
    cp "$FIXTURES/rpmdb/cbl-mariner-2.0/rpmdb.sqlite" "$BASES/rpm-root/var/lib/rpm/"
    chmod u+w "$BASES/rpm-root/var/lib/rpm/rpmdb.sqlite"
    printf 'NAME="Common Base Linux Mariner"\nVERSION="2.0.20220226"\nID=mariner\nVERSION_ID="2.0"\n' \
        > "$BASES/rpm-root/etc/os-release"
    for b in deb rpm; do
        "$BIN" scan "$BASES/$b-root" --name "$b-base" -o "cyclonedx-json=$BASES/$b.json" \
            --seal-report "$BASES/$b-seal.json" -q
    done
fi
KEYDIR=$OUT/key
if [ ! -s "$KEYDIR/cosign.pub" ]; then
    mkdir -p "$KEYDIR"
    "$BIN" key generate --output-dir "$KEYDIR" >/dev/null
fi

# ---- moto ---------------------------------------------------------------------
MOTO_PID=
MOTO_LOG=$OUT/moto.log
stop_moto() { [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null || true; MOTO_PID=; }
trap stop_moto EXIT
start_moto() {
    PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    : > "$MOTO_LOG"
    "$PY" -m moto.server -H 127.0.0.1 -p "$PORT" 2>>"$MOTO_LOG" >/dev/null &
    MOTO_PID=$!
    for _ in $(seq 100); do
        "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/')" 2>/dev/null && break
        sleep 0.2
    done
    ENDPOINT=http://127.0.0.1:$PORT
    log "moto on $ENDPOINT (pid $MOTO_PID, log $MOTO_LOG)"
}
# request lines moto logged so far (werkzeug: `"GET /path HTTP/1.1" 200 -`)
moto_requests() { grep -cE '"(GET|PUT|POST|HEAD|DELETE) [^"]* HTTP/[0-9.]+" [0-9]{3}' "$MOTO_LOG" || true; }
moto_lines() { wc -l < "$MOTO_LOG"; }
moto_breakdown() { # after log line $1: counts per method (a GET with list-type= is a LIST)
    tail -n +"$(( $1 + 1 ))" "$MOTO_LOG" | grep -oE '"(GET|PUT|POST|HEAD|DELETE) [^ ]*' \
        | sed -E 's/^"GET [^ ]*(\?|&)list-type=.*/LIST/; s/^"([A-Z]+) .*/\1/' | sort | uniq -c \
        | awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }'
}

# ---- helpers ------------------------------------------------------------------
attest_one() { # region ami sbom seal outdir
    "$BIN" attest --sbom "$3" --seal "$4" --key "$KEYDIR/cosign.key" --ami "$1:$2" -o "$5/$2" >/dev/null 2>>"$5.log" || { cat "$5.log" >&2; return 1; }
}
publish_one() { # store ami-dir [flags...]
    local store=$1 dir=$2; shift 2
    "$BIN" publish --store "$store" "$dir" "$@" >/dev/null
}
export -f attest_one publish_one
export BIN KEYDIR

# set of AMIs from a JSON/text answer (any ami-<17 hex> in it)
amis_of() { grep -oE 'ami-[0-9a-f]{17}' "$1" | sort -u; }

check() { # answer-file expected-file -> PASS/FAIL
    if diff <(amis_of "$1") "$2" >/dev/null; then echo PASS; else echo FAIL; fi
}

# best-of-RUNS wall time of `bakeproof query` on store $1 (extra flags after);
# the last answer in $QANS
bp_query() {
    local store=$1; shift
    local best= t0 t1 rc
    for _ in $(seq "$RUNS"); do
        t0=$(now)
        rc=0
        "$BIN" query --store "$store" "$@" --format json "$QUERY" > "$QANS" 2>"$QANS.err" || rc=$?
        t1=$(now)
        [ "$rc" -le 1 ] || { log "query failed (exit $rc): $(head -c 400 "$QANS.err")"; echo NaN; return; }
        best=$(awk -v b="$best" -v t="$(sub "$t0" "$t1")" 'BEGIN { if (b == "" || t < b) b = t; printf "%.3f", b }')
    done
    echo "$best"
}

DUCK_PY=$OUT/duck_time.py
cat > "$DUCK_PY" <<'EOF'
# best-of-RUNS DuckDB time (connect, view over the store's Parquet, query,
# fetch: in-process, without python's start-up) of the SQL in argv[2]
import json, sys, time, duckdb
store, sql_file, runs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sql = open(sql_file).read().strip().rstrip(";")
view = ("CREATE VIEW packages AS SELECT * FROM read_parquet("
        f"'{store}/tables/packages/*/*/*.parquet', hive_partitioning=true, "
        "hive_types_autocast=false, union_by_name=true)")
best = None
for _ in range(runs):
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(view)
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    t = time.perf_counter() - t0
    con.close()
    best = t if best is None else min(best, t)
json.dump({"columns": cols, "rows": [[str(v) for v in r] for r in rows]}, open(out, "w"))
print(f"{best:.3f}")
EOF

RES=$OUT/results.tsv
[ -s "$RES" ] || printf 'N\tpublish_notables_s\tpublish_tables_s\toverhead_pct\ttables_MB\tattestations_MB\tquery_local_s\tduckdb_local_s\tquery_s3_s\ts3_requests_per_query\tlocal_check\tduckdb_check\ts3_check\tpublish_s3_s\ts3_requests_per_publish\tbp_stats_local\tbp_stats_s3\n' > "$RES"

for N in "${NS[@]}"; do
    W=$OUT/n$N
    rm -rf "$W"
    mkdir -p "$W"
    log "N=$N: synthesizing"
    "$PY" "$HERE/fleet_synth.py" --n "$N" --out "$W" --seed "$N" \
        "deb=$BASES/deb.json:$BASES/deb-seal.json" "rpm=$BASES/rpm.json:$BASES/rpm-seal.json"
    awk -F'\t' '$7 == "1" { print $2 }' "$W/manifest.tsv" | sort -u > "$W/expected.txt"
    log "N=$N: $(wc -l < "$W/expected.txt") AMIs expected to match"

    log "N=$N: attesting (-P$PAR)"
    t0=$(now)
    awk -F'\t' -v o="$W/att" '{ print $1, $2, $4, $5, o }' "$W/manifest.tsv" \
        | xargs -P "$PAR" -n 5 bash -c 'attest_one "$@"' _
    t_attest=$(sub "$t0" "$(now)")
    log "N=$N: attest ${t_attest}s"

    # 3. local publish: A without tables, B with
    log "N=$N: publishing into A (--no-tables)"
    t0=$(now)
    while IFS=$'\t' read -r _ ami _; do publish_one "$W/storeA" "$W/att/$ami" --no-tables; done < "$W/manifest.tsv"
    t_a=$(sub "$t0" "$(now)")
    log "N=$N: publishing into B (tables)"
    t0=$(now)
    while IFS=$'\t' read -r _ ami _; do publish_one "$W/storeB" "$W/att/$ami" --key "$KEYDIR/cosign.pub"; done < "$W/manifest.tsv"
    t_b=$(sub "$t0" "$(now)")
    tables_b=$(du -sb "$W/storeB/tables" 2>/dev/null | cut -f1); tables_b=${tables_b:-0}
    all_b=$(du -sb "$W/storeB" | cut -f1)
    other_b=$((all_b - tables_b))
    { echo "store B top level:"; du -sb "$W/storeB"/* ; echo "store A:"; du -sb "$W/storeA"/*; } > "$W/sizes.txt" 2>&1
    overhead=$(calc "($t_b - $t_a) / $t_a * 100" 1)
    log "N=$N: publish A ${t_a}s, B ${t_b}s (+${overhead}%), tables $tables_b B, rest $other_b B"

    # 4. query B, DuckDB over B
    QANS=$W/query-local.json
    q_local=$(bp_query "$W/storeB")
    c_local=$(check "$QANS" "$W/expected.txt")
    stats_local=$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])).get("stats"),separators=(",",":")))' "$QANS" 2>/dev/null || echo '?')
    "$BIN" query --sql duckdb "$QUERY" > "$W/query.sql"
    d_local=$("$PY" "$DUCK_PY" "$W/storeB" "$W/query.sql" "$RUNS" "$W/duckdb-local.json" 2>"$W/duckdb.err") || d_local=NaN
    c_duck=$(check "$W/duckdb-local.json" "$W/expected.txt" 2>/dev/null || echo FAIL)
    log "N=$N: query local ${q_local}s $c_local stats $stats_local; duckdb ${d_local}s $c_duck"

    # 5. S3 (moto)
    p_s3=-; q_s3=-; r_q=-; r_p=-; c_s3=-; stats_s3=-
    if [ "$N" -le "$S3_MAX" ]; then
        [ -n "$MOTO_PID" ] || start_moto
        BUCKET=fleet-bench-n$N
        "$PY" -c "import boto3,sys; boto3.client('s3', endpoint_url='$ENDPOINT', region_name='us-east-1').create_bucket(Bucket='$BUCKET')"
        STORE=s3://$BUCKET/fleet
        p=1; [ "$N" -ge 1000 ] && p=$S3_PAR
        log "N=$N: publishing into $STORE (tables, -P$p)"
        r0=$(moto_requests); l0=$(moto_lines)
        t0=$(now)
        awk -F'\t' '{ print $2 }' "$W/manifest.tsv" \
            | xargs -P "$p" -I{} bash -c 'publish_one "$0" "$1/{}" --endpoint-url "$2" --key "$KEYDIR/cosign.pub"' "$STORE" "$W/att" "$ENDPOINT"
        p_s3=$(sub "$t0" "$(now)")
        r1=$(moto_requests)
        r_p=$(calc "($r1 - $r0) / $N" 1)
        echo "publish N=$N: $(moto_breakdown "$l0")" >> "$W/s3-requests.txt"
        QANS=$W/query-s3.json
        r0=$(moto_requests); l0=$(moto_lines)
        q_s3=$(bp_query "$STORE" --endpoint-url "$ENDPOINT")
        r1=$(moto_requests)
        r_q=$(calc "($r1 - $r0) / $RUNS" 1)
        echo "query x$RUNS N=$N: $(moto_breakdown "$l0")" >> "$W/s3-requests.txt"
        c_s3=$(check "$QANS" "$W/expected.txt")
        stats_s3=$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])).get("stats"),separators=(",",":")))' "$QANS" 2>/dev/null || echo '?')
        log "N=$N: S3 publish ${p_s3}s (${r_p} req/AMI), query ${q_s3}s $c_s3, ${r_q} req/query, stats $stats_s3"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$N" "$t_a" "$t_b" "$overhead" \
        "$(calc "$tables_b / 1048576" 2)" "$(calc "$other_b / 1048576" 2)" "$q_local" "$d_local" "$q_s3" "$r_q" \
        "$c_local" "$c_duck" "$c_s3" "$p_s3" "$r_p" "$stats_local" "$stats_s3" >> "$RES"
    echo "attest N=$N: ${t_attest}s (-P$PAR)" >> "$OUT/attest-times.txt"
done
stop_moto

# ---- report -------------------------------------------------------------------
{
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "Binary: $BIN ($("$BIN" --version 2>/dev/null | head -1))"
    echo "Query: \`$QUERY\`"
    echo
    echo "| N | publish no-tables s (per AMI) | publish tables s (per AMI) | overhead % | tables MB | attestations MB | query s local | duckdb s local | query s S3 | S3 req/query | checks local/duckdb/S3 | S3 publish s (req/AMI) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    tail -n +2 "$RES" | while IFS=$'\t' read -r n a b o tm am ql dl qs rq cl cd cs ps rp _ _; do
        echo "| $n | $a ($(calc "$a / $n")) | $b ($(calc "$b / $n")) | $o | $tm | $am | $ql | $dl | $qs | $rq | $cl/$cd/$cs | $ps ($rp) |"
    done
    echo
    echo "bakeproof query stats (local; S3):"
    tail -n +2 "$RES" | awk -F'\t' '{ printf "- N=%s: %s; %s\n", $1, $16, $17 }'
} > "$OUT/results.md"
cat "$OUT/results.md"
