"""The HTTP routes: read-only JSON under /api/v1, a health check, and a small home page."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api.routes.agents import AgentController
from api.routes.health import health
from api.routes.home import home
from api.routes.leaderboards import leaderboards
from api.routes.teams import teams


def route_handlers() -> list[ControllerRouterHandler]:
    return [AgentController, leaderboards, teams, health, home]
