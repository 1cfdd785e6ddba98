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
from api.settings import Settings
from domain.application import Callcraft

SESSION_COOKIE = "callcraft_session"
CSRF_COOKIE = "callcraft_csrf"


def utc_now() -> datetime:
    return datetime.now(UTC)


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
            principals=RememberedPrincipals(app, projected),
        )
