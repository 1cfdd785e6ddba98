"""The HTTP composition root: ``create_app(settings)`` builds the Litestar app.

It opens the event store (publishing the default rulebook when there is none), the read
models (creating missing tables) and a projector; the lifespan starts the projector's
background thread when ``settings.run_projector`` and closes everything on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.exceptions import ValidationException
from litestar.openapi.config import OpenAPIConfig

from api.routes import route_handlers
from api.routes.deps import DEPENDENCIES
from api.routes.errors import bad_request
from api.runtime import Runtime, open_runtime
from api.settings import Settings


def create_app(
    settings: Settings, *, schema: str | None = None, runtime: Runtime | None = None
) -> Litestar:
    """The app for ``settings``. ``schema`` (PostgreSQL) isolates tests; ``runtime`` lets a
    caller hand in one it opened itself."""
    opened = runtime or open_runtime(settings, schema=schema)

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        if settings.run_projector:
            opened.start_projector()
        try:
            yield
        finally:
            opened.close()

    app = Litestar(
        route_handlers=route_handlers(),
        dependencies=DEPENDENCIES,
        exception_handlers={ValidationException: bad_request},
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="Callcraft", version="0.1.0"),
    )
    app.state.runtime = opened
    return app
