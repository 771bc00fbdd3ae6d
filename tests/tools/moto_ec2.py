#!/usr/bin/env python3
"""moto_server with the EC2 calls bakeproof-ec2 uses and moto 5.2.5 lacks
(crates/bakeproof-ec2/tests/moto_ec2.rs, tests/lifecycle_ec2.rs). Arguments
are moto_server's (`-H 127.0.0.1 -p PORT`).

Added, as the EC2 API reference describes them:

* `EnableImageDeprecation` (ImageId, DeprecateAt): sets the image's
  `DeprecationTime` (seconds rounded to the minute); a `DeprecateAt` in the
  past, or more than 10 years ahead, is refused (InvalidParameterValue),
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageDeprecation.html
* `DisableImageDeprecation` (ImageId): removes it,
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableImageDeprecation.html
* `DescribeImages` returns `DeprecationTime`;
* `RegisterImage` keeps the `BlockDeviceMappings` it is given (moto drops
  them and gives every image one auto-created root snapshot): the image's
  mappings are its root device's (`RootDeviceName` kept, where moto says
  `/dev/sda1` whatever it is given; the given snapshot when a mapping names
  the root device, as EC2 registers it, else moto's auto-created one) and
  then the others given, and
  `DeleteSnapshot` refuses a snapshot any registered image maps
  (`InvalidSnapshot.InUse`), as EC2 does.

Everything else is moto's.
"""

import sys
from datetime import datetime, timedelta, timezone

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError, InvalidSnapshotInUse
from moto.ec2.models import amis as amis_models
from moto.ec2.models import elastic_block_store
from moto.ec2.responses import amis as amis_responses


class InvalidParameterValue(EC2ClientError):
    def __init__(self, message):
        super().__init__("InvalidParameterValue", message)


def _image(backend, ami_id):
    ami = backend.amis.get(ami_id)
    if ami is None:
        raise InvalidAMIIdError(ami_id)
    return ami


def _parse_time(value):
    if isinstance(value, datetime):
        t = value
    else:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def enable_image_deprecation(self):
    ami_id = self._get_param("ImageId")
    at = _parse_time(self._get_param("DeprecateAt"))
    self.error_on_dryrun()
    ami = _image(self.ec2_backend, ami_id)
    # "If you specify a value for seconds, Amazon EC2 rounds the seconds to
    # the nearest minute. You can't specify a date in the past. The upper
    # limit for DeprecateAt is 10 years from now."
    now = datetime.now(timezone.utc)
    if at < now:
        raise InvalidParameterValue(
            f"The deprecation time {at.isoformat()} must be in the future"
        )
    if at > now + timedelta(days=3653):
        raise InvalidParameterValue("The deprecation time must be at most 10 years ahead")
    rounded = (at + timedelta(seconds=30)).replace(second=0, microsecond=0)
    ami.deprecation_time = rounded.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return ActionResult({"Return": True})


def disable_image_deprecation(self):
    ami_id = self._get_param("ImageId")
    self.error_on_dryrun()
    ami = _image(self.ec2_backend, ami_id)
    ami.deprecation_time = None
    return ActionResult({"Return": True})


moto_register_image = amis_responses.AmisResponse.register_image


def register_image(self):
    result = moto_register_image(self)
    given = self._get_param("BlockDeviceMappings", [])
    ami = self.ec2_backend.amis[result.result["ImageId"]]
    # moto names every root /dev/sda1; EC2 keeps the RootDeviceName given.
    root_device = self._get_param("RootDeviceName")
    if root_device:
        ami.root_device_name = root_device
    ami.extra_mappings = [m for m in given if m.get("DeviceName") != ami.root_device_name]
    root = [
        m
        for m in given
        if m.get("DeviceName") == ami.root_device_name and m.get("Ebs", {}).get("SnapshotId")
    ]
    ami.root_mapping = root[0] if root else None
    return result


moto_mappings = amis_models.Ami.block_device_mappings.fget


def block_device_mappings(self):
    base = moto_mappings(self)
    root = getattr(self, "root_mapping", None)
    if root is not None:
        base = [root if m.get("DeviceName") == self.root_device_name else m for m in base]
    return base + list(getattr(self, "extra_mappings", []))


moto_delete_snapshot = elastic_block_store.EBSBackend.delete_snapshot


def delete_snapshot(self, snapshot_id):
    for ami in self.amis.values():
        for m in ami.block_device_mappings:
            if m.get("Ebs", {}).get("SnapshotId") == snapshot_id:
                raise InvalidSnapshotInUse(snapshot_id, ami.id)
    return moto_delete_snapshot(self, snapshot_id)


amis_models.Ami.deprecation_time = None
amis_models.Ami.block_device_mappings = property(block_device_mappings)
amis_responses.AmisResponse.enable_image_deprecation = enable_image_deprecation
amis_responses.AmisResponse.disable_image_deprecation = disable_image_deprecation
amis_responses.AmisResponse.register_image = register_image
elastic_block_store.EBSBackend.delete_snapshot = delete_snapshot

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
