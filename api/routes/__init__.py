"""The JSON API under /api/v1 (every route needs a signed-in principal) and the health check."""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from api.auth.guards import signed_in
from api.routes.agents import AgentController
from api.routes.errors import API_EXCEPTION_HANDLERS
from api.routes.events import export_events, list_events
from api.routes.explanations import explanation
from api.routes.health import health
from api.routes.integrity import public_key, verification
from api.routes.kudos import give_kudos, kudos_allowance
from api.routes.leaderboards import leaderboards
from api.routes.me import me
from api.routes.recognitions import record_batch, record_recognition
from api.routes.recordings import retract_recording
from api.routes.replays import replay_status, start_replay
from api.routes.rulebook import rulebook
from api.routes.teams import teams

API_PREFIX = "/api/v1"


def api_router() -> Router:
    return Router(
        path=API_PREFIX,
        route_handlers=[
            me,
            AgentController,
            explanation,
            teams,
            leaderboards,
            rulebook,
            record_recognition,
            record_batch,
            retract_recording,
            give_kudos,
            kudos_allowance,
            list_events,
            export_events,
            start_replay,
            replay_status,
            public_key,
            verification,
        ],
        guards=[signed_in],
        exception_handlers=API_EXCEPTION_HANDLERS,
    )


def route_handlers() -> list[ControllerRouterHandler]:
    return [api_router(), health]
