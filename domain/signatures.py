"""Ed25519 keys that sign the chain's checkpoints (the ``cryptography`` package; no I/O).

A key is named by its key id: the first 16 hex digits of SHA-256 of the raw public key, so a
checkpoint says which key signed it and a checkpoint signed by another key is recognised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.hash_chain import Checkpoint


class InvalidKey(ValueError):
    """The bytes are not an Ed25519 key in PEM form."""


@dataclass(frozen=True)
class PublicKey:
    raw: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    @property
    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def signed(self, checkpoint: Checkpoint) -> bool:
        """True when this key signed exactly this checkpoint."""
        return checkpoint.key_id == self.key_id and self.verifies(
            checkpoint.message, checkpoint.signature
        )


class SigningKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = PublicKey(
            private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as error:
            raise InvalidKey(f"not a PEM private key without a password ({error})") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise InvalidKey("the key is not an Ed25519 key")
        return cls(private)

    def to_pem(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def key_id(self) -> str:
        return self.public_key.key_id

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def public_key_from_pem(data: bytes) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise InvalidKey(f"not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidKey("the key is not an Ed25519 key")
    return PublicKey(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
