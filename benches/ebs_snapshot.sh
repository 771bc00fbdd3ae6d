#!/usr/bin/env bash
# benches/ebs_snapshot.sh: read an EBS snapshot through the EBS direct APIs
# (crates/bakeproof-ebs, ListSnapshotBlocks + GetSnapshotBlock) with 1, 8 and
# 16 requests in flight, against moto on loopback (tests/tools/moto_ebs.py).
# A benchmark, not a test.
#
#   benches/ebs_snapshot.sh [MB] [OUT_DIR]
#
# MB       size of the image written to the snapshot (default 300): pseudo-random
#          bytes (openssl rand, so no block is all zeros and every one is fetched)
#          in a volume of ceil(MB/1024) GiB; the rest of the volume is zeros
#          (listed as absent, read without a request).
# OUT_DIR  image, moto log, one JSON line per run (default ./bench-out/ebs).
#
# Environment:
#   PARALLEL        the parallel settings to time (default "1 8 16")
#   EBS_READ_BIN    use this build of the example crates/bakeproof-ebs/examples/ebs_read.rs
#                   instead of building it (cargo build --release --example ebs_read)
#   BAKEPROOF_PYTHON  the venv python with moto[server] and boto3 (tests/run-all.sh makes it)
#
# No latency is simulated: moto on loopback answers a block in a few ms of its own (Python)
# CPU, so the numbers measure this client and moto on this machine, not EBS's network
# latency (on AWS a GetSnapshotBlock takes tens of ms: parallelism matters more there).
#
# Each run reads the whole image range (READ_BYTES = the image's size) in 8 MiB reads from
# one thread, so the parallelism comes from the read (every block of a read is requested
# at once) and from read-ahead. The SHA-256 of the bytes read is compared with the image's.
set -euo pipefail
export LC_ALL=C
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MB="${1:-300}"
OUT="${2:-$REPO/bench-out/ebs}"
PY="${BAKEPROOF_PYTHON:-$REPO/.venv/bin/python}"
PARALLEL="${PARALLEL:-1 8 16}"
rm -rf "$OUT"; mkdir -p "$OUT"

if [ -n "${EBS_READ_BIN:-}" ]; then
  BIN="$EBS_READ_BIN"
else
  (cd "$REPO" && cargo build --release -q -p bakeproof-ebs --example ebs_read)
  BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/examples/ebs_read"
fi

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$PY" "$REPO/tests/tools/moto_ebs.py" -H 127.0.0.1 -p "$PORT" >"$OUT/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"

openssl rand -out "$OUT/image.raw" $((MB << 20))
WANT="$(sha256sum "$OUT/image.raw" | cut -d' ' -f1)"
echo "writing ${MB} MB into a snapshot (boto3 PutSnapshotBlock) ..."
GIB=$(( (MB + 1023) / 1024 ))
PUT="$(AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
  "$PY" "$REPO/tests/tools/ebs_put_image.py" "$OUT/image.raw" "$URL" "$GIB")"
SNAP="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["snapshot"])' "$PUT")"
echo "$PUT"

export AWS_ENDPOINT_URL_EBS="$URL" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing \
  AWS_SECRET_ACCESS_KEY=testing AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN
printf '%-9s %8s %8s %9s %8s %13s %7s\n' parallel wall_s MB/s requests retries max_in_flight sha256
for p in $PARALLEL; do
  line="$("$BIN" "$SNAP" "$p" $((MB << 20)))"
  echo "$line" >>"$OUT/runs.jsonl"
  "$PY" - "$line" "$WANT" <<'PYEOF'
import json, sys
r = json.loads(sys.argv[1])
ok = "ok" if r["sha256"] == sys.argv[2] else "MISMATCH"
print(f'{r["parallel"]:<9} {r["wall_s"]:8.2f} {r["mb_s"]:8.1f} {r["list_requests"] + r["get_requests"]:9} '
      f'{r["retries"]:8} {r["max_in_flight"]:13} {ok:>7}')
if ok != "ok":
    sys.exit(1)
PYEOF
done
