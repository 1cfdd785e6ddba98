"""GET /api/v1/teams: every team, its present members' count and its supervisors."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from api.runtime import Runtime
from projections.queries import TeamSummary, list_teams


@get("/api/v1/teams", sync_to_thread=True, tags=["teams"])
def teams(runtime: NamedDependency[Runtime]) -> list[TeamSummary]:
    return list_teams(runtime.read_engine)
