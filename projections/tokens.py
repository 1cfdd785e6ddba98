"""The API tokens, for the admin's list: name, scopes, recording identity, revoked or not.

Never the secret (the events do not hold it) and not its hash either: the list has no use
for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Column, Engine, String, Table, Uuid, select, update

from domain.tokens import ApiToken
from projections.context import BatchContext
from projections.tables import UtcDateTime, metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("recording_identity", String(120), nullable=False),
    Column("issued_by", String(120), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("revoked_by", String(120), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)


@dataclass(frozen=True)
class TokenSummary:
    token_id: UUID
    name: str
    scopes: list[str]
    recording_identity: str
    issued_by: str
    issued_at: datetime
    revoked: bool
    revoked_by: str | None
    revoked_at: datetime | None


def token_issued(ctx: BatchContext, _notification_id: int, event: Any) -> None:
    ctx.insert(
        api_tokens,
        {
            "token_id": event.originator_id,
            "name": event.name,
            "scopes": " ".join(sorted(event.scopes)),
            "recording_identity": event.recording_identity,
            "issued_by": event.issued_by,
            "issued_at": event.timestamp,
            "revoked": False,
            "revoked_by": None,
            "revoked_at": None,
        },
    )


def token_revoked(ctx: BatchContext, _notification_id: int, event: Any) -> None:
    ctx.execute(
        update(api_tokens)
        .where(api_tokens.c.token_id == event.originator_id)
        .values(revoked=True, revoked_by=event.revoked_by, revoked_at=event.timestamp)
    )


TOKEN_HANDLERS: dict[type[Any], Callable[[BatchContext, int, Any], None]] = {
    ApiToken.ApiTokenIssued: token_issued,
    ApiToken.ApiTokenRevoked: token_revoked,
}


def list_tokens(engine: Engine, *, include_revoked: bool = True) -> list[TokenSummary]:
    """Every token, the newest first."""
    query = select(api_tokens).order_by(api_tokens.c.issued_at.desc(), api_tokens.c.name)
    if not include_revoked:
        query = query.where(api_tokens.c.revoked.is_(False))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        TokenSummary(
            token_id=row.token_id,
            name=row.name,
            scopes=row.scopes.split(),
            recording_identity=row.recording_identity,
            issued_by=row.issued_by,
            issued_at=row.issued_at,
            revoked=row.revoked,
            revoked_by=row.revoked_by,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]
