"""Recording through the service layer, on both databases: each invariant refuses the
command with its domain exception and leaves the log exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.application import Callcraft
from domain.exceptions import (
    AgentDeparted,
    AlreadyRetracted,
    DomainError,
    IdempotencyKeyReused,
    InvalidCompetency,
    InvalidInput,
    InvalidNote,
    InvalidOccurredAt,
    InvalidRating,
    InvalidReason,
    InvalidScore,
    KudosCapReached,
    NotPermitted,
    SelfKudos,
    UnknownAgent,
    UnknownRecording,
)
from domain.facts import RecognitionKind
from domain.recordings import CLOCK_SKEW_ALLOWANCE, Recording, RecordRecognition
from domain.rulebook import load_default_rulebook, rulebook_to_data
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=60)
CAP = load_default_rulebook().kudos_cap_per_giver_per_day


@dataclass
class Centre:
    app: Callcraft
    team: UUID
    ann: UUID
    bob: UUID
    cid: UUID

    def enrol(self, handle: str) -> UUID:
        return self.app.enrol_agent(
            handle=handle,
            name=handle.title(),
            team_id=self.team,
            enrolled_at=ENROLLED,
            enrolled_by="admin",
            now=NOW,
        )

    @property
    def log_position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    @contextmanager
    def nothing_recorded(self) -> Iterator[None]:
        before = self.log_position
        yield
        assert self.log_position == before, "a refused command changed the log"


def make_centre(database: Database, **options: Any) -> Iterator[Centre]:
    app = Callcraft(env=database.event_env(), **options)
    try:
        app.ensure_default_rulebook(now=NOW)
        team = app.form_team(name="Blue", formed_by="admin")
        centre = Centre(app=app, team=team, ann=UUID(int=0), bob=UUID(int=0), cid=UUID(int=0))
        centre.ann, centre.bob, centre.cid = (centre.enrol(h) for h in ("ann", "bob", "cid"))
        yield centre
    finally:
        app.close()


@pytest.fixture
def centre(database: Database) -> Iterator[Centre]:
    yield from make_centre(database)


def feedback(centre: Centre, **changes: Any) -> RecordRecognition:
    command = RecordRecognition(
        kind=RecognitionKind.FEEDBACK_GIVEN,
        agent_id=centre.ann,
        competencies=("communication", "customer service"),
        occurred_at=NOW - timedelta(hours=2),
        recorded_by="sue",
        rating=5,
        note="Calm with an angry caller",
    )
    return replace(command, **changes)


def kudos(centre: Centre, *, giver: UUID | None = None, **changes: Any) -> RecordRecognition:
    fields: dict[str, Any] = {"recorded_by": "bob", **changes}
    return feedback(
        centre,
        kind=RecognitionKind.KUDOS_GIVEN,
        rating=None,
        from_agent=centre.bob if giver is None else giver,
        **fields,
    )


def stored_events(app: Callcraft, originator_id: UUID) -> list[Any]:
    return list(app.events.get(originator_id))


def refused(centre: Centre, command: RecordRecognition, error: type[DomainError]) -> DomainError:
    with centre.nothing_recorded(), pytest.raises(error) as caught:
        centre.app.record(command, now=NOW)
    return caught.value


# --- a recording is stored --------------------------------------------------------------------


def test_a_valid_recording_is_stored_as_one_event_in_its_own_stream(centre: Centre) -> None:
    before = centre.log_position
    outcome = centre.app.record(feedback(centre), now=NOW)
    assert outcome.created
    assert centre.log_position > before
    [event] = stored_events(centre.app, outcome.recording_id)
    assert isinstance(event, Recording.FeedbackGiven)
    assert (event.agent_id, event.rating, event.kind, event.recorded_by) == (
        centre.ann,
        5,
        "praise",
        "sue",
    )
    assert event.competencies == ["communication", "customer_service"]
    record = centre.app.recording(outcome.recording_id)
    assert (record.agent_id, record.kind, record.retracted) == (
        centre.ann,
        RecognitionKind.FEEDBACK_GIVEN,
        False,
    )


def test_every_kind_of_recognition_can_be_recorded(centre: Centre) -> None:
    commands = [
        feedback(centre, feedback_kind="coaching", rating=2),
        feedback(
            centre,
            kind=RecognitionKind.TRAINING_COMPLETED,
            rating=None,
            course="Active listening",
            score=88,
        ),
        feedback(
            centre,
            kind=RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE,
            rating=None,
            call_ref="CALL-123",
        ),
        feedback(
            centre,
            kind=RecognitionKind.INITIATIVE_TAKEN,
            rating=None,
            description="Rewrote the refund script",
        ),
        kudos(centre),
    ]
    outcomes = centre.app.record_many(commands, now=NOW)
    kinds = [centre.app.recording(o.recording_id).kind for o in outcomes]
    assert kinds == [c.kind for c in commands]


# --- who and when ------------------------------------------------------------------------------


def test_nothing_is_recorded_for_an_unknown_agent(centre: Centre) -> None:
    error = refused(centre, feedback(centre, agent_id=uuid4()), UnknownAgent)
    assert error.field == "agent"


def test_nothing_is_recorded_for_an_id_that_is_not_an_agent(centre: Centre) -> None:
    refused(centre, feedback(centre, agent_id=centre.team), UnknownAgent)


def test_nothing_is_recorded_for_a_departed_agent(centre: Centre) -> None:
    centre.app.depart_agent(
        now=NOW, agent_id=centre.ann, departed_at=NOW - timedelta(days=1), recorded_by="admin"
    )
    refused(centre, feedback(centre), AgentDeparted)


def test_on_the_librarys_own_recorder_a_departure_is_seen_by_the_next_recording(
    database: Database,
) -> None:
    """The library's recorders cannot check what a recording was decided on inside the
    append, so a recording there is never decided on what the process remembers."""
    env = database.event_env()
    env.pop("APPLICATION_RECORDER_TOPIC")
    app = Callcraft(env=env)
    try:
        assert not hasattr(app.recorder, "insert_events_unless_changed")
        app.ensure_default_rulebook(now=NOW)
        team = app.form_team(name="Blue", formed_by="admin")
        centre = Centre(app=app, team=team, ann=UUID(int=0), bob=UUID(int=0), cid=UUID(int=0))
        centre.ann, centre.bob, centre.cid = (centre.enrol(h) for h in ("ann", "bob", "cid"))
        assert app.record(feedback(centre), now=NOW).created  # ann is now remembered
        app.depart_agent(
            now=NOW, agent_id=centre.ann, departed_at=NOW - timedelta(days=1), recorded_by="admin"
        )
        refused(centre, feedback(centre, note="after she left"), AgentDeparted)
    finally:
        app.close()


def test_occurred_at_beyond_the_clock_skew_allowance_is_refused(centre: Centre) -> None:
    late = NOW + CLOCK_SKEW_ALLOWANCE + timedelta(seconds=1)
    refused(centre, feedback(centre, occurred_at=late), InvalidOccurredAt)
    assert centre.app.record(
        feedback(centre, occurred_at=NOW + CLOCK_SKEW_ALLOWANCE), now=NOW
    ).created


def test_occurred_at_before_enrolment_is_refused(centre: Centre) -> None:
    refused(
        centre, feedback(centre, occurred_at=ENROLLED - timedelta(seconds=1)), InvalidOccurredAt
    )


def test_occurred_at_without_a_time_zone_is_refused(centre: Centre) -> None:
    refused(centre, feedback(centre, occurred_at=datetime(2025, 3, 10, 9)), InvalidOccurredAt)


# --- the recognition's own data -----------------------------------------------------------------


@pytest.mark.parametrize("competencies", [(), ("charisma",), ("teamwork", "Teamwork")])
def test_competencies_outside_the_seven_or_repeated_are_refused(
    centre: Centre, competencies: tuple[str, ...]
) -> None:
    refused(centre, feedback(centre, competencies=competencies), InvalidCompetency)


@pytest.mark.parametrize("rating", [0, 6, True, "5"])
def test_a_rating_outside_one_to_five_is_refused(centre: Centre, rating: object) -> None:
    refused(centre, feedback(centre, rating=rating), InvalidRating)


@pytest.mark.parametrize("score", [-1, 101])
def test_a_training_score_outside_zero_to_a_hundred_is_refused(centre: Centre, score: int) -> None:
    command = feedback(
        centre,
        kind=RecognitionKind.TRAINING_COMPLETED,
        rating=None,
        course="Product basics",
        score=score,
    )
    refused(centre, command, InvalidScore)


@pytest.mark.parametrize("note", ["x" * 501, "tab\x00stop"])
def test_a_note_too_long_or_with_control_characters_is_refused(centre: Centre, note: str) -> None:
    refused(centre, feedback(centre, note=note), InvalidNote)


def test_a_note_that_looks_like_html_is_stored_verbatim(centre: Centre) -> None:
    note = '<script>alert("x")</script> &lt;3'
    outcome = centre.app.record(feedback(centre, note=note), now=NOW)
    [event] = stored_events(centre.app, outcome.recording_id)
    assert event.note == note


def test_a_command_without_a_recorder_is_refused(centre: Centre) -> None:
    error = refused(centre, feedback(centre, recorded_by=""), InvalidInput)
    assert error.field == "recorded_by"


# --- kudos ------------------------------------------------------------------------------------


def test_nobody_gives_kudos_to_themselves(centre: Centre) -> None:
    refused(centre, kudos(centre, giver=centre.ann), SelfKudos)


def test_kudos_from_an_unknown_colleague_are_refused_naming_the_giver(centre: Centre) -> None:
    error = refused(centre, kudos(centre, giver=uuid4()), UnknownAgent)
    assert error.field == "from_agent"


def test_kudos_from_a_departed_colleague_are_refused(centre: Centre) -> None:
    centre.app.depart_agent(
        now=NOW, agent_id=centre.bob, departed_at=NOW - timedelta(days=1), recorded_by="admin"
    )
    error = refused(centre, kudos(centre), AgentDeparted)
    assert error.field == "from_agent"


def test_kudos_before_the_givers_enrolment_are_refused(centre: Centre) -> None:
    newcomer = centre.app.enrol_agent(
        handle="dee",
        name="Dee",
        team_id=centre.team,
        enrolled_at=NOW - timedelta(days=1),
        enrolled_by="admin",
        now=NOW,
    )
    error = refused(
        centre,
        kudos(centre, giver=newcomer, occurred_at=NOW - timedelta(days=2)),
        InvalidOccurredAt,
    )
    assert "Dee" in error.message


def test_a_giver_gives_at_most_the_rulebooks_cap_of_kudos_a_day(centre: Centre) -> None:
    for n in range(CAP):
        receiver = centre.ann if n % 2 == 0 else centre.cid
        centre.app.record(kudos(centre, agent_id=receiver), now=NOW)
    error = refused(centre, kudos(centre, agent_id=centre.cid), KudosCapReached)
    assert error.field == "from_agent"
    # another giver is not affected
    assert centre.app.record(kudos(centre, giver=centre.cid), now=NOW).created


def test_the_kudos_cap_resets_on_a_new_day(centre: Centre) -> None:
    yesterday = NOW - timedelta(days=1)
    for _ in range(CAP):
        centre.app.record(kudos(centre, occurred_at=yesterday), now=NOW)
    refused(centre, kudos(centre, occurred_at=yesterday + timedelta(hours=1)), KudosCapReached)
    assert centre.app.record(kudos(centre), now=NOW).created


def test_kudos_days_are_days_in_the_applications_time_zone(database: Database) -> None:
    new_york = ZoneInfo("America/New_York")
    late_evening = datetime(2025, 3, 10, 3, tzinfo=UTC)  # 9 March, 23:00 in New York
    next_morning = datetime(2025, 3, 10, 5, tzinfo=UTC)  # 10 March, 01:00 in New York
    for centre in make_centre(database, timezone=new_york):
        for _ in range(CAP):
            centre.app.record(kudos(centre, occurred_at=late_evening), now=NOW)
        assert centre.app.record(kudos(centre, occurred_at=next_morning), now=NOW).created


def test_kudos_days_in_utc_put_the_same_moments_on_one_day(centre: Centre) -> None:
    late_evening = datetime(2025, 3, 10, 3, tzinfo=UTC)
    next_morning = datetime(2025, 3, 10, 5, tzinfo=UTC)
    for _ in range(CAP):
        centre.app.record(kudos(centre, occurred_at=late_evening), now=NOW)
    refused(centre, kudos(centre, occurred_at=next_morning), KudosCapReached)


def test_the_kudos_cap_is_the_one_of_the_rulebook_in_force(centre: Centre) -> None:
    stricter = rulebook_to_data(load_default_rulebook())
    stricter["version"] = 2
    stricter["kudos"] = {"cap_per_giver_per_day": 1}
    centre.app.publish_rulebook(
        stricter, effective_from=NOW - timedelta(minutes=1), published_by="admin", now=NOW
    )
    centre.app.record(kudos(centre, occurred_at=NOW), now=NOW)
    refused(centre, kudos(centre, occurred_at=NOW), KudosCapReached)
    # earlier the same day, the first rulebook's cap applied
    assert centre.app.record(kudos(centre, occurred_at=NOW - timedelta(hours=3)), now=NOW).created


def test_a_retracted_kudos_still_counts_towards_the_days_cap(centre: Centre) -> None:
    outcomes = [centre.app.record(kudos(centre), now=NOW) for _ in range(CAP)]
    centre.app.retract(
        recording_id=outcomes[0].recording_id,
        retracted_by="bob",
        by_admin=False,
        reason="meant Cid",
    )
    refused(centre, kudos(centre), KudosCapReached)


# --- idempotency ------------------------------------------------------------------------------


def test_a_repeated_submission_with_the_same_key_is_recorded_once(centre: Centre) -> None:
    command = feedback(centre, idempotency_key="form-42")
    first = centre.app.record(command, now=NOW)
    with centre.nothing_recorded():
        second = centre.app.record(command, now=NOW + timedelta(minutes=3))
    assert first.created
    assert not second.created
    assert second.recording_id == first.recording_id


def test_a_retry_after_the_agent_departed_returns_the_original_recording(
    centre: Centre,
) -> None:
    command = feedback(centre, idempotency_key="form-43")
    first = centre.app.record(command, now=NOW)
    centre.app.depart_agent(now=NOW, agent_id=centre.ann, departed_at=NOW, recorded_by="admin")
    with centre.nothing_recorded():
        retry = centre.app.record(command, now=NOW + timedelta(minutes=1))
    assert retry == replace(first, created=False)
    refused(centre, feedback(centre, idempotency_key="form-44"), AgentDeparted)


def test_the_same_key_with_a_different_body_is_refused(centre: Centre) -> None:
    centre.app.record(feedback(centre, idempotency_key="form-42"), now=NOW)
    error = refused(
        centre, feedback(centre, idempotency_key="form-42", rating=4), IdempotencyKeyReused
    )
    assert error.field == "idempotency_key"
    refused(
        centre, kudos(centre, idempotency_key="form-42", recorded_by="sue"), IdempotencyKeyReused
    )


def test_the_same_key_from_two_recorders_records_twice(centre: Centre) -> None:
    first = centre.app.record(feedback(centre, idempotency_key="k"), now=NOW)
    second = centre.app.record(feedback(centre, idempotency_key="k", recorded_by="tom"), now=NOW)
    assert second.created
    assert second.recording_id != first.recording_id


def test_a_repeated_kudos_submission_does_not_use_up_the_cap(centre: Centre) -> None:
    command = kudos(centre, idempotency_key="thanks-1")
    for _ in range(CAP + 2):
        centre.app.record(command, now=NOW)
    for _ in range(CAP - 1):
        assert centre.app.record(kudos(centre), now=NOW).created


# --- batches ----------------------------------------------------------------------------------


def test_a_batch_with_one_bad_item_records_nothing_and_names_the_item(centre: Centre) -> None:
    commands = [feedback(centre, note=f"item {n}") for n in range(5)]
    commands[3] = replace(commands[3], rating=9)
    with centre.nothing_recorded(), pytest.raises(InvalidRating) as caught:
        centre.app.record_many(commands, now=NOW)
    assert caught.value.field == "items[3].rating"
    assert caught.value.message.startswith("item 4:")


def test_a_batch_with_an_unknown_agent_names_the_item(centre: Centre) -> None:
    commands = [feedback(centre), feedback(centre, agent_id=uuid4())]
    with centre.nothing_recorded(), pytest.raises(UnknownAgent) as caught:
        centre.app.record_many(commands, now=NOW)
    assert caught.value.field == "items[1].agent"


def test_a_batch_that_exceeds_the_kudos_cap_records_nothing(centre: Centre) -> None:
    commands = [kudos(centre) for _ in range(CAP + 1)]
    with centre.nothing_recorded(), pytest.raises(KudosCapReached) as caught:
        centre.app.record_many(commands, now=NOW)
    assert caught.value.field == f"items[{CAP}].from_agent"


def test_a_batch_repeating_a_key_records_it_once(centre: Centre) -> None:
    command = feedback(centre, idempotency_key="dup")
    first, second = centre.app.record_many([command, command], now=NOW)
    assert (first.created, second.created) == (True, False)
    assert first.recording_id == second.recording_id
    with pytest.raises(IdempotencyKeyReused) as caught:
        centre.app.record_many(
            [
                feedback(centre, idempotency_key="x"),
                feedback(centre, idempotency_key="x", rating=1),
            ],
            now=NOW,
        )
    assert caught.value.field == "items[1].idempotency_key"


def test_a_batch_of_good_items_records_them_all(centre: Centre) -> None:
    commands = [feedback(centre, note=f"item {n}") for n in range(10)]
    outcomes = centre.app.record_many(commands, now=NOW)
    assert all(o.created for o in outcomes)
    assert len({o.recording_id for o in outcomes}) == 10


def test_an_empty_batch_records_nothing_and_an_oversized_one_is_refused(centre: Centre) -> None:
    with centre.nothing_recorded():
        assert centre.app.record_many([], now=NOW) == []
        with pytest.raises(InvalidInput) as caught:
            centre.app.record_many([feedback(centre)] * 1001, now=NOW)
    assert caught.value.field == "items"


# --- retraction -------------------------------------------------------------------------------


def test_the_recorder_retracts_a_recording_with_a_reason(centre: Centre) -> None:
    outcome = centre.app.record(feedback(centre), now=NOW)
    centre.app.retract(
        recording_id=outcome.recording_id,
        retracted_by="sue",
        by_admin=False,
        reason="recorded for the wrong agent",
    )
    assert centre.app.recording(outcome.recording_id).retracted
    _, retraction = stored_events(centre.app, outcome.recording_id)
    assert isinstance(retraction, Recording.RecordingRetracted)
    assert retraction.reason == "recorded for the wrong agent"


def test_an_admin_retracts_anybodys_recording(centre: Centre) -> None:
    outcome = centre.app.record(feedback(centre), now=NOW)
    centre.app.retract(
        recording_id=outcome.recording_id, retracted_by="root", by_admin=True, reason="duplicate"
    )
    assert centre.app.recording(outcome.recording_id).retracted


def retract_refused(centre: Centre, error: type[DomainError], **arguments: Any) -> None:
    with centre.nothing_recorded(), pytest.raises(error):
        centre.app.retract(**arguments)


def test_only_an_existing_recording_can_be_retracted(centre: Centre) -> None:
    retract_refused(
        centre,
        UnknownRecording,
        recording_id=uuid4(),
        retracted_by="sue",
        by_admin=True,
        reason="x",
    )
    retract_refused(
        centre,
        UnknownRecording,
        recording_id=centre.ann,
        retracted_by="sue",
        by_admin=True,
        reason="an agent is not a recording",
    )


def test_a_recording_is_retracted_at_most_once(centre: Centre) -> None:
    outcome = centre.app.record(feedback(centre), now=NOW)
    centre.app.retract(
        recording_id=outcome.recording_id, retracted_by="sue", by_admin=False, reason="oops"
    )
    retract_refused(
        centre,
        AlreadyRetracted,
        recording_id=outcome.recording_id,
        retracted_by="sue",
        by_admin=False,
        reason="again",
    )


def test_only_the_recorder_or_an_admin_may_retract(centre: Centre) -> None:
    outcome = centre.app.record(feedback(centre), now=NOW)
    retract_refused(
        centre,
        NotPermitted,
        recording_id=outcome.recording_id,
        retracted_by="tom",
        by_admin=False,
        reason="I disagree",
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_retraction_needs_a_reason(centre: Centre, reason: str) -> None:
    outcome = centre.app.record(feedback(centre), now=NOW)
    retract_refused(
        centre,
        InvalidReason,
        recording_id=outcome.recording_id,
        retracted_by="sue",
        by_admin=False,
        reason=reason,
    )
