"""A small contact centre served by the real app, and a caller for every role of the JSON API.

Two teams (Billing led by the supervisor ``sam``, Tech led by nobody), four agents (one of them
departed), accounts for two agents, a supervisor, an auditor and an admin, and two API tokens
(read, record). People sign in through ``/signin`` and send the CSRF header on writes, as a
browser would; integrations send ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from api.auth.context import CSRF_COOKIE, SESSION_COOKIE
from api.auth.passwords import hash_password
from api.runtime import Runtime, open_runtime
from api.settings import Settings
from domain.accounts import Role
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from tests.conftest import POSTGRES_URL, _postgres_schema, make_sqlite_database, require_postgres

PASSWORD = "correct horse battery staple"
ROLES = ("anonymous", "ada", "ben", "sam", "audrey", "root", "read_token", "record_token")
PEOPLE = ("ada", "ben", "sam", "audrey", "root")
QA_IDENTITY = "token:qa-system"


@dataclass
class Caller:
    """One identity's view of the API: a client with its own cookies, plus the headers."""

    name: str
    client: TestClient[Litestar]
    headers: dict[str, str] = field(default_factory=dict)

    def headers_for(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(self.headers)
        csrf = self.client.cookies.get(CSRF_COOKIE)
        if csrf and "authorization" not in {k.lower() for k in headers}:
            headers["x-csrftoken"] = csrf
        headers.update(extra or {})
        return headers

    def get(self, url: str, **params: Any) -> httpx.Response:
        return self.client.get(url, params=params, headers=self.headers_for(None))

    def post(
        self, url: str, body: Any = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.client.post(url, json=body, headers=self.headers_for(headers))


@dataclass
class World:
    runtime: Runtime
    app: Litestar
    main: TestClient[Litestar]
    billing: UUID
    tech: UUID
    ada: UUID  # agent in Billing, has an account
    ben: UUID  # agent in Billing, has an account
    cy: UUID  # agent in Tech
    dee: UUID  # departed agent (was in Billing)
    secrets: dict[str, str]
    callers: dict[str, Caller] = field(default_factory=dict)

    def log_position(self) -> int:
        return self.runtime.log_position()

    def caller(self, name: str) -> Caller:
        if name not in self.callers:
            self.callers[name] = self._open(name)
        return self.callers[name]

    def _open(self, name: str) -> Caller:
        client: TestClient[Litestar] = TestClient(self.app)
        if name in self.secrets:
            return Caller(name, client, {"Authorization": f"Bearer {self.secrets[name]}"})
        if name in PEOPLE:
            client.get("/signin")
            response = client.post(
                "/signin",
                data={"username": name, "password": PASSWORD, "next": "/"},
                headers={"x-csrftoken": client.cookies.get(CSRF_COOKIE) or ""},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            assert client.cookies.get(SESSION_COOKIE)
        return Caller(name, client)

    def wait_for_projections(self) -> None:
        assert self.runtime.projector.wait_until(self.log_position(), timeout=60)


def _build(settings: Settings, schema: str | None) -> Iterator[World]:
    now = datetime.now(UTC)
    runtime = open_runtime(settings, now=now, schema=schema)
    app_ = runtime.app
    billing = app_.form_team(name="Billing", formed_by="setup")
    tech = app_.form_team(name="Tech", formed_by="setup")
    enrolled = now - timedelta(days=30)

    def enrol(handle: str, name: str, team: UUID) -> UUID:
        return app_.enrol_agent(
            handle=handle,
            name=name,
            team_id=team,
            enrolled_at=enrolled,
            enrolled_by="setup",
            now=now,
        )

    ada = enrol("ada", "Ada Lovelace", billing)
    ben = enrol("ben", "Ben Okafor", billing)
    cy = enrol("cy", "Cy Twombly", tech)
    dee = enrol("dee", "Dee Dee", billing)
    password = hash_password(PASSWORD)
    users: dict[str, UUID] = {}
    for username, display, agent, roles in (
        ("ada", "Ada Lovelace", ada, (Role.AGENT,)),
        ("ben", "Ben Okafor", ben, (Role.AGENT,)),
        ("sam", "Sam Rivera", None, (Role.SUPERVISOR,)),
        ("audrey", "Audrey Auditor", None, (Role.AUDITOR,)),
        ("root", "Root Admin", None, (Role.ADMIN,)),
    ):
        users[username] = app_.register_user(
            username=username,
            display_name=display,
            password_hash=password,
            agent_id=agent,
            registered_by="setup",
        )
        for role in roles:
            app_.grant_role(user_id=users[username], role=role, granted_by="setup")
    app_.assign_supervisor(team_id=billing, user_id=users["sam"], assigned_by="setup")
    _, read_secret = app_.issue_token(
        name="dashboards", scopes=["read"], recording_identity="token:dashboards", issued_by="root"
    )
    _, record_secret = app_.issue_token(
        name="qa-system", scopes=["record"], recording_identity=QA_IDENTITY, issued_by="root"
    )
    app_.record(
        RecordRecognition(
            kind=RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE,
            agent_id=ada,
            competencies=("customer_service",),
            occurred_at=now - timedelta(days=1),
            recorded_by="sam",
            note="a private word of thanks",
            call_ref="CALL-1",
        ),
        now=now,
    )
    app_.depart_agent(
        agent_id=dee, departed_at=now - timedelta(hours=1), recorded_by="setup", now=now
    )
    runtime.projector.catch_up()
    litestar_app = create_app(settings, runtime=runtime)
    with TestClient(litestar_app) as main:
        world = World(
            runtime=runtime,
            app=litestar_app,
            main=main,
            billing=billing,
            tech=tech,
            ada=ada,
            ben=ben,
            cy=cy,
            dee=dee,
            secrets={"read_token": read_secret, "record_token": record_secret},
        )
        world.callers["anonymous"] = Caller("anonymous", main)
        yield world


def _settings(database_url: str, read_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        read_database_url=read_url,
        run_projector=True,
        projector_poll_seconds=0.05,
        read_your_writes_timeout=30.0,
        secret_key="a-test-secret-key-that-is-long-enough-to-sign-csrf",
    )


def serve_world(kind: str, directory: Any) -> Iterator[World]:
    """A world on SQLite (in ``directory``) or on PostgreSQL (in a schema of its own)."""
    if kind == "sqlite":
        database = make_sqlite_database(directory)
        yield from _build(_settings(database.database_url, database.read_url), None)
        return
    require_postgres()
    for schema in _postgres_schema():
        yield from _build(_settings(POSTGRES_URL, POSTGRES_URL), schema)
