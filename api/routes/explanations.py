"""GET /api/v1/agents/{id}/explanation?figure=…: the events and rules behind one figure.

``figure``: ``xp`` (the default), ``competency:<name>``, ``badge:<key>`` or ``streak``; any
other is 422 naming ``figure``. Who may ask: the agent themselves, supervisors of the agent's
team, auditors, admins, and read tokens (as for the agent's private history); anyone else
gets 403, and an unknown agent 404.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from api.auth.guards import NotAllowed, principal_of, requires_read
from api.routes.agents import _team_of
from api.routes.deps import today
from api.routes.errors import error_responses
from api.runtime import Runtime
from domain.explanations import Explanation
from domain.principals import may_see_private_history
from projections.explanations import explain_figure


@get(
    "/agents/{agent_id:uuid}/explanation",
    sync_to_thread=True,
    guards=[requires_read],
    tags=["agents"],
    summary="Explain one of an agent's figures",
    responses=error_responses(400, 401, 403, 404, 422),
)
def explanation(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    agent_id: FromPath[UUID],
    figure: FromQuery[str] = "xp",
) -> Explanation:
    """Every event that produced the figure, oldest first: its notification id in the log,
    the rule in words, the rulebook version, the points it added and the running total."""
    team = _team_of(runtime, agent_id)
    if not may_see_private_history(principal_of(request), agent_id, team):
        raise NotAllowed("explanations are for the agent, their supervisors, auditors and admins")
    found = explain_figure(
        runtime.read_engine,
        agent_id,
        figure,
        today=today(runtime),
        timezone=runtime.settings.zone,
    )
    if found is None:
        raise NotFoundException(detail=f"no agent with id {agent_id}")
    return found
