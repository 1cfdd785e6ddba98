"""Deterministic identities.

Names that must be unique (an agent's handle, a username, a team's name, a rulebook
version, a client's idempotency key) become the aggregate's id, so the event store's
optimistic concurrency refuses a second creation even when two requests race.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import lru_cache
from hashlib import sha1
from uuid import UUID, SafeUUID

NAMESPACE = UUID("6c2f3a52-5d0c-4b8e-9a3f-1f7c0ad7e0b1")
_NAMESPACE_BYTES = NAMESPACE.bytes
# RFC 4122 version 5: the variant bits (10) and the version nibble (5) over SHA-1's first 16 bytes.
_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_VERSION_5 = (0x8000 << 48) | (5 << 76)


def name_based_id(name: str) -> UUID:
    """``uuid.uuid5(NAMESPACE, name)``, without the standard library's detour through
    ``UUID(bytes=..., version=5)``, nor the checks of ``UUID(int=...)`` on a number that is
    in range by construction (a property test holds both equal): an import makes one for
    every row."""
    digest = sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()  # noqa: S324 - RFC 4122
    made = _new(UUID)
    _set(made, "int", (int.from_bytes(digest[:16]) & _KEEP) | _VERSION_5)
    _set(made, "is_safe", _UNKNOWN)  # what UUID(int=...) sets
    return made


_new = object.__new__
_set = object.__setattr__  # a UUID is immutable: its own __init__ sets its slots this way
# The member once: an enum member looked up on its class is a descriptor call (Python 3.11).
_UNKNOWN = SafeUUID.unknown


def normalise_name(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


CACHED_NAME_MAX_LENGTH = 100  # longer inputs are computed every time, never kept


def agent_id_for(handle: str) -> UUID:
    if len(handle) <= CACHED_NAME_MAX_LENGTH:
        return _cached_agent_id(handle)  # an import names the same agents over and over
    return _agent_id(handle)


def _agent_id(handle: str) -> UUID:
    return name_based_id(f"agent:{normalise_name(handle)}")


_cached_agent_id = lru_cache(maxsize=100_000)(_agent_id)


def user_id_for(username: str) -> UUID:
    return name_based_id(f"user:{normalise_name(username)}")


def team_id_for(name: str) -> UUID:
    return name_based_id(f"team:{normalise_name(name)}")


@lru_cache(maxsize=1024)
def rulebook_id_for(version: int) -> UUID:
    return name_based_id(f"rulebook:v{version}")


def recording_id_for(recorded_by: str, idempotency_key: str) -> UUID:
    """Idempotency keys are scoped to the recorder, so two clients cannot collide."""
    return name_based_id(f"recording:{recorded_by}:{idempotency_key}")


@lru_cache(maxsize=1024)  # a batch of kudos asks for each giver's day several times
def kudos_allowance_id_for(giver: UUID, day: date) -> UUID:
    return name_based_id(f"kudos-allowance:{giver.hex}:{day.isoformat()}")
