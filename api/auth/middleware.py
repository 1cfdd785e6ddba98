"""The request's principal, and CSRF for everything not authenticated by a bearer token.

``AuthMiddleware`` sets ``scope["user"]`` to a ``Principal`` — from ``Authorization: Bearer
<secret>`` when that header is present (the session cookie is then ignored), else from the
session cookie — or to None for an anonymous request (the guards decide what that means).

``CsrfUnlessBearer`` runs Litestar's double-submit CSRF check on every unsafe request, except
``/api/`` requests that carry a bearer token: a browser never sends one on its own, so such a
request cannot be forged by another site. A cookie-authenticated ``/api/`` POST still needs
the CSRF header.
"""

from __future__ import annotations

from typing import Any, cast

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from api.auth.context import CSRF_COOKIE, SESSION_COOKIE, AuthContext
from api.auth.identify import principal_for_secret, principal_for_user
from domain.principals import Principal
from projections.reading import run_reads

BEARER = "bearer "
BEARER_SCOPE_KEY = "callcraft.bearer"
STATIC_PREFIX = "/static/"


def _extras(scope: Scope) -> dict[str, Any]:
    return cast("dict[str, Any]", scope)


def is_bearer_request(scope: Scope) -> bool:
    return bool(_extras(scope).get(BEARER_SCOPE_KEY))


def bearer_secret(scope: Scope) -> str | None:
    """The secret of an ``Authorization: Bearer`` header ("" for a malformed one), or None."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            return text[len(BEARER) :].strip() if text.lower().startswith(BEARER) else ""
    return None


def _identify(context: AuthContext, secret: str | None, session_id: str | None) -> Principal | None:
    if secret is not None:
        if not secret:
            return None
        return context.principals.for_secret(
            secret, lambda: principal_for_secret(context.app, secret)
        )
    if not session_id:
        return None
    user_id = context.sessions.user_of(session_id, now=context.clock())
    if user_id is None:
        return None
    return context.principals.for_user(
        user_id, lambda: principal_for_user(context.app, context.engine, user_id)
    )


class AuthMiddleware:
    def __init__(self, app: ASGIApp, context: AuthContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        secret = bearer_secret(scope)
        _extras(scope)[BEARER_SCOPE_KEY] = secret is not None
        if scope["path"].startswith(STATIC_PREFIX):  # assets are public: skip the look-ups
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        session_id = ASGIConnection[Any, Any, Any, Any](scope).cookies.get(SESSION_COOKIE)
        scope["user"] = await run_reads(
            self.context.inline_reads, _identify, self.context, secret, session_id
        )
        await self.app(scope, receive, send)


def csrf_config(context: AuthContext) -> CSRFConfig:
    return CSRFConfig(
        secret=context.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=context.settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
    )


class CsrfUnlessBearer:
    def __init__(self, app: ASGIApp, context: AuthContext) -> None:
        self.app = app
        self.config = csrf_config(context)
        self.checked = CSRFMiddleware(app, self.config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/api/") and is_bearer_request(scope):
            await self.app(scope, receive, send)
            return
        if scope["method"] in self.config.safe_methods:
            # What Litestar's middleware does for a safe request that already carries the
            # cookie — the token is the cookie, nothing is checked or set — without building
            # a request and wrapping ``send`` for it. Without the cookie, it sets one.
            cookie = ASGIConnection[Any, Any, Any, Any](scope).cookies.get(self.config.cookie_name)
            if cookie:
                ScopeState.from_scope(scope).csrf_token = cookie
                await self.app(scope, receive, send)
                return
        await self.checked(scope, receive, send)
