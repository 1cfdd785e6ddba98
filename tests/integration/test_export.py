"""Exporting the history: JSON Lines in log order, every field, secrets redacted."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.exporter import REDACTED, export_history
from domain.accounts import Role
from domain.application import Callcraft
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from tests.conftest import Database

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    app = Callcraft(env=database.event_env())
    app.ensure_default_rulebook(now=NOW)
    team = app.form_team(name="Billing Care", formed_by="admin")
    user = app.register_user(
        username="sam", display_name="Sam", password_hash="$argon2id$secret", registered_by="admin"
    )
    app.grant_role(user_id=user, role=Role.SUPERVISOR, granted_by="admin")
    app.change_password(user_id=user, password_hash="$argon2id$other", changed_by="sam")
    ana = app.enrol_agent(
        handle="ana",
        name="Ana Silva",
        team_id=team,
        enrolled_at=NOW - timedelta(days=9),
        enrolled_by="admin",
        now=NOW,
    )
    outcome = app.record(
        RecordRecognition(
            kind=RecognitionKind.FEEDBACK_GIVEN,
            agent_id=ana,
            competencies=("communication",),
            occurred_at=NOW - timedelta(days=1),
            recorded_by="sam",
            note="Kind and clear",
            rating=5,
            idempotency_key="k-1",
        ),
        now=NOW,
    )
    app.retract(
        recording_id=outcome.recording_id, retracted_by="sam", by_admin=False, reason="wrong agent"
    )
    yield app
    app.close()


def exported(app: Callcraft, page_size: int = 1000) -> list[dict[str, Any]]:
    out = io.StringIO()
    count = export_history(app, out, page_size=page_size)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == count
    return lines


def test_every_event_is_exported_once_in_log_order(app: Callcraft) -> None:
    lines = exported(app, page_size=2)
    ids = [line["id"] for line in lines]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert ids[-1] == app.recorder.max_notification_id()
    assert [line["type"] for line in lines] == [
        "RulebookPublished",
        "TeamFormed",
        "UserRegistered",
        "RoleGranted",
        "PasswordChanged",
        "AgentEnrolled",
        "FeedbackGiven",
        "RecordingRetracted",
    ]


def test_paging_does_not_change_the_export(app: Callcraft) -> None:
    assert exported(app, page_size=1) == exported(app, page_size=1000)


def test_each_line_carries_the_envelope_and_the_events_own_fields(app: Callcraft) -> None:
    feedback = next(line for line in exported(app) if line["type"] == "FeedbackGiven")
    assert set(feedback) == {
        "id",
        "type",
        "originator_id",
        "originator_version",
        "timestamp",
        "topic",
        "data",
    }
    assert feedback["originator_version"] == 1
    assert feedback["topic"].endswith("Recording.FeedbackGiven")
    assert datetime.fromisoformat(feedback["timestamp"]).tzinfo is not None
    data = feedback["data"]
    assert data["rating"] == 5
    assert data["kind"] == "praise"
    assert data["competencies"] == ["communication"]
    assert data["occurred_at"] == (NOW - timedelta(days=1)).isoformat()
    assert data["idempotency_key"] == "k-1"
    assert isinstance(data["agent_id"], str)
    retraction = next(line for line in exported(app) if line["type"] == "RecordingRetracted")
    assert retraction["originator_id"] == feedback["originator_id"]
    assert retraction["originator_version"] == 2
    assert retraction["data"] == {"reason": "wrong agent", "retracted_by": "sam"}


def test_password_hashes_are_redacted(app: Callcraft) -> None:
    lines = exported(app)
    hashed = [line["data"]["password_hash"] for line in lines if "password_hash" in line["data"]]
    assert hashed == [REDACTED, REDACTED]
    assert "argon2id" not in json.dumps(lines)


def test_the_rulebook_is_exported_as_data(app: Callcraft) -> None:
    rulebook = exported(app)[0]
    assert rulebook["data"]["version"] == 1
    assert rulebook["data"]["rules"]["xp"]["FeedbackGiven"] > 0
