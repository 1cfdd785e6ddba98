"""Helpers for HTTP tests: accounts with real (cheap) argon2 hashes, sign-in through the real
form, CSRF tokens, and bearer tokens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from httpx import Response
from litestar.testing import TestClient
from litestar.types import ControllerRouterHandler

from api.app import create_app
from api.runtime import open_runtime
from api.settings import Settings
from domain.accounts import Role
from domain.application import Callcraft
from tests.conftest import Database

# Cheap parameters: verification reads them from the hash, so tests stay fast.
_QUICK = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def quick_hash(password: str) -> str:
    return _QUICK.hash(password)


def password_for(username: str) -> str:
    return f"pw-{username}-secret"


def add_user(
    app: Callcraft,
    username: str,
    roles: Iterable[Role] = (),
    *,
    agent_id: UUID | None = None,
    display_name: str | None = None,
) -> UUID:
    """An account whose password is ``password_for(username)``."""
    user_id = app.register_user(
        username=username,
        display_name=display_name or username.title(),
        password_hash=quick_hash(password_for(username)),
        agent_id=agent_id,
        registered_by="test",
    )
    for role in roles:
        app.grant_role(user_id=user_id, role=role, granted_by="test")
    return user_id


def csrf_token(client: TestClient[Any]) -> str:
    """The CSRF token the sign-in form carries (and the cookie it sets on the client)."""
    page = client.get("/signin")
    found = _CSRF_INPUT.search(page.text)
    assert found, f"no CSRF token on the sign-in page ({page.status_code})"
    return found.group(1)


def sign_in(
    client: TestClient[Any], username: str, password: str | None = None, *, next: str = "/"
) -> Response:
    """POST the sign-in form as a browser would; the client keeps the session cookie."""
    token = csrf_token(client)
    return client.post(
        "/signin",
        data={
            "username": username,
            "password": password_for(username) if password is None else password,
            "next": next,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )


def csrf_headers(client: TestClient[Any]) -> dict[str, str]:
    """Headers htmx would send on a state-changing request."""
    return {"x-csrftoken": csrf_token(client)}


def bearer(
    app: Callcraft, scopes: Iterable[str] = ("read",), *, name: str = "test integration"
) -> dict[str, str]:
    """``Authorization`` headers for a new API token with ``scopes``."""
    _token_id, secret = app.issue_token(name=name, scopes=list(scopes), issued_by="test")
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class World:
    """A small centre behind a test client: one team, one agent, one account per role.

    ``changes`` collects what the test-only write routes did, so a test can prove a refused
    request changed nothing."""

    client: TestClient[Any]
    app: Callcraft
    team_id: UUID
    agent_id: UUID
    users: dict[str, UUID]
    changes: list[str] = field(default_factory=list)


def world_settings(database: Database, **overrides: Any) -> Settings:
    return replace(
        Settings(
            database_url=database.database_url,
            read_database_url=database.read_url,
            run_projector=False,
        ),
        **overrides,
    )


@contextmanager
def open_world(
    database: Database,
    *,
    extra_handlers: Callable[[World], Iterable[ControllerRouterHandler]] | None = None,
    **overrides: Any,
) -> Iterator[World]:
    settings = world_settings(database, **overrides)
    now = datetime.now(UTC)
    runtime = open_runtime(settings, now=now, schema=database.schema)
    app = runtime.app
    team_id = app.form_team(name="Billing Care", formed_by="test")
    agent_id = app.enrol_agent(
        handle="ada",
        name="Ada Agent",
        team_id=team_id,
        enrolled_at=now - timedelta(days=30),
        enrolled_by="test",
        now=now,
    )
    users = {
        "agent": add_user(app, "ada", [Role.AGENT], agent_id=agent_id),
        "supervisor": add_user(app, "sam", [Role.SUPERVISOR]),
        "auditor": add_user(app, "aud", [Role.AUDITOR]),
        "admin": add_user(app, "root", [Role.ADMIN]),
        "nobody": add_user(app, "norole"),
    }
    app.assign_supervisor(team_id=team_id, user_id=users["supervisor"], assigned_by="test")
    runtime.projector.catch_up()
    litestar_app = create_app(settings, runtime=runtime)
    with TestClient(litestar_app) as client:
        world = World(client=client, app=app, team_id=team_id, agent_id=agent_id, users=users)
        for handler in extra_handlers(world) if extra_handlers else ():
            litestar_app.register(handler)
        yield world


USERNAMES = {
    "agent": "ada",
    "supervisor": "sam",
    "auditor": "aud",
    "admin": "root",
    "nobody": "norole",
}
