"""How refusals look, and the security headers every response carries.

Under ``/api/`` every error is the JSON API's shape (``api.routes.errors``). For pages, 401
sends the visitor to the sign-in page (htmx gets an ``HX-Redirect``) and other errors get a
small HTML page that says what went wrong. An htmx request gets that message as an alert
instead, retargeted (``HX-Retarget``) into the page's ``#alerts`` region, so a refused click
or form post says why in place rather than failing silently.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.types import ExceptionHandler, ExceptionHandlersMap, Message, Scope

from api.routes.errors import API_EXCEPTION_HANDLERS, status_for
from domain.exceptions import DomainError
from web.auth import is_htmx, send_to_sign_in

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Callcraft</title><link rel="stylesheet" href="/static/css/app.css"></head>
<body><main id="main" class="page"><h1>{title}</h1><p>{detail}</p>
<p><a href="/">Back to Callcraft</a></p></main></body></html>
"""
TITLES = {
    400: "That request could not be read",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "That clashes with what is recorded",
    413: "Too large",
    422: "That could not be saved",
    429: "Too many attempts",
}


ALERT = '<p class="notice notice-error" role="alert"><strong>{title}.</strong> {detail}</p>'
ALERTS_TARGET = "#alerts"


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def _api_handler(error: Exception) -> ExceptionHandler[Any] | None:
    for cls in type(error).__mro__:
        handler = API_EXCEPTION_HANDLERS.get(cls)
        if handler is not None:
            return handler
    return None


def error_page(
    status_code: int, detail: str, headers: dict[str, str] | None = None
) -> Response[str]:
    title = TITLES.get(status_code, "Something went wrong")
    return Response(
        ERROR_PAGE.format(title=escape(title), detail=escape(detail)),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers=headers or {},
    )


def error_alert(
    status_code: int, detail: str, headers: dict[str, str] | None = None
) -> Response[str]:
    """The refusal as an alert for an htmx request, swapped into the page's ``#alerts``."""
    title = TITLES.get(status_code, "Something went wrong")
    return Response(
        ALERT.format(title=escape(title), detail=escape(detail)),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={
            **(headers or {}),
            "HX-Retarget": ALERTS_TARGET,
            "HX-Reswap": "innerHTML",
        },
    )


def handle_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    if is_api(request):
        handler = _api_handler(error)
        if handler is not None:
            response: Response[Any] = handler(request, error)
            return response
    if isinstance(error, NotAuthorizedException):
        return send_to_sign_in(request)
    render = error_alert if is_htmx(request) else error_page
    if isinstance(error, HTTPException):
        return render(error.status_code, error.detail, error.headers)
    if isinstance(error, DomainError):
        return render(status_for(error), error.message)
    raise error  # let Litestar log it and answer 500


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: handle_error,
    DomainError: handle_error,
}


async def add_security_headers(message: Message, _scope: Scope) -> None:
    """``before_send`` hook: every response, errors and static files included."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers") or [])
        present = {name.lower() for name, _ in headers}
        headers.extend(item for item in SECURITY_HEADERS if item[0] not in present)
        message["headers"] = headers
