"""Deterministic identities.

Names that must be unique (an agent's handle, a username, a team's name, a rulebook
version, a client's idempotency key) become the aggregate's id, so the event store's
optimistic concurrency refuses a second creation even when two requests race.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6c2f3a52-5d0c-4b8e-9a3f-1f7c0ad7e0b1")


def normalise_name(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


CACHED_NAME_MAX_LENGTH = 100  # longer inputs are computed every time, never kept


def agent_id_for(handle: str) -> UUID:
    if len(handle) <= CACHED_NAME_MAX_LENGTH:
        return _cached_agent_id(handle)  # an import names the same agents over and over
    return _agent_id(handle)


def _agent_id(handle: str) -> UUID:
    return uuid5(NAMESPACE, f"agent:{normalise_name(handle)}")


_cached_agent_id = lru_cache(maxsize=100_000)(_agent_id)


def user_id_for(username: str) -> UUID:
    return uuid5(NAMESPACE, f"user:{normalise_name(username)}")


def team_id_for(name: str) -> UUID:
    return uuid5(NAMESPACE, f"team:{normalise_name(name)}")


@lru_cache(maxsize=1024)
def rulebook_id_for(version: int) -> UUID:
    return uuid5(NAMESPACE, f"rulebook:v{version}")


def recording_id_for(recorded_by: str, idempotency_key: str) -> UUID:
    """Idempotency keys are scoped to the recorder, so two clients cannot collide."""
    return uuid5(NAMESPACE, f"recording:{recorded_by}:{idempotency_key}")


def kudos_allowance_id_for(giver: UUID, day: date) -> UUID:
    return uuid5(NAMESPACE, f"kudos-allowance:{giver.hex}:{day.isoformat()}")
