#!/usr/bin/env python3
"""moto_server with the EBS direct APIs as crates/bakeproof-ebs reads them
(crates/bakeproof-ebs/tests/moto_ebs.rs, benches/ebs_snapshot.sh), and the
EC2 additions of tests/tools/moto_ec2.py (RegisterImage's block device
mappings, for the AMI tests). Arguments are moto_server's
(`-H 127.0.0.1 -p PORT`).

moto 5.2.5 implements StartSnapshot, PutSnapshotBlock, CompleteSnapshot,
ListSnapshotBlocks and GetSnapshotBlock (routed by the request's signing
name, `ebs`). Changed, as the EBS API reference describes them
(https://docs.aws.amazon.com/ebs/latest/APIReference/):

* `BlockSize` is in bytes, 524288 (moto says 512): "The size of the blocks
  in the snapshot, in bytes" (ListSnapshotBlocks, StartSnapshot);
* `ListSnapshotBlocks` pages: blocks in index order from
  `StartingBlockIndex`, at most `MaxResults` (100 to 10000) a page, and a
  `NextToken` while more remain (moto returns every block at once and
  ignores all three). "The request can return less blocks than
  MaxResults": with BAKEPROOF_MOTO_EBS_PAGE=N in its environment the server
  returns at most N a page, so a test sees several pages with few blocks;
* `PutSnapshotBlock` checks what it is sent: `DataLength` must be 524288
  and the data's length, `ChecksumAlgorithm` SHA256 and `Checksum` the
  base64 SHA-256 of the data, else ValidationException (moto takes them "at
  face-value, but no validation takes place");
* an unknown snapshot, or a block the snapshot does not have, is
  ResourceNotFoundException (HTTP 404), a `BlockToken` that is not the
  block's is ValidationException (moto raises KeyError: HTTP 500).

Everything else is moto's.
"""

import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_ec2  # noqa: E402,F401  (its EC2 patches)
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.ebs import models as ebs_models  # noqa: E402
from moto.ebs import responses as ebs_responses  # noqa: E402

BLOCK_SIZE = 524288


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("ValidationException", message)


class ResourceNotFoundException(JsonRESTError):
    code = 404

    def __init__(self, message):
        super().__init__("ResourceNotFoundException", message)


moto_snapshot_init = ebs_models.EBSSnapshot.__init__


def snapshot_init(self, account_id, snapshot):
    moto_snapshot_init(self, account_id, snapshot)
    self.block_size = BLOCK_SIZE


def _snapshot(backend, snapshot_id):
    s = backend.snapshots.get(snapshot_id)
    if s is None:
        raise ResourceNotFoundException(f"The snapshot '{snapshot_id}' does not exist.")
    return s


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationException(f"{name} must be an integer")


moto_put_snapshot_block = ebs_models.EBSBackend.put_snapshot_block


def put_snapshot_block(self, snapshot_id, block_index, block_data, checksum, checksum_algorithm, data_length):
    snapshot = _snapshot(self, snapshot_id)
    if isinstance(block_data, str):
        block_data = block_data.encode("latin-1")
    index = _int(block_index, "BlockIndex")
    blocks_in_volume = snapshot.volume_size * (1 << 30) // BLOCK_SIZE
    if not 0 <= index < blocks_in_volume:
        raise ValidationException(f"BlockIndex {index} is outside the volume")
    if _int(data_length, "DataLength") != BLOCK_SIZE or len(block_data) != BLOCK_SIZE:
        raise ValidationException(f"DataLength must be {BLOCK_SIZE} and the data's length")
    if checksum_algorithm != "SHA256":
        raise ValidationException("ChecksumAlgorithm must be SHA256")
    if base64.b64encode(hashlib.sha256(block_data).digest()).decode() != checksum:
        raise ValidationException("The checksum does not match the data")
    return moto_put_snapshot_block(self, snapshot_id, index, block_data, checksum, checksum_algorithm, BLOCK_SIZE)


def get_snapshot_block_model(self, snapshot_id, block_index):
    snapshot = _snapshot(self, snapshot_id)
    block = snapshot.blocks.get(_int(block_index, "BlockIndex"))
    if block is None:
        raise ResourceNotFoundException(f"The snapshot '{snapshot_id}' has no block {block_index}.")
    return block


def list_snapshot_blocks(self):
    snapshot = _snapshot(self.ebs_backend, self._get_param("SnapshotId"))
    max_results = self._get_param("MaxResults")
    max_results = 10000 if max_results is None else _int(max_results, "MaxResults")
    if not 100 <= max_results <= 10000:
        raise ValidationException("MaxResults must be between 100 and 10000")
    page = os.environ.get("BAKEPROOF_MOTO_EBS_PAGE")
    if page:
        max_results = min(max_results, int(page))
    token = self._get_param("NextToken")
    start = self._get_param("StartingBlockIndex")
    start = 0 if start is None else _int(start, "StartingBlockIndex")
    if token:
        start = max(start, _int(token, "NextToken"))
    indices = sorted(i for i in snapshot.blocks if i >= start)
    shown = indices[:max_results]
    result = {
        "Blocks": [{"BlockIndex": i, "BlockToken": snapshot.blocks[i].block_token} for i in shown],
        "VolumeSize": snapshot.volume_size,
        "BlockSize": snapshot.block_size,
    }
    if len(indices) > len(shown):
        result["NextToken"] = str(indices[len(shown)])
    return ebs_responses.ActionResult(result)


moto_get_snapshot_block = ebs_responses.EBSResponse.get_snapshot_block


def get_snapshot_block(self):
    snapshot_id = self._get_param("SnapshotId")
    block = self.ebs_backend.get_snapshot_block(snapshot_id, self._get_param("BlockIndex"))
    if self._get_param("BlockToken") != block.block_token:
        raise ValidationException("The BlockToken is not the block's")
    return moto_get_snapshot_block(self)


ebs_models.EBSSnapshot.__init__ = snapshot_init
ebs_models.EBSBackend.put_snapshot_block = put_snapshot_block
ebs_models.EBSBackend.get_snapshot_block = get_snapshot_block_model
ebs_responses.EBSResponse.list_snapshot_blocks = list_snapshot_blocks
ebs_responses.EBSResponse.get_snapshot_block = get_snapshot_block

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
