"""A demo centre behind the real app for the page tests, and a way to view it as each role.

One store per test module (SQLite, and PostgreSQL when reachable): the demo over 20 days with
24 agents (so the leaderboards have a second page), plus an agent whose name is a script tag,
an initiative whose description is one, and an account with no role. People sign in through
the real ``/signin`` form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from litestar.testing import TestClient

from api.app import create_app
from api.demo import DEMO_PASSWORDS, fill_demo
from api.runtime import open_runtime
from api.settings import Settings
from domain.facts import RecognitionKind
from domain.identity import team_id_for
from domain.recordings import RecordRecognition
from tests.conftest import POSTGRES_URL, _postgres_schema, make_sqlite_database, require_postgres
from tests.e2e.http_helpers import add_user, password_for, quick_hash, sign_in

SCRIPT_NAME = '<script>alert("name")</script>'
SCRIPT_NOTE = "<script>alert('note')</script> covered the queue"
PEOPLE = {
    "agent": ("agent", DEMO_PASSWORDS["agent"]),
    "supervisor": ("supervisor", DEMO_PASSWORDS["supervisor"]),
    "auditor": ("auditor", DEMO_PASSWORDS["auditor"]),
    "admin": ("admin", DEMO_PASSWORDS["admin"]),
    "nobody": ("norole", password_for("norole")),
}


@dataclass
class Centre:
    client: TestClient[Any]
    agent_id: UUID  # the demo account "agent"'s agent
    team_id: UUID  # the team led by the demo account "supervisor"
    script_agent_id: UUID

    def view_as(self, role: str) -> TestClient[Any]:
        """Sign the shared client in as ``role`` (agent, supervisor, auditor, admin, nobody)."""
        username, password = PEOPLE[role]
        answer = sign_in(self.client, username, password)
        assert answer.status_code == 303, answer.text
        return self.client

    def sign_out(self) -> None:
        self.client.cookies.clear()

    def htmx(self, url: str, **headers: str) -> httpx.Response:
        return self.client.get(url, headers={"HX-Request": "true", **headers})


def _open(settings: Settings, schema: str | None) -> Iterator[Centre]:
    now = datetime.now(UTC)
    runtime = open_runtime(settings, now=now, schema=schema)
    app = runtime.app
    fill_demo(app, now=now, seed=5, agents=24, days=20, hash_password=quick_hash)
    team_id = team_id_for("Billing Care")
    script_agent = app.enrol_agent(
        handle="scripty",
        name=SCRIPT_NAME,
        team_id=team_id,
        enrolled_at=now - timedelta(days=3),
        enrolled_by="test",
        now=now,
    )
    agent_id = app.user_named("agent").agent_id
    assert agent_id is not None
    app.record(
        RecordRecognition(
            kind=RecognitionKind.INITIATIVE_TAKEN,
            agent_id=agent_id,
            competencies=("teamwork",),
            occurred_at=now - timedelta(minutes=5),
            recorded_by="supervisor",
            description=SCRIPT_NOTE,
        ),
        now=now,
    )
    add_user(app, "norole")
    runtime.projector.catch_up()
    with TestClient(create_app(settings, runtime=runtime)) as client:
        yield Centre(
            client=client, agent_id=agent_id, team_id=team_id, script_agent_id=script_agent
        )


def open_centre(request: Any, tmp_path_factory: Any) -> Iterator[Centre]:
    """For a module-scoped fixture parametrized with "sqlite" and "postgres"."""
    if request.param == "sqlite":
        database = make_sqlite_database(tmp_path_factory.mktemp("pages"))
        settings = Settings(
            database_url=database.database_url,
            read_database_url=database.read_url,
            run_projector=False,
        )
        yield from _open(settings, None)
        return
    require_postgres()
    settings = Settings(
        database_url=POSTGRES_URL, read_database_url=POSTGRES_URL, run_projector=False
    )
    for schema in _postgres_schema():
        yield from _open(settings, schema)
