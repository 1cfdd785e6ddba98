"""GET /api/v1/rulebook: the rules in force now, as data, with version and effective_from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import get
from litestar.di import NamedDependency

from api.auth.guards import requires_read
from api.routes.errors import error_responses
from api.runtime import Runtime
from domain.rulebook import rulebook_to_data


@dataclass(frozen=True)
class RulebookInForce:
    version: int
    name: str
    effective_from: datetime
    rules: dict[str, Any]


@get(
    "/rulebook",
    sync_to_thread=True,
    tags=["rulebook"],
    guards=[requires_read],
    responses=error_responses(401, 403),
)
def rulebook(runtime: NamedDependency[Runtime]) -> RulebookInForce:
    """XP per recognition, caps, levels, streaks and badges of the rulebook in force."""
    history = runtime.app.rulebooks()
    now = datetime.now(UTC)
    in_force = history.in_force_at(now)
    publication = next(p for p in history if p.rulebook.version == in_force.version)
    return RulebookInForce(
        version=in_force.version,
        name=in_force.name,
        effective_from=publication.effective_from,
        rules=rulebook_to_data(in_force),
    )
