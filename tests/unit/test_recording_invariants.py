"""The invariants of one recording, checked by the pure ``event_fields_for`` and the
``Recording`` aggregate (no store involved; the store-level tests are in integration)."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.agents import Agent
from domain.application import EVENT_CLASS_FOR_KIND, Callcraft
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.exceptions import (
    AgentDeparted,
    AlreadyRetracted,
    InvalidCompetency,
    InvalidInput,
    InvalidNote,
    InvalidOccurredAt,
    InvalidReason,
    InvalidScore,
    NotPermitted,
    SelfKudos,
)
from domain.facts import RecognitionKind
from domain.recordings import (
    CLOCK_SKEW_ALLOWANCE,
    Recording,
    RecordRecognition,
    event_fields_for,
    fingerprint,
    recognition_fields,
)
from domain.text import NOTE_MAX_LENGTH

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=30)
TEAM = UUID(int=1)


def agent(handle: str = "ann") -> Agent:
    return Agent.enrol(
        handle=handle,
        name=handle.title(),
        team_id=TEAM,
        enrolled_at=ENROLLED,
        enrolled_by="admin",
    )


ANN = agent("ann")
BOB = agent("bob")


def feedback(**changes: Any) -> RecordRecognition:
    command = RecordRecognition(
        kind=RecognitionKind.FEEDBACK_GIVEN,
        agent_id=ANN.id,
        competencies=("communication",),
        occurred_at=NOW - timedelta(hours=1),
        recorded_by="sue",
        rating=4,
    )
    return replace(command, **changes)


def fields_of(command: RecordRecognition, giver: Agent | None = None) -> dict[str, Any]:
    return event_fields_for(command, ANN, NOW, giver)


# --- who and when ---------------------------------------------------------------------------


def test_nothing_is_recorded_for_a_departed_agent() -> None:
    departed = agent("cid")
    departed.depart(departed_at=NOW - timedelta(days=1), recorded_by="admin")
    with pytest.raises(AgentDeparted) as refused:
        event_fields_for(feedback(agent_id=departed.id), departed, NOW)
    assert refused.value.field == "agent"


def test_occurred_at_within_the_clock_skew_allowance_is_accepted() -> None:
    data = fields_of(feedback(occurred_at=NOW + CLOCK_SKEW_ALLOWANCE))
    assert data["occurred_at"] == NOW + CLOCK_SKEW_ALLOWANCE


def test_occurred_at_in_the_future_beyond_the_clock_skew_allowance_is_refused() -> None:
    with pytest.raises(InvalidOccurredAt, match="future") as refused:
        fields_of(feedback(occurred_at=NOW + CLOCK_SKEW_ALLOWANCE + timedelta(seconds=1)))
    assert refused.value.field == "occurred_at"


def test_occurred_at_before_the_agents_enrolment_is_refused() -> None:
    fields_of(feedback(occurred_at=ENROLLED))
    with pytest.raises(InvalidOccurredAt, match="before Ann enrolled"):
        fields_of(feedback(occurred_at=ENROLLED - timedelta(microseconds=1)))


def test_occurred_at_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidOccurredAt, match="time zone"):
        fields_of(feedback(occurred_at=datetime(2025, 3, 10, 11)))


def test_occurred_at_in_any_time_zone_is_stored_in_utc() -> None:
    local = datetime(2025, 3, 10, 7, 30, tzinfo=ZoneInfo("America/New_York"))
    data = fields_of(feedback(occurred_at=local))
    assert data["occurred_at"] == local
    assert data["occurred_at"].utcoffset() == timedelta(0)
    plus_two = datetime(2025, 3, 10, 13, tzinfo=timezone(timedelta(hours=2)))
    assert fields_of(feedback(occurred_at=plus_two))["occurred_at"] == NOW - timedelta(hours=1)


# --- competencies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "competencies", [(), ("",), ("charisma",), ("teamwork", "Teamwork"), ("communication", "x")]
)
def test_competencies_must_be_some_of_the_seven_each_once(competencies: tuple[str, ...]) -> None:
    with pytest.raises(InvalidCompetency) as refused:
        fields_of(feedback(competencies=competencies))
    assert refused.value.field == "competencies"


# --- ratings, scores, notes -----------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_a_rating_from_one_to_five_is_accepted(rating: int) -> None:
    assert fields_of(feedback(rating=rating))["rating"] == rating


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, "4", 4.0, None])
def test_a_rating_outside_one_to_five_or_not_a_whole_number_is_refused(rating: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        fields_of(feedback(rating=rating))
    assert refused.value.field == "rating"


def test_feedback_kind_is_praise_unless_said_otherwise_and_must_be_known() -> None:
    assert fields_of(feedback())["kind"] == "praise"
    assert fields_of(feedback(feedback_kind=" Coaching "))["kind"] == "coaching"
    with pytest.raises(InvalidInput) as refused:
        fields_of(feedback(feedback_kind="scolding"))
    assert refused.value.field == "feedback_kind"
    assert refused.value.message == "feedback_kind must be 'praise' or 'coaching'"
    assert type(fields_of(feedback(feedback_kind="COACHING"))["kind"]) is str
    with pytest.raises(InvalidInput) as not_text:
        fields_of(feedback(feedback_kind=3))  # type: ignore[arg-type]
    assert not_text.value.message == "feedback_kind must be 'praise' or 'coaching'"


def training(**changes: Any) -> RecordRecognition:
    return replace(
        feedback(kind=RecognitionKind.TRAINING_COMPLETED, rating=None, course="De-escalation"),
        **changes,
    )


@pytest.mark.parametrize("score", [0, 1, 99, 100])
def test_a_training_score_from_zero_to_a_hundred_is_accepted(score: int) -> None:
    assert fields_of(training(score=score))["score"] == score


@pytest.mark.parametrize("score", [-1, 101, True, "80", 80.5, None])
def test_a_training_score_outside_zero_to_a_hundred_is_refused(score: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        fields_of(training(score=score))
    assert refused.value.field == "score"
    if score not in (None,):
        assert isinstance(refused.value, InvalidScore)


def test_a_training_needs_a_course() -> None:
    with pytest.raises(InvalidInput) as refused:
        fields_of(training(score=80, course="  "))
    assert refused.value.field == "course"


def test_a_note_at_the_limit_is_accepted_and_one_longer_is_refused() -> None:
    assert fields_of(feedback(note="n" * NOTE_MAX_LENGTH))["note"] == "n" * NOTE_MAX_LENGTH
    with pytest.raises(InvalidNote):
        fields_of(feedback(note="n" * (NOTE_MAX_LENGTH + 1)))


def test_a_note_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidNote, match="control"):
        fields_of(feedback(note="nice\x1b[31m work"))


def test_a_note_that_looks_like_html_is_stored_verbatim_as_text() -> None:
    note = "<img src=x onerror=alert(1)> great &amp; calm"
    assert fields_of(feedback(note=note))["note"] == note


# --- kinds' own fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE, "call_ref"),
        (RecognitionKind.INITIATIVE_TAKEN, "description"),
        (RecognitionKind.KUDOS_GIVEN, "from_agent"),
    ],
)
def test_each_kind_needs_its_own_field(kind: RecognitionKind, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        fields_of(feedback(kind=kind, rating=None))
    assert refused.value.field == field


# --- kudos ----------------------------------------------------------------------------------


def kudos_from(giver: Agent) -> RecordRecognition:
    return feedback(kind=RecognitionKind.KUDOS_GIVEN, rating=None, from_agent=giver.id)


def test_kudos_from_a_colleague_name_the_giver() -> None:
    assert fields_of(kudos_from(BOB), BOB)["from_agent"] == BOB.id


def test_nobody_gives_kudos_to_themselves() -> None:
    with pytest.raises(SelfKudos) as refused:
        fields_of(kudos_from(ANN), ANN)
    assert refused.value.field == "from_agent"


def test_a_departed_colleague_cannot_give_kudos() -> None:
    gone = agent("gus")
    gone.depart(departed_at=NOW - timedelta(days=1), recorded_by="admin")
    with pytest.raises(AgentDeparted) as refused:
        fields_of(kudos_from(gone), gone)
    assert refused.value.field == "from_agent"


def test_kudos_dated_before_the_giver_enrolled_are_refused() -> None:
    newcomer = Agent.enrol(
        handle="dee",
        name="Dee",
        team_id=TEAM,
        enrolled_at=NOW - timedelta(days=1),
        enrolled_by="admin",
    )
    with pytest.raises(InvalidOccurredAt, match="Dee, who gives the kudos"):
        fields_of(replace(kudos_from(newcomer), occurred_at=NOW - timedelta(days=2)), newcomer)


# --- retraction -----------------------------------------------------------------------------


def recording() -> Recording:
    data = fields_of(feedback())
    return Recording._create(Recording.FeedbackGiven, id=UUID(int=99), **data)


def test_the_recorder_can_retract_a_recording_with_a_reason() -> None:
    rec = recording()
    rec.retract(retracted_by="sue", by_admin=False, reason="  wrong agent  ")
    assert rec.retracted
    retraction = rec.collect_events()[-1]
    assert isinstance(retraction, Recording.RecordingRetracted)
    assert (retraction.reason, retraction.retracted_by) == ("wrong agent", "sue")


def test_an_admin_can_retract_somebody_elses_recording() -> None:
    rec = recording()
    rec.retract(retracted_by="root", by_admin=True, reason="duplicate")
    assert rec.retracted


def test_nobody_else_can_retract_a_recording() -> None:
    rec = recording()
    with pytest.raises(NotPermitted):
        rec.retract(retracted_by="tom", by_admin=False, reason="I disagree")
    assert not rec.retracted


@pytest.mark.parametrize("reason", ["", "   ", "r" * 501, "bad\x00"])
def test_a_retraction_needs_a_plain_reason(reason: str) -> None:
    rec = recording()
    with pytest.raises(InvalidReason):
        rec.retract(retracted_by="sue", by_admin=False, reason=reason)
    assert not rec.retracted


def test_a_recording_is_retracted_only_once() -> None:
    rec = recording()
    rec.retract(retracted_by="sue", by_admin=False, reason="oops")
    with pytest.raises(AlreadyRetracted):
        rec.retract(retracted_by="root", by_admin=True, reason="again")
    assert rec.version == 2


# --- properties -----------------------------------------------------------------------------

invalid_ratings = st.one_of(
    st.integers().filter(lambda n: not 1 <= n <= 5),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.none(),
)


@given(invalid_ratings)
def test_any_invalid_rating_is_refused(rating: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        fields_of(feedback(rating=rating))
    assert refused.value.field == "rating"


KNOWN_SPELLINGS = {c.value for c in ALL_COMPETENCIES}


def _is_known(value: str) -> bool:
    return value.strip().lower().replace("-", "_").replace(" ", "_") in KNOWN_SPELLINGS


invalid_competency_sets = st.one_of(
    st.just(()),
    st.lists(st.sampled_from(["", " ", "\t"]), min_size=1, max_size=3),
    st.lists(st.sampled_from(ALL_COMPETENCIES), min_size=1, max_size=3).flatmap(
        lambda cs: st.permutations([c.value for c in [*cs, cs[0]]])
    ),
    st.tuples(
        st.lists(st.sampled_from([c.value for c in ALL_COMPETENCIES]), max_size=3, unique=True),
        st.text(min_size=1, max_size=15).filter(lambda t: bool(t.strip()) and not _is_known(t)),
    ).map(lambda pair: [*pair[0], pair[1]]),
)


@given(invalid_competency_sets)
def test_any_invalid_set_of_competencies_is_refused(competencies: list[str]) -> None:
    with pytest.raises(InvalidCompetency):
        fields_of(feedback(competencies=tuple(competencies)))


@st.composite
def valid_feedback(draw: st.DrawFn) -> RecordRecognition:
    chosen = draw(st.sets(st.sampled_from(ALL_COMPETENCIES), min_size=1))
    return feedback(
        competencies=tuple(c.value for c in chosen),
        occurred_at=draw(
            st.datetimes(
                min_value=datetime(2025, 2, 9),
                max_value=datetime(2025, 3, 10),
                timezones=st.just(UTC),
            )
        ),
        rating=draw(st.integers(1, 5)),
        feedback_kind=draw(st.sampled_from(["praise", "coaching"])),
        note=draw(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)).strip(),
        idempotency_key=draw(st.none() | st.text("abc123-", min_size=1, max_size=10)),
    )


@given(valid_feedback())
@example(feedback(note="\uf900 a compatibility ideograph", rating=4, feedback_kind="praise"))
def test_any_valid_feedback_keeps_its_fields_in_the_event_data(command: RecordRecognition) -> None:
    data = fields_of(command)
    assert data["agent_id"] == ANN.id
    assert set(data["competencies"]) == set(command.competencies)
    assert [Competency(c) for c in data["competencies"]] == [
        c for c in ALL_COMPETENCIES if c.value in command.competencies
    ]
    assert data["occurred_at"] == command.occurred_at
    assert data["rating"] == command.rating
    assert data["kind"] == command.feedback_kind
    # A note is stored NFC-normalised (U+F900 is stored as U+8C48, its canonical form).
    assert data["note"] == unicodedata.normalize("NFC", command.note).strip()
    assert data["idempotency_key"] == command.idempotency_key
    assert data["recorded_by"] == data["given_by"] == "sue"


# --- fingerprints: what makes a repeated submission "the same" ------------------------------

MAPPER = Callcraft(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


plain_text = st.text(
    st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=150
).filter(str.strip)


@st.composite
def commands(draw: st.DrawFn) -> RecordRecognition:
    kind = draw(st.sampled_from(list(RecognitionKind)))
    specific: dict[str, Any] = {
        RecognitionKind.FEEDBACK_GIVEN: {
            "rating": draw(st.integers(1, 5)),
            "feedback_kind": draw(st.sampled_from(["praise", "coaching", " Coaching "])),
        },
        RecognitionKind.TRAINING_COMPLETED: {
            "course": draw(plain_text.filter(lambda t: len(t.strip()) <= 200)),
            "score": draw(st.integers(0, 100)),
        },
        RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE: {"call_ref": "CALL-1"},
        RecognitionKind.INITIATIVE_TAKEN: {"description": draw(plain_text)},
        RecognitionKind.KUDOS_GIVEN: {"from_agent": BOB.id},
    }[kind]
    offset = draw(st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]))
    return RecordRecognition(
        kind=kind,
        agent_id=ANN.id,
        competencies=tuple(
            c.value for c in draw(st.sets(st.sampled_from(ALL_COMPETENCIES), min_size=1))
        ),
        occurred_at=(NOW - timedelta(seconds=draw(st.integers(0, 10**6)))).astimezone(offset),
        recorded_by="sue",
        note=draw(st.sampled_from(["", "Calm", "  Calm  "])),
        idempotency_key="form-1",
        **specific,
    )


def stored_and_loaded(command: RecordRecognition) -> Recording.Recognised:
    data = recognition_fields(command, NOW)
    event = EVENT_CLASS_FOR_KIND[command.kind](
        originator_id=UUID(int=7),
        originator_version=1,
        originator_topic="domain.recordings:Recording",
        timestamp=NOW,
        **data,
    )
    loaded = MAPPER.to_domain_event(MAPPER.to_stored_event(event))
    assert isinstance(loaded, Recording.Recognised)
    return loaded


@given(commands())
def test_a_stored_recording_has_the_fingerprint_of_the_command_that_made_it(
    command: RecordRecognition,
) -> None:
    expected = fingerprint(command.kind, recognition_fields(command, NOW))
    assert stored_and_loaded(command).fingerprint == expected


@given(commands(), commands())
def test_two_commands_share_a_fingerprint_only_when_they_record_the_same(
    first: RecordRecognition, second: RecordRecognition
) -> None:
    same = recognition_fields(first, NOW) == recognition_fields(second, NOW) and (
        first.kind is second.kind
    )
    first_print = fingerprint(first.kind, recognition_fields(first, NOW))
    second_print = fingerprint(second.kind, recognition_fields(second, NOW))
    assert (first_print == second_print) == same
