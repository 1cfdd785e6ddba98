"""The HTTP composition root: ``create_app(settings)`` builds the Litestar app.

It opens the event store (publishing the default rulebook when there is none), the read
models (creating missing tables) and a projector; the lifespan starts the projector's
background thread when ``settings.run_projector`` and closes everything on shutdown.

Every request passes the auth middleware (``request.user`` is a ``Principal`` or None) and,
unless it is an ``/api/`` request with a bearer token, the CSRF check. Pages (``web``) and the
JSON API (``api.routes``) get the process's pieces as dependencies: ``runtime``,
``app_service``, ``read_engine``, ``settings_zone``, ``integrity`` and ``wait_for_projection``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from sqlalchemy import Engine

from api.auth.context import AuthContext
from api.auth.guards import api_access
from api.auth.middleware import AuthMiddleware, CsrfUnlessBearer
from api.auth.responses import EXCEPTION_HANDLERS, add_security_headers
from api.auth.routes import SignInController
from api.auth.tables import ensure_auth_tables
from api.replay import run_replay_check
from api.routes import route_handlers as api_route_handlers
from api.routes.deps import DEPENDENCIES
from api.runtime import Runtime, open_runtime
from api.settings import Settings
from domain.application import Callcraft
from projections.integrity import Integrity
from projections.replay_jobs import ReplayJobs
from web.reading import Reading
from web.routes import route_handlers as page_route_handlers
from web.templating import STATIC_DIR, template_config


def _runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def provide_app_service(state: State) -> Callcraft:
    return _runtime(state).app


def provide_read_engine(state: State) -> Engine:
    return _runtime(state).read_engine


def provide_settings_zone(state: State) -> ZoneInfo:
    return _runtime(state).settings.zone


def provide_replay_jobs(state: State) -> ReplayJobs:
    jobs: ReplayJobs = state.replay_jobs
    return jobs


def provide_reading(state: State) -> Reading:
    reading: Reading = state.reading
    return reading


def provide_integrity(state: State) -> Integrity:
    return _runtime(state).integrity


def provide_wait_for_projection(state: State) -> Callable[[int], bool]:
    """``wait(notification_id)``: True once the read models include it, False after
    ``settings.read_your_writes_timeout`` seconds."""
    runtime = _runtime(state)
    timeout = runtime.settings.read_your_writes_timeout

    def wait(notification_id: int) -> bool:
        return runtime.projector.wait_until(notification_id, timeout)

    return wait


def dependencies() -> dict[str, Provide]:
    return {
        **DEPENDENCIES,
        "app_service": Provide(provide_app_service, sync_to_thread=False),
        "read_engine": Provide(provide_read_engine, sync_to_thread=False),
        "settings_zone": Provide(provide_settings_zone, sync_to_thread=False),
        "reading": Provide(provide_reading, sync_to_thread=False),
        "integrity": Provide(provide_integrity, sync_to_thread=False),
        "wait_for_projection": Provide(provide_wait_for_projection, sync_to_thread=False),
        "replay_jobs": Provide(provide_replay_jobs, sync_to_thread=False),
    }


def handlers() -> list[ControllerRouterHandler]:
    return [
        SignInController,
        *api_route_handlers(),
        *page_route_handlers(),
        create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
    ]


def create_app(
    settings: Settings, *, schema: str | None = None, runtime: Runtime | None = None
) -> Litestar:
    """The app for ``settings``. ``schema`` (PostgreSQL) isolates tests; ``runtime`` lets a
    caller hand in one it opened itself."""
    opened = runtime or open_runtime(settings, schema=schema)
    ensure_auth_tables(opened.read_engine)
    auth = AuthContext.build(
        opened.app, opened.read_engine, settings, projected=opened.projector.position
    )

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        if settings.run_projector:
            opened.start_projector()
        try:
            yield
        finally:
            opened.close()

    exception_handlers: dict[Any, Any] = dict(EXCEPTION_HANDLERS)
    app = Litestar(
        route_handlers=handlers(),
        dependencies=dependencies(),
        middleware=[
            DefineMiddleware(AuthMiddleware, context=auth),
            DefineMiddleware(CsrfUnlessBearer, context=auth),
        ],
        guards=[api_access],
        exception_handlers=exception_handlers,
        before_send=[add_security_headers],
        request_max_body_size=settings.max_body_bytes,
        template_config=template_config(),
        plugins=[HTMXPlugin()],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="Callcraft", version="0.1.0"),
    )
    app.state.runtime = opened
    app.state.auth = auth
    app.state.reading = Reading(opened.read_engine, settings.zone)
    app.state.replay_jobs = ReplayJobs(
        lambda on_difference, rebuilt, compared: run_replay_check(
            opened, on_difference, rebuilt=rebuilt, compared=compared
        )
    )
    return app
