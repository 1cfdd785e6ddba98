"""Who is looking at a page, and the sign-in redirect for anonymous visitors.

The auth middleware (mounted by ``api.app``) puts a ``Principal`` in the request scope, or
nothing for an anonymous visitor. Pages that need someone signed in send anonymous visitors
to ``/signin?next=<this page>`` (an htmx request gets an ``HX-Redirect`` instead, so the
whole page goes there rather than a fragment of it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Response
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_401_UNAUTHORIZED

from domain.principals import Principal

SIGN_IN_PATH = "/signin"


def viewer(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The signed-in principal, or None for an anonymous visitor."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


def sign_in_url(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """``/signin?next=…`` naming the page asked for (path and query, never a host)."""
    target = connection.url.path
    if connection.url.query:
        target += "?" + connection.url.query
    return f"{SIGN_IN_PATH}?next={quote(target, safe='/')}"


def is_htmx(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """True for a request htmx made (it answers with a partial, not a page)."""
    return connection.headers.get("hx-request") == "true"


def send_to_sign_in(connection: ASGIConnection[Any, Any, Any, Any]) -> Response[Any]:
    """A 303 to the sign-in page; for htmx, a 401 whose ``HX-Redirect`` moves the whole page."""
    url = sign_in_url(connection)
    if is_htmx(connection):
        return Response(
            content=b"", status_code=HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": url}
        )
    return Redirect(path=url, status_code=HTTP_303_SEE_OTHER)


def permitted_viewer(
    connection: ASGIConnection[Any, Any, Any, Any],
    allowed: Callable[[Principal], bool],
    denial: str,
) -> Principal | Response[Any]:
    """The signed-in principal when ``allowed``; the sign-in redirect for an anonymous visitor;
    403 with ``denial`` for anyone else."""
    principal = viewer(connection)
    if principal is None:
        return send_to_sign_in(connection)
    if not allowed(principal):
        raise PermissionDeniedException(detail=denial)
    return principal
