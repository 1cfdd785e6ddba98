"""Guards: who may reach a route at all. Data-level rules live in ``domain.principals``.

Every guard is a coroutine function: Litestar runs a plain function guard on a worker thread
(one thread hop per guard per request), and these only look at the request's principal.

``signed_in`` refuses anonymous requests with 401 — JSON under ``/api``, a redirect to the
sign-in page for pages (see ``api.auth.responses``). ``requires_role`` refuses, with 403,
a principal holding none of the roles. ``principal_of`` gives a handler its principal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.accounts import Role
from domain.principals import Principal, may_read

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


class SignInRequired(NotAuthorizedException):
    """No one is signed in (or the session or token is no longer valid)."""

    def __init__(self, detail: str = "sign in first: this needs a signed-in user or an API token"):
        super().__init__(detail=detail, headers={"WWW-Authenticate": 'Bearer realm="callcraft"'})


class NotAllowed(PermissionDeniedException):
    """Signed in, but not allowed to do this."""

    def __init__(self, detail: str = "you are not allowed to do this") -> None:
        super().__init__(detail=detail)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal the auth middleware found, or None for an anonymous request."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The request's principal; 401 when no one is signed in."""
    principal = current_principal(connection)
    if principal is None:
        raise SignInRequired()
    return principal


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal_of(connection)


def requires_role(*roles: Role) -> Guard:
    """A guard: the principal must hold at least one of ``roles`` (tokens hold none)."""
    wanted = frozenset(roles)
    names = " or ".join(role.value for role in roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.is_token or not wanted & principal.roles:
            raise NotAllowed(f"this needs the role {names}")

    return guard


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


ABOUT_THE_CALLER = "about_the_caller"
"""A route's ``opt`` key: it tells the caller only about itself (``/me``), so any signed-in
principal may read it, a record-only token too."""


async def api_access(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app-wide guard of ``/api/``: someone must be signed in (a person or a token), and
    reading needs read rights — except for routes about the caller itself. What a write
    needs, each write route's own guards decide."""
    if not connection.url.path.startswith("/api/"):
        return
    principal = principal_of(connection)
    if handler.opt.get(ABOUT_THE_CALLER):
        return
    if connection.scope.get("method", "GET") in SAFE_METHODS and not may_read(principal):
        raise NotAllowed("this needs read access (a role, or a token with the read scope)")


async def requires_read(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A person with any role, or a token with the read scope."""
    if not may_read(principal_of(connection)):
        raise NotAllowed("this needs read access (a role, or a token with the read scope)")
