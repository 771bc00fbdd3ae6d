#!/usr/bin/env python3
"""Independent checks of bakeproof's attestations and keys (tests/attest.rs).

Nothing here uses bakeproof code: DSSE verification is securesystemslib's,
key encryption is PyNaCl (libsodium secretbox) + hashlib.scrypt, keys and
key ids are computed with `cryptography`.

  verify-bundle BUNDLE PUBKEY_PEM
      Verifies the bundle's dsseEnvelope with securesystemslib
      (Envelope.verify, SSlibKey ecdsa/ecdsa-sha2-nistp256, threshold 1).
      The SSlibKey's keyid is computed here as hex SHA-256 of the public key's
      SubjectPublicKeyInfo DER: securesystemslib only tries a key on a
      signature whose keyid equals the key's, so this also checks bakeproof's
      key id rule. Checks payloadType and the statement's _type.
      Exit 0 verified, 1 rejected (reason on stdout).
  decrypt-key KEY_FILE
      Decrypts a cosign private key (password from COSIGN_PASSWORD) and prints
      the PEM of its public key. Exit 1 on a wrong password.
  write-key PREFIX
      Writes a fresh P-256 key in cosign's encrypted format as PREFIX.key
      (password from COSIGN_PASSWORD) and PREFIX.pub.
"""

import base64
import hashlib
import json
import os
import sys

import nacl.exceptions
import nacl.secret
import nacl.utils
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

LABELS = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")


def keyid_of(pub) -> str:
    der = pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def verify_bundle(bundle_path: str, pub_path: str) -> int:
    pem = open(pub_path, "rb").read()
    pub = serialization.load_pem_public_key(pem)
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
        print("not a P-256 key")
        return 1
    key = SSlibKey(
        keyid_of(pub),
        "ecdsa",
        "ecdsa-sha2-nistp256",
        {"public": pem.decode()},
    )
    try:
        bundle = json.load(open(bundle_path))
        env = Envelope.from_dict(bundle["dsseEnvelope"])
        env.verify([key], 1)
    except Exception as e:  # noqa: BLE001 - any failure is a rejection
        print(f"rejected: {type(e).__name__}: {e}")
        return 1
    if env.payload_type != "application/vnd.in-toto+json":
        print(f"rejected: payloadType {env.payload_type}")
        return 1
    st = json.loads(env.payload)
    if st.get("_type") != "https://in-toto.io/Statement/v1":
        print("rejected: statement _type")
        return 1
    print(f"verified {st['predicateType']} {[s['name'] for s in st['subject']]}")
    return 0


def password() -> bytes:
    return os.environ["COSIGN_PASSWORD"].encode()


def pem_body(text: str, label: str) -> bytes:
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    inner = text.split(begin, 1)[1].split(end, 1)[0]
    return base64.b64decode("".join(inner.split()))


def kdf(pw: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pw, salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def decrypt_key(path: str) -> int:
    text = open(path).read()
    label = next((lab for lab in LABELS if f"-----BEGIN {lab}-----" in text), None)
    if label is None:
        print("not a cosign private key")
        return 1
    doc = json.loads(pem_body(text, label))
    assert doc["kdf"]["name"] == "scrypt", doc["kdf"]["name"]
    assert doc["cipher"]["name"] == "nacl/secretbox", doc["cipher"]["name"]
    prm = doc["kdf"]["params"]
    key = kdf(password(), base64.b64decode(doc["kdf"]["salt"]), prm["N"], prm["r"], prm["p"])
    try:
        der = nacl.secret.SecretBox(key).decrypt(
            base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"])
        )
    except nacl.exceptions.CryptoError:
        print("wrong password")
        return 1
    priv = serialization.load_der_private_key(der, password=None)
    assert isinstance(priv, ec.EllipticCurvePrivateKey) and priv.curve.name == "secp256r1"
    sys.stdout.write(
        priv.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return 0


def write_key(prefix: str) -> int:
    priv = ec.generate_private_key(ec.SECP256R1())
    der = priv.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt = nacl.utils.random(32)
    nonce = nacl.utils.random(24)
    box = nacl.secret.SecretBox(kdf(password(), salt, 32768, 8, 1))
    ct = box.encrypt(der, nonce).ciphertext  # tag || ciphertext, as NaCl
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1},
                "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ct).decode(),
    }
    body = base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    label = LABELS[0]
    with open(prefix + ".key", "w") as f:
        f.write(f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n")
    with open(prefix + ".pub", "wb") as f:
        f.write(priv.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return 0


def main() -> int:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "verify-bundle":
        return verify_bundle(*args)
    if cmd == "decrypt-key":
        return decrypt_key(*args)
    if cmd == "write-key":
        return write_key(*args)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
