"""The demo centre: reproducible from its seed, believable, and only for an empty store."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api.demo import DEMO_PASSWORDS, StoreNotEmpty, fill_demo, store_is_empty
from api.exporter import export_history
from domain.accounts import Role
from domain.application import Callcraft
from domain.identity import user_id_for
from projections.asof import leaderboard_as_of, moment_at
from projections.projector import Projector
from projections.queries import leaderboard, list_agents, list_teams
from tests.conftest import Database, make_sqlite_database

NOW = datetime(2026, 6, 17, 15, 30, tzinfo=UTC)  # a Wednesday afternoon


def fast_hash(password: str) -> str:
    return f"test-hash:{password}"


def fill(app: Callcraft, seed: int = 7, agents: int = 12, days: int = 30) -> None:
    fill_demo(app, now=NOW, seed=seed, agents=agents, days=days, hash_password=fast_hash)


def history(app: Callcraft, *, keep_stamps: bool = False) -> list[dict[str, Any]]:
    """The export without what the store itself stamps (ids, timestamps)."""
    out = io.StringIO()
    export_history(app, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    if keep_stamps:
        return lines
    return [{k: v for k, v in line.items() if k not in {"id", "timestamp"}} for line in lines]


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    app = Callcraft(env=database.event_env())
    yield app
    app.close()


def test_the_same_seed_gives_the_same_history(app: Callcraft, tmp_path_factory: Any) -> None:
    fill(app)
    twin = Callcraft(env=make_sqlite_database(tmp_path_factory.mktemp("twin")).event_env())
    fill(twin)
    assert history(app) == history(twin)
    twin.close()


def test_another_seed_gives_another_history(tmp_path_factory: Any) -> None:
    one = Callcraft(env=make_sqlite_database(tmp_path_factory.mktemp("one")).event_env())
    other = Callcraft(env=make_sqlite_database(tmp_path_factory.mktemp("other")).event_env())
    fill(one, seed=1)
    fill(other, seed=2)
    assert history(one) != history(other)


def test_the_demo_refuses_a_store_that_holds_events(app: Callcraft) -> None:
    fill(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(StoreNotEmpty):
        fill(app)
    assert app.recorder.max_notification_id() == before


def test_a_store_holding_only_the_rulebook_counts_as_empty(app: Callcraft) -> None:
    app.ensure_default_rulebook(now=NOW)
    assert store_is_empty(app)
    app.form_team(name="Anyone", formed_by="admin")
    assert not store_is_empty(app)


def test_there_is_an_account_to_sign_in_as_for_every_role(app: Callcraft) -> None:
    fill(app)
    for username, role in [
        ("agent", Role.AGENT),
        ("supervisor", Role.SUPERVISOR),
        ("auditor", Role.AUDITOR),
        ("admin", Role.ADMIN),
    ]:
        user = app.user(user_id_for(username))
        assert role in user.roles
        assert user.password_hash == fast_hash(DEMO_PASSWORDS[username])
    assert app.user(user_id_for("agent")).agent_id is not None
    assigned = [
        UUID(line["data"]["user_id"])
        for line in history(app)
        if line["type"] == "SupervisorAssigned"
    ]
    assert user_id_for("supervisor") in assigned, "the supervisor account leads a team"


def test_the_history_has_believable_rhythms_and_every_kind_of_event(app: Callcraft) -> None:
    fill(app, agents=30, days=60)
    lines = history(app)
    kinds = Counter(line["type"] for line in lines)
    for kind in (
        "FeedbackGiven",
        "TrainingCompleted",
        "ToughCallHandledWithGrace",
        "InitiativeTaken",
        "KudosGiven",
        "RecordingRetracted",
        "AgentTransferred",
        "AgentDeparted",
        "TeamFormed",
        "SupervisorAssigned",
        "RoleGranted",
    ):
        assert kinds[kind] > 0, kind
    assert kinds["AgentEnrolled"] == 30
    assert kinds["AgentDeparted"] == 1

    days = Counter(
        date.fromisoformat(line["data"]["occurred_at"][:10]).isoweekday()
        for line in lines
        if "occurred_at" in line["data"]
    )
    assert min(days[d] for d in range(1, 6)) > 3 * max(days[6], days[7])

    feedback = [line["data"] for line in lines if line["type"] == "FeedbackGiven"]
    assert any(f["kind"] == "coaching" and f["rating"] <= 2 for f in feedback)
    assert any(f["kind"] == "praise" and f["rating"] == 5 for f in feedback)

    given = Counter(
        (line["data"]["from_agent"], line["data"]["occurred_at"][:10])
        for line in lines
        if line["type"] == "KudosGiven"
    )
    assert max(given.values()) <= 3

    received = Counter(line["data"]["agent_id"] for line in lines if "occurred_at" in line["data"])
    assert max(received.values()) > 4 * min(received.values()), "stars and quiet agents"


def test_the_read_models_catch_up_with_the_demo(app: Callcraft, database: Database) -> None:
    fill(app)
    engine = database.read_engine()
    projector = Projector(app, engine, timezone=UTC)
    projector.catch_up()
    assert projector.position() == app.recorder.max_notification_id()
    assert len(list_agents(engine)) == 11  # one of the twelve departed
    assert len(list_teams(engine)) == 2
    board = leaderboard(engine, today=NOW.date(), window="all", limit=50)
    assert board.total == 11
    assert board.rows[0].xp > board.rows[-1].xp > 0
    engine.dispose()


def test_the_demo_stamps_each_event_when_it_would_have_been_recorded_so_the_past_can_be_seen(
    app: Callcraft, database: Database
) -> None:
    fill(app, days=30)
    stamps = [line["timestamp"] for line in history(app, keep_stamps=True)]
    assert stamps == sorted(stamps), "the log's stamps follow its order"
    first, last = datetime.fromisoformat(stamps[0]), datetime.fromisoformat(stamps[-1])
    assert first.date() == date(2026, 5, 18)  # thirty days before NOW, in the morning
    assert last <= NOW
    engine = database.read_engine()
    Projector(app, engine, timezone=UTC).catch_up()
    fortnight_ago = moment_at(engine, NOW - timedelta(days=14), UTC, now=datetime.now(UTC))
    then = leaderboard_as_of(engine, fortnight_ago, limit=50)
    today = leaderboard(engine, today=NOW.date(), limit=50)
    assert sum(row.xp for row in then.rows) < sum(row.xp for row in today.rows)
