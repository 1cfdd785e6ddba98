"""Password checks with argon2: a wrong username costs as much time as a wrong password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so the answer takes as long either way.
_DECOY_HASH = _hasher.hash("callcraft decoy password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
