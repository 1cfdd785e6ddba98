"""GET /wall: the wallboard for the team TV — big, legible, refreshing itself every 30 s.

``/wall`` shows the whole centre, ``/wall?team=<id>`` one team. The board region reloads
itself with htmx (``hx-trigger="every 30s"``); that request gets only the board partial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.response import Response, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_404_NOT_FOUND
from sqlalchemy import Engine

from domain.principals import may_read
from projections.queries import LeaderboardPage, TeamSummary, leaderboard, list_teams
from web.auth import is_htmx, send_to_sign_in, viewer

WEEK_ROWS = 10
ALL_TIME_ROWS = 5
REFRESH_SECONDS = 30


@dataclass(frozen=True)
class Wall:
    team: TeamSummary | None  # None: the whole centre
    week: LeaderboardPage
    all_time: LeaderboardPage
    updated_at: datetime

    @property
    def title(self) -> str:
        return self.team.name if self.team else "The whole centre"

    @property
    def refresh_url(self) -> str:
        """Built from the validated team id only, never from what the visitor typed."""
        return f"/wall?team={self.team.team_id}" if self.team else "/wall"


def load_wall(engine: Engine, team: TeamSummary | None, zone: ZoneInfo) -> Wall:
    now = datetime.now(zone)
    scope = "team" if team else "overall"
    team_id = team.team_id if team else None
    return Wall(
        team=team,
        week=leaderboard(
            engine, scope=scope, window="week", today=now.date(), team_id=team_id, limit=WEEK_ROWS
        ),
        all_time=leaderboard(
            engine,
            scope=scope,
            window="all",
            today=now.date(),
            team_id=team_id,
            limit=ALL_TIME_ROWS,
        ),
        updated_at=now,
    )


class WallController(Controller):
    path = "/wall"
    include_in_schema = False

    @get("/", name="wall", sync_to_thread=True)
    def wall(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = viewer(request)
        if principal is None:
            return send_to_sign_in(request)
        if not may_read(principal):
            raise PermissionDeniedException(detail="the wallboard needs a role")
        partial = is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"
        template = "partials/wall_board.html" if partial else "pages/wall.html"
        context: dict[str, Any] = {
            "principal": principal,
            "zone": settings_zone,
            "refresh_seconds": REFRESH_SECONDS,
        }
        headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
        teams = list_teams(read_engine)
        context["teams"] = teams
        chosen: TeamSummary | None = None
        asked = request.query_params.get("team")
        if asked:
            try:
                team_id = UUID(asked)
            except ValueError:
                context["error"] = "That team id is not valid."
                return Template(
                    template_name=template,
                    context=context,
                    status_code=HTTP_400_BAD_REQUEST,
                    headers=headers,
                )
            chosen = next((t for t in teams if t.team_id == team_id), None)
            if chosen is None:
                context["error"] = "There is no such team."
                return Template(
                    template_name=template,
                    context=context,
                    status_code=HTTP_404_NOT_FOUND,
                    headers=headers,
                )
        context["wall"] = load_wall(read_engine, chosen, settings_zone)
        return Template(template_name=template, context=context, headers=headers)
