"""Property: any valid command's fields arrive unchanged in the event the store hands back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import Callcraft
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.exceptions import KudosCapReached
from domain.facts import RecognitionKind
from domain.recordings import Recording, RecordRecognition
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=60)

plain_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60
).filter(lambda t: t == t.strip() and bool(t))
one_line = plain_text.filter(lambda t: not any(ch.isspace() and ch != " " for ch in t))


@pytest.fixture
def scene(database: Database) -> Iterator[tuple[Callcraft, UUID, UUID]]:
    app = Callcraft(env=database.event_env())
    try:
        team = app.form_team(name="Blue", formed_by="admin")
        ann, bob = (
            app.enrol_agent(
                handle=h,
                name=h.title(),
                team_id=team,
                enrolled_at=ENROLLED,
                enrolled_by="admin",
                now=NOW,
            )
            for h in ("ann", "bob")
        )
        yield app, ann, bob
    finally:
        app.close()


@st.composite
def commands(draw: st.DrawFn, ann: UUID, bob: UUID) -> RecordRecognition:
    kind = draw(st.sampled_from(RecognitionKind))
    chosen = draw(st.sets(st.sampled_from(ALL_COMPETENCIES), min_size=1))
    own: dict[str, Any] = {}
    if kind is RecognitionKind.FEEDBACK_GIVEN:
        own = {
            "rating": draw(st.integers(1, 5)),
            "feedback_kind": draw(st.sampled_from(["praise", "coaching"])),
            "given_by": draw(st.none() | one_line),
        }
    elif kind is RecognitionKind.TRAINING_COMPLETED:
        own = {"course": draw(one_line), "score": draw(st.integers(0, 100))}
    elif kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE:
        own = {"call_ref": draw(one_line)}
    elif kind is RecognitionKind.INITIATIVE_TAKEN:
        own = {"description": draw(plain_text)}
    else:
        own = {"from_agent": bob}
    return RecordRecognition(
        kind=kind,
        agent_id=ann,
        competencies=tuple(c.value for c in chosen),
        # kudos are capped per day: give each its own day
        occurred_at=NOW
        - timedelta(days=draw(st.integers(0, 59)), minutes=draw(st.integers(0, 600))),
        recorded_by=draw(one_line),
        note=draw(st.just("") | plain_text),
        idempotency_key=None,
        **own,
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(data=st.data())
def test_any_valid_command_round_trips_its_fields_into_the_stored_event(
    scene: tuple[Callcraft, UUID, UUID], data: st.DataObject
) -> None:
    app, ann, bob = scene
    command = data.draw(commands(ann, bob))
    try:
        outcome = app.record(command, now=NOW)
    except KudosCapReached:  # a day drawn again for kudos may be full already
        return
    [event] = app.events.get(outcome.recording_id)
    assert isinstance(event, Recording.Recognised)
    assert type(event).recognition_kind is command.kind
    assert event.agent_id == ann
    assert [Competency(c) for c in event.competencies] == [
        c for c in ALL_COMPETENCIES if c.value in command.competencies
    ]
    assert event.occurred_at == command.occurred_at
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.recorded_by == command.recorded_by
    assert event.note == command.note
    assert event.idempotency_key is None
    expected: dict[str, Any] = {}
    if command.kind is RecognitionKind.FEEDBACK_GIVEN:
        expected = {
            "rating": command.rating,
            "kind": command.feedback_kind,
            "given_by": command.given_by or command.recorded_by,
        }
    elif command.kind is RecognitionKind.TRAINING_COMPLETED:
        expected = {"course": command.course, "score": command.score}
    elif command.kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE:
        expected = {"call_ref": command.call_ref}
    elif command.kind is RecognitionKind.INITIATIVE_TAKEN:
        expected = {"description": command.description}
    else:
        expected = {"from_agent": bob}
    assert {name: getattr(event, name) for name in expected} == expected
