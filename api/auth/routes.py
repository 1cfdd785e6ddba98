"""``/signin`` (GET the form, POST the credentials) and ``/signout`` (POST).

Signing in always opens a fresh session (the id is rotated) and closes the one the browser
came with; after ``settings.signin_attempts`` failures for one username from one address
within the window, sign-in answers 429 with ``Retry-After`` — without looking at the password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_429_TOO_MANY_REQUESTS,
)

from api.auth.context import SESSION_COOKIE, AuthContext
from api.auth.guards import current_principal
from api.auth.passwords import password_matches
from api.auth.throttle import attempt_key
from domain.accounts import USERNAME_MAX_LENGTH
from domain.exceptions import DomainError
from domain.principals import Principal

SIGNIN_TEMPLATE = "pages/signin.html"
PASSWORD_MAX_LENGTH = 1024
NEXT_MAX_LENGTH = 2000
WRONG = "That username and password do not match an active account."


def local_path(value: str | None) -> str:
    """``value`` when it is a path on this site, else ``/`` (never another host)."""
    if not value or len(value) > NEXT_MAX_LENGTH or not value.startswith("/"):
        return "/"
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


@dataclass(frozen=True)
class Outcome:
    session_id: str | None = None
    error: str | None = None
    status_code: int = HTTP_303_SEE_OTHER
    retry_after: int | None = None


def _sign_in(
    context: AuthContext, username: str, password: str, address: str, replacing: str | None
) -> Outcome:
    if not username or not password:
        return Outcome(error="Enter your username and password.", status_code=HTTP_400_BAD_REQUEST)
    if len(username) > USERNAME_MAX_LENGTH or len(password) > PASSWORD_MAX_LENGTH:
        return Outcome(error=WRONG, status_code=HTTP_401_UNAUTHORIZED)
    key = attempt_key(username, address)
    now = context.clock()
    wait = context.throttle.retry_after(key, now=now)
    if wait is not None:
        return Outcome(
            error=f"Too many failed attempts. Try again in {wait} seconds.",
            status_code=HTTP_429_TOO_MANY_REQUESTS,
            retry_after=wait,
        )
    try:
        account = context.app.user_named(username)
    except DomainError:
        account = None
    stored_hash = account.password_hash if account is not None else None
    if not password_matches(password, stored_hash) or account is None or account.disabled:
        context.throttle.failed(key, now=now)
        return Outcome(error=WRONG, status_code=HTTP_401_UNAUTHORIZED)
    context.throttle.succeeded(key)
    return Outcome(session_id=context.sessions.open(account.id, now=now, replacing=replacing))


def _form_page(
    principal: Principal | None,
    next_path: str,
    *,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        SIGNIN_TEMPLATE,
        context={"principal": principal, "next": next_path, "username": username, "error": error},
        status_code=status_code,
        headers=headers or {},
    )


def _context(request: Request[Any, Any, Any]) -> AuthContext:
    context: AuthContext = request.app.state.auth
    return context


class SignInController(Controller):
    include_in_schema = False

    @get("/signin", sync_to_thread=False)
    def form(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
        return _form_page(current_principal(request), local_path(next))

    @post("/signin")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        next_path = local_path(str(form.get("next") or "/"))
        address = request.client.host if request.client else "unknown"
        outcome = await to_thread.run_sync(
            _sign_in,
            _context(request),
            username,
            password,
            address,
            request.cookies.get(SESSION_COOKIE),
        )
        if outcome.session_id is None:
            headers = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else {}
            return _form_page(
                None,
                next_path,
                username=username,
                error=outcome.error,
                status_code=outcome.status_code,
                headers=headers,
            )
        response: Response[Any] = Redirect(path=next_path, status_code=HTTP_303_SEE_OTHER)
        response.set_cookie(
            SESSION_COOKIE,
            outcome.session_id,
            path="/",
            max_age=int(_context(request).settings.session_hours * 3600),
            httponly=True,
            secure=_context(request).settings.secure_cookies,
            samesite="lax",
        )
        return response

    @post("/signout")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            await to_thread.run_sync(_context(request).sessions.close, session_id)
        response: Response[Any] = Redirect(path="/signin", status_code=HTTP_303_SEE_OTHER)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
