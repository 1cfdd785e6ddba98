"""GET /api/v1/agents …: the directory, an agent's profile, activity and XP explanation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import select

from api.routes.deps import today
from api.runtime import Runtime
from projections.queries import (
    MAX_LIMIT,
    ActivityItem,
    AgentProfile,
    AgentSummary,
    XpExplanation,
    agent_activity,
    agent_profile,
    explain_xp,
    list_agents,
)
from projections.tables import agents


@dataclass(frozen=True)
class XpBreakdown:
    agent_id: UUID
    xp_total: int
    lines: list[XpExplanation]


def _ensure_agent(runtime: Runtime, agent_id: UUID) -> None:
    with runtime.read_engine.connect() as connection:
        found = connection.execute(
            select(agents.c.agent_id).where(agents.c.agent_id == agent_id)
        ).first()
    if found is None:
        raise NotFoundException(detail=f"no agent with id {agent_id}")


class AgentController(Controller):
    path = "/api/v1/agents"
    tags = ["agents"]  # noqa: RUF012 - Litestar's own attribute

    @get("/", sync_to_thread=True)
    def directory(
        self,
        runtime: NamedDependency[Runtime],
        team: FromQuery[UUID | None] = None,
        include_departed: FromQuery[bool] = False,
    ) -> list[AgentSummary]:
        """Agents by name; present ones only unless ``include_departed=true``."""
        return list_agents(runtime.read_engine, team, include_departed=include_departed)

    @get("/{agent_id:uuid}", sync_to_thread=True)
    def profile(self, runtime: NamedDependency[Runtime], agent_id: FromPath[UUID]) -> AgentProfile:
        """Level, XP (total and per competency), streaks and every badge."""
        found = agent_profile(
            runtime.read_engine, agent_id, today=today(runtime), timezone=runtime.settings.zone
        )
        if found is None:
            raise NotFoundException(detail=f"no agent with id {agent_id}")
        return found

    @get("/{agent_id:uuid}/activity", sync_to_thread=True)
    def activity(
        self,
        runtime: NamedDependency[Runtime],
        agent_id: FromPath[UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 20,
    ) -> list[ActivityItem]:
        """The agent's feed, newest first."""
        _ensure_agent(runtime, agent_id)
        return agent_activity(runtime.read_engine, agent_id, limit)

    @get("/{agent_id:uuid}/xp", sync_to_thread=True)
    def xp(self, runtime: NamedDependency[Runtime], agent_id: FromPath[UUID]) -> XpBreakdown:
        """Every point explained: which recording, which rule, which rulebook version."""
        _ensure_agent(runtime, agent_id)
        lines = explain_xp(runtime.read_engine, agent_id)
        return XpBreakdown(
            agent_id=agent_id, xp_total=sum(line.points for line in lines), lines=lines
        )
