"""GET /api/v1/teams: every team, its present members' count and its supervisors."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from api.auth.guards import requires_read
from api.routes.errors import error_responses
from api.runtime import Runtime
from projections.queries import TeamSummary, list_teams


@get(
    "/teams",
    sync_to_thread=True,
    tags=["teams"],
    guards=[requires_read],
    responses=error_responses(401, 403),
)
def teams(runtime: NamedDependency[Runtime]) -> list[TeamSummary]:
    return list_teams(runtime.read_engine)
