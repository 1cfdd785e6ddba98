"""GET /api/v1/agents …: the directory, an agent's profile, history, badges and XP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import select

from api.auth.guards import principal_of, requires_read
from api.routes.as_of import AS_OF_DESCRIPTION, moment_of
from api.routes.deps import today
from api.routes.errors import error_responses
from api.routes.history import History, agent_history
from api.runtime import Runtime
from domain.principals import may_see_private_history
from projections.asof import explain_xp_as_of, profile_as_of
from projections.queries import (
    MAX_LIMIT,
    MAX_OFFSET,
    AgentProfile,
    AgentSummary,
    BadgeView,
    XpExplanation,
    agent_profile,
    explain_xp,
    list_agents,
)
from projections.tables import agents

HISTORY_LIMIT = 50
AsOf = Annotated[str | None, QueryParameter(description=AS_OF_DESCRIPTION)]


@dataclass(frozen=True)
class XpBreakdown:
    agent_id: UUID
    xp_total: int
    lines: list[XpExplanation]


def _team_of(runtime: Runtime, agent_id: UUID) -> UUID:
    """The agent's team (404 when there is no such agent)."""
    with runtime.read_engine.connect() as connection:
        found: UUID | None = connection.execute(
            select(agents.c.team_id).where(agents.c.agent_id == agent_id)
        ).scalar_one_or_none()
    if found is None:
        raise NotFoundException(detail=f"no agent with id {agent_id}")
    return found


def _profile(runtime: Runtime, agent_id: UUID, as_of: str | None = None) -> AgentProfile:
    moment = moment_of(runtime, as_of)
    zone = runtime.settings.zone
    if moment is None:
        found = agent_profile(runtime.read_engine, agent_id, today=today(runtime), timezone=zone)
    else:
        _team_of(runtime, agent_id)
        found = profile_as_of(runtime.read_engine, agent_id, moment, timezone=zone)
        if found is None:
            raise NotFoundException(detail=f"agent {agent_id} was not enrolled yet as of {as_of}")
    if found is None:
        raise NotFoundException(detail=f"no agent with id {agent_id}")
    return found


class AgentController(Controller):
    path = "/agents"
    tags = ["agents"]  # noqa: RUF012 - Litestar's own attribute
    guards = [requires_read]  # noqa: RUF012 - Litestar's own attribute

    @get("/", sync_to_thread=True, responses=error_responses(400, 401, 403))
    def directory(
        self,
        runtime: NamedDependency[Runtime],
        team: FromQuery[UUID | None] = None,
        include_departed: FromQuery[bool] = False,
    ) -> list[AgentSummary]:
        """Agents by name; present ones only unless ``include_departed=true``."""
        return list_agents(runtime.read_engine, team, include_departed=include_departed)

    @get(
        "/{agent_id:uuid}",
        sync_to_thread=True,
        responses=error_responses(400, 401, 403, 404, 422),
    )
    def profile(
        self, runtime: NamedDependency[Runtime], agent_id: FromPath[UUID], as_of: AsOf = None
    ) -> AgentProfile:
        """Level, XP (total and per competency), streaks and every badge (as of a past
        moment with ``as_of``)."""
        return _profile(runtime, agent_id, as_of)

    @get(
        "/{agent_id:uuid}/history",
        sync_to_thread=True,
        responses=error_responses(400, 401, 403, 404),
    )
    def history(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        agent_id: FromPath[UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = HISTORY_LIMIT,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> History:
        """The recognitions the agent received, newest first; notes only for those who may
        see the agent's private history (the agent, their supervisors, auditors, admins)."""
        team = _team_of(runtime, agent_id)
        private = may_see_private_history(principal_of(request), agent_id, team)
        return agent_history(
            runtime.read_engine, agent_id, private=private, limit=limit, offset=offset
        )

    @get(
        "/{agent_id:uuid}/badges",
        sync_to_thread=True,
        responses=error_responses(400, 401, 403, 404, 422),
    )
    def badges(
        self, runtime: NamedDependency[Runtime], agent_id: FromPath[UUID], as_of: AsOf = None
    ) -> list[BadgeView]:
        """Every badge of the rulebook: tier earned, progress and the next threshold."""
        return _profile(runtime, agent_id, as_of).badges

    @get(
        "/{agent_id:uuid}/xp",
        sync_to_thread=True,
        responses=error_responses(400, 401, 403, 404, 422),
    )
    def xp(
        self, runtime: NamedDependency[Runtime], agent_id: FromPath[UUID], as_of: AsOf = None
    ) -> XpBreakdown:
        """Every point explained: which recording, which rule, which rulebook version."""
        _team_of(runtime, agent_id)
        moment = moment_of(runtime, as_of)
        if moment is None:
            lines = explain_xp(runtime.read_engine, agent_id)
        else:
            lines = explain_xp_as_of(
                runtime.read_engine, agent_id, moment, timezone=runtime.settings.zone
            )
        return XpBreakdown(
            agent_id=agent_id, xp_total=sum(line.points for line in lines), lines=lines
        )
