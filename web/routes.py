"""Every page route of the web layer, collected for ``api.app`` to mount.

Each engineer adds their controllers to the list with a one-line edit.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from web.controllers.admin import AdminController
from web.controllers.audit import AuditController
from web.controllers.audit_explain import ExplainPageController
from web.controllers.audit_replay import ReplayPageController
from web.controllers.home import HomeController
from web.controllers.integrity import IntegrityController
from web.controllers.kudos import KudosController
from web.controllers.leaderboards import LeaderboardController
from web.controllers.supervisor import RecordController, TeamController
from web.controllers.wall import WallController


def route_handlers() -> list[ControllerRouterHandler]:
    """The page controllers and handlers (HTML + htmx partials), in no particular order."""
    return [
        HomeController,
        LeaderboardController,
        WallController,
        RecordController,
        TeamController,
        KudosController,
        AdminController,  # engineer D
        AuditController,  # the event log (log)
        ReplayPageController,
        ExplainPageController,
        IntegrityController,  # chain: /audit/integrity
    ]
