"""What the auth pieces share in one process: stores, settings, and the clock."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from api.auth.remembered import RememberedPrincipals
from api.auth.sessions import SessionStore
from api.auth.throttle import SignInThrottle
from api.settings import Settings, sqlite_path
from domain.application import Callcraft
from projections.hot import log_top_reader
from projections.reading import reads_inline

SESSION_COOKIE = "callcraft_session"
CSRF_COOKIE = "callcraft_csrf"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _log_top(app: Callcraft, settings: Settings) -> Callable[[], int] | None:
    """The log's last id read on a connection each thread keeps (``projections.hot``), for an
    event store in a SQLite file; None (the recorder's own read) otherwise."""
    statement = getattr(app.recorder, "select_max_notification_id_statement", None)
    if not settings.database_url.startswith("sqlite") or not isinstance(statement, str):
        return None
    path = sqlite_path(settings.database_url)
    if path == ":memory:":
        return None
    return log_top_reader(path, statement)


@dataclass
class AuthContext:
    app: Callcraft
    engine: Engine
    settings: Settings
    sessions: SessionStore
    throttle: SignInThrottle
    secret_key: str
    principals: RememberedPrincipals
    clock: Callable[[], datetime] = field(default=utc_now)
    inline_reads: bool = False
    """Both stores are SQLite files: identify a request on the event loop, no thread hop
    (``projections.reading``)."""

    @classmethod
    def build(
        cls,
        app: Callcraft,
        engine: Engine,
        settings: Settings,
        *,
        projected: Callable[[], int] | None = None,
    ) -> AuthContext:
        """``projected`` gives the read models' log position (see ``RememberedPrincipals``)."""
        return cls(
            app=app,
            engine=engine,
            settings=settings,
            sessions=SessionStore(engine, lifetime=timedelta(hours=settings.session_hours)),
            throttle=SignInThrottle(
                engine,
                limit=settings.signin_attempts,
                window=timedelta(seconds=settings.signin_window_seconds),
            ),
            secret_key=settings.secret_key or secrets.token_urlsafe(48),
            principals=RememberedPrincipals(app, projected, top=_log_top(app, settings)),
            inline_reads=reads_inline(engine) and settings.database_url.startswith("sqlite"),
        )
