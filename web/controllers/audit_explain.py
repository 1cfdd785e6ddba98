"""/audit/agents/{agent_id}/explain?figure=…: why a figure of an agent is what it is.

A figure picker (total XP, each competency, each badge, the streak) and the explanation: every
event that produced the figure, linked to the event in the log (``/audit/log/{id}``), with
the rule in words and the rulebook version that applied. Changing the figure reloads only the
explanation (htmx, the URL follows). Who may look: the agent themselves, supervisors of the
agent's team, auditors and admins; a bad figure name is answered with 422 and the picker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Response, Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy import Engine

from domain.explanations import InvalidFigure, figure_choices
from domain.principals import may_audit, may_see_private_history
from projections.explanations import explain_figure
from projections.queries import agent_profile, latest_rulebook_history
from web.auth import is_htmx, send_to_sign_in, viewer

DENIAL = "explanations are for the agent, their supervisors, auditors and admins"


class ExplainPageController(Controller):
    path = "/audit/agents"
    include_in_schema = False

    @get("/{agent_id:uuid}/explain", name="audit_explain", sync_to_thread=True)
    def explain_page(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
        agent_id: FromPath[UUID],
    ) -> Template | Response[Any]:
        principal = viewer(request)
        if principal is None:
            return send_to_sign_in(request)
        today = datetime.now(settings_zone).date()
        profile = agent_profile(read_engine, agent_id, today=today, timezone=settings_zone)
        if profile is None:
            raise NotFoundException(detail="There is no such agent.")
        if not may_see_private_history(principal, agent_id, profile.team_id):
            raise PermissionDeniedException(detail=DENIAL)
        figure = request.query_params.get("figure", "xp")
        context: dict[str, Any] = {
            "principal": principal,
            "profile": profile,
            "figure": figure,
            "choices": figure_choices(latest_rulebook_history(read_engine).latest),
            "zone": settings_zone,
            "can_audit": may_audit(principal),
        }
        status = 200
        try:
            context["explanation"] = explain_figure(
                read_engine, agent_id, figure, today=today, timezone=settings_zone
            )
        except InvalidFigure as error:
            context["error"] = error.message
            status = HTTP_422_UNPROCESSABLE_ENTITY
        template = "partials/explanation.html" if is_htmx(request) else "pages/audit_explain.html"
        return Template(
            template_name=template,
            context=context,
            status_code=status,
            headers={"Vary": "HX-Request", "Cache-Control": "no-store"},
        )
