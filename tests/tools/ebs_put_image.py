#!/usr/bin/env python3
"""Writes a raw image into a new EBS snapshot with boto3 (StartSnapshot,
PutSnapshotBlock with SHA-256 checksums, CompleteSnapshot), skipping the
all-zero 512 KiB blocks as AWS's own tools do, and prints
{"snapshot": ID, "blocks": N, "volume_gib": G} as JSON. For the tests of
crates/bakeproof-ebs and benches/ebs_snapshot.sh, against moto
(tests/tools/moto_ebs.py).

usage: ebs_put_image.py IMAGE ENDPOINT_URL [VOLUME_GIB]
"""

import base64
import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

BLOCK = 524288


def main():
    image, url = sys.argv[1], sys.argv[2]
    kw = dict(endpoint_url=url, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ebs = boto3.client("ebs", **kw)
    with open(image, "rb") as f:
        data = f.read()
    gib = int(sys.argv[3]) if len(sys.argv) > 3 else max(1, -(-len(data) // (1 << 30)))
    sid = ebs.start_snapshot(VolumeSize=gib)["SnapshotId"]
    zero = bytes(BLOCK)
    todo = []
    for i in range(0, len(data), BLOCK):
        chunk = data[i:i + BLOCK].ljust(BLOCK, b"\0")
        if chunk != zero:
            todo.append((i // BLOCK, chunk))

    def put(item):
        idx, chunk = item
        ebs.put_snapshot_block(
            SnapshotId=sid, BlockIndex=idx, BlockData=chunk, DataLength=BLOCK,
            Checksum=base64.b64encode(hashlib.sha256(chunk).digest()).decode(),
            ChecksumAlgorithm="SHA256")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, todo))
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(todo))
    print(json.dumps({"snapshot": sid, "blocks": len(todo), "volume_gib": gib}))


if __name__ == "__main__":
    main()
