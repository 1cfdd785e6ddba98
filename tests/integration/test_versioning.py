"""Stored events are versioned: FeedbackGiven v1 (before ``kind`` existed) still loads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import Callcraft
from domain.facts import RecognitionKind
from domain.identity import recording_id_for
from domain.recordings import Recording, RecordRecognition
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
TOPIC_V1 = "domain.recordings:Recording.FeedbackGiven"


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    application = Callcraft(env=database.event_env())
    try:
        yield application
    finally:
        application.close()


def enrol_ann(app: Callcraft) -> UUID:
    team = app.form_team(name="Blue", formed_by="admin")
    return app.enrol_agent(
        handle="ann",
        name="Ann",
        team_id=team,
        enrolled_at=NOW - timedelta(days=400),
        enrolled_by="admin",
        now=NOW,
    )


def v1_feedback_bytes(agent_id: UUID, *, key: str) -> bytes:
    """FeedbackGiven as the library stored it before ``kind`` was added: the JSON transcoder's
    format, no ``kind`` key and no ``class_version`` key (version 1 writes none)."""
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2024-11-04T09:15:00.123456+00:00"},
        "originator_topic": "domain.recordings:Recording",
        "agent_id": {"_type_": "uuid_hex", "_data_": agent_id.hex},
        "competencies": ["communication", "teamwork"],
        "occurred_at": {"_type_": "datetime_iso", "_data_": "2024-11-04T08:30:00+00:00"},
        "recorded_by": "sue",
        "note": "Stayed calm",
        "idempotency_key": key,
        "rating": 4,
        "given_by": "sue",
    }
    return json.dumps(state, separators=(",", ":")).encode()


def insert_v1_feedback(app: Callcraft, agent_id: UUID, key: str = "legacy-1") -> UUID:
    recording_id = recording_id_for("sue", key)
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=recording_id,
                originator_version=1,
                topic=TOPIC_V1,
                state=v1_feedback_bytes(agent_id, key=key),
            ),
        ]
    )
    return recording_id


def test_a_version_one_feedback_loads_through_the_upcaster_as_praise(app: Callcraft) -> None:
    ann = enrol_ann(app)
    recording_id = insert_v1_feedback(app, ann)
    [event] = app.events.get(recording_id)
    assert isinstance(event, Recording.FeedbackGiven)
    assert event.kind == "praise"
    assert (event.rating, event.given_by, event.agent_id) == (4, "sue", ann)
    assert event.competencies == ["communication", "teamwork"]
    assert event.occurred_at == datetime(2024, 11, 4, 8, 30, tzinfo=UTC)
    record = app.recording(recording_id)
    assert (record.kind, record.agent_id, record.retracted) == (
        RecognitionKind.FEEDBACK_GIVEN,
        ann,
        False,
    )


def test_the_version_one_notification_reads_back_with_the_upcast_kind(app: Callcraft) -> None:
    ann = enrol_ann(app)
    insert_v1_feedback(app, ann)
    [notification] = [n for n in app.recorder.select_notifications(1, 100) if n.topic == TOPIC_V1]
    assert b'"kind"' not in notification.state
    event = app.mapper.to_domain_event(notification)
    assert isinstance(event, Recording.FeedbackGiven)
    assert event.kind == "praise"


def test_a_version_one_recording_can_be_retracted_and_still_loads(app: Callcraft) -> None:
    ann = enrol_ann(app)
    recording_id = insert_v1_feedback(app, ann)
    app.retract(recording_id=recording_id, retracted_by="sue", by_admin=False, reason="oops")
    assert app.recording(recording_id).retracted


def test_resubmitting_a_version_one_recording_by_its_key_records_nothing_new(
    app: Callcraft,
) -> None:
    ann = enrol_ann(app)
    recording_id = insert_v1_feedback(app, ann, key="legacy-7")
    same = RecordRecognition(
        kind=RecognitionKind.FEEDBACK_GIVEN,
        agent_id=ann,
        competencies=("teamwork", "communication"),
        occurred_at=datetime(2024, 11, 4, 8, 30, tzinfo=UTC),
        recorded_by="sue",
        note="Stayed calm",
        idempotency_key="legacy-7",
        rating=4,
    )
    before = app.recorder.max_notification_id()
    outcome = app.record(same, now=NOW)
    assert (outcome.recording_id, outcome.created) == (recording_id, False)
    assert app.recorder.max_notification_id() == before


def test_new_feedback_is_stored_as_version_two_with_its_kind(app: Callcraft) -> None:
    ann = enrol_ann(app)
    outcome = app.record(
        RecordRecognition(
            kind=RecognitionKind.FEEDBACK_GIVEN,
            agent_id=ann,
            competencies=("leadership",),
            occurred_at=NOW,
            recorded_by="sue",
            rating=2,
            feedback_kind="coaching",
        ),
        now=NOW,
    )
    [stored] = app.recorder.select_events(outcome.recording_id)
    state = json.loads(stored.state)
    assert (state["class_version"], state["kind"]) == (2, "coaching")
    [event] = app.events.get(outcome.recording_id)
    assert event.kind == "coaching"
