#!/usr/bin/env python3
"""moto_server with AWS KMS's `Sign` semantics for `MessageType=DIGEST`
(tests/kms.rs). Arguments are moto_server's (`-H 127.0.0.1 -p PORT`).

moto 5.2.5 ignores `MessageType` and always hashes `Message` before signing,
so a `DIGEST` request gets a signature over SHA-256(digest), which no
verifier accepts. AWS KMS, for `DIGEST`, signs the given digest as is (it
must be as long as the algorithm's hash, else `ValidationException`):
https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
This wrapper makes moto do that for ECDSA keys, with `cryptography`'s
`Prehashed`, and leaves `RAW` and everything else to moto.
"""

import base64
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto.kms import responses
from moto.kms.exceptions import ValidationException

HASHES = {
    "ECDSA_SHA_256": hashes.SHA256(),
    "ECDSA_SHA_384": hashes.SHA384(),
    "ECDSA_SHA_512": hashes.SHA512(),
}

moto_sign = responses.KmsResponse.sign


def sign(self):
    if self._get_param("MessageType") != "DIGEST":
        return moto_sign(self)
    key_id = self._get_param("KeyId")
    digest = self._get_param("Message")
    algorithm = self._get_param("SigningAlgorithm")
    self._validate_key_id(key_id)
    key = self.kms_backend.describe_key(key_id)
    if key.key_usage != "SIGN_VERIFY":
        raise ValidationException(f"{key.arn} key usage is {key.key_usage}, not SIGN_VERIFY")
    if algorithm not in key.signing_algorithms or algorithm not in HASHES:
        raise ValidationException(f"signing algorithm {algorithm} is not valid for this key")
    private = getattr(key.private_key, "private_key", None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValidationException("DIGEST signing is emulated for ECDSA keys only")
    h = HASHES[algorithm]
    if len(digest) != h.digest_size:
        raise ValidationException(
            f"Digest is invalid length for algorithm {algorithm}: {len(digest)} bytes"
        )
    sig = private.sign(digest, ec.ECDSA(utils.Prehashed(h)))
    return json.dumps(
        {
            "KeyId": key.arn,
            "Signature": base64.b64encode(sig).decode(),
            "SigningAlgorithm": algorithm,
        }
    )


responses.KmsResponse.sign = sign

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
