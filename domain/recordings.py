"""A recording: one recognition of an agent, and perhaps its retraction.

Each recording is an aggregate of its own (a stream of one or two events), so recording
never slows down as an agent's history grows, and a client's idempotency key can be the
recording's id: a second submission of the same key collides in the event store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from domain.agents import Agent
from domain.competencies import canonical_names
from domain.exceptions import (
    AgentDeparted,
    AlreadyRetracted,
    InvalidInput,
    InvalidNote,
    InvalidOccurredAt,
    InvalidRating,
    InvalidReason,
    InvalidScore,
    NotPermitted,
    SelfKudos,
)
from domain.facts import FeedbackKind, RecognitionKind
from domain.text import NOTE_MAX_LENGTH, REASON_MAX_LENGTH, clean_line, clean_text

CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
IDEMPOTENCY_KEY_MAX_LENGTH = 200
SHORT_TEXT_MAX_LENGTH = 200
# Looked up once: an enum's ``.value`` and ``FeedbackKind(text)`` are Python-level calls, and
# these are asked for every recording of an import.
_PRAISE = FeedbackKind.PRAISE.value
_FEEDBACK_KINDS: dict[str, str] = {k.value: k.value for k in FeedbackKind}
_KIND_VALUES: dict[RecognitionKind, str] = {k: k.value for k in RecognitionKind}


@dataclass(frozen=True)
class RecordRecognition:
    """A command to record one recognition; every field as a client may send it."""

    kind: RecognitionKind
    agent_id: UUID
    competencies: tuple[str, ...]
    occurred_at: datetime
    recorded_by: str
    note: str = ""
    idempotency_key: str | None = None
    rating: int | None = None
    feedback_kind: str | None = None
    given_by: str | None = None
    course: str | None = None
    score: int | None = None
    call_ref: str | None = None
    description: str | None = None
    from_agent: UUID | None = None


def _require(value: Any, field: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{field} is required for this kind of recognition", field=field)
    return value


def _short(value: str | None, field: str) -> str:
    return clean_line(_require(value, field), field=field, max_length=SHORT_TEXT_MAX_LENGTH)


def _integer(value: Any, field: str, low: int, high: int, error: type[InvalidInput]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{field} must be a whole number from {low} to {high}", field=field)
    if not low <= value <= high:
        raise error(f"{field} must be from {low} to {high}, not {value}", field=field)
    return value


def validate_moment(moment: Any, now: datetime, *, field: str) -> datetime:
    """A time zone-aware moment, not in the future (beyond the clock-skew allowance) and not
    before the earliest moment Callcraft accepts."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")  # a programming error, not input
    if not isinstance(moment, datetime):
        raise InvalidOccurredAt(f"{field} must be a date and time", field=field)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidOccurredAt(f"{field} must include a time zone offset", field=field)
    if moment > now + CLOCK_SKEW_ALLOWANCE:
        raise InvalidOccurredAt(f"{field} is in the future", field=field)
    if moment < EARLIEST_MOMENT:
        raise InvalidOccurredAt(
            f"{field} is before {EARLIEST_MOMENT.date().isoformat()}, the earliest date accepted",
            field=field,
        )
    return moment


def validate_occurred_at(occurred_at: datetime, agent: Agent, now: datetime) -> None:
    validate_moment(occurred_at, now, field="occurred_at")
    validate_enrolled_by(occurred_at, agent)


def validate_enrolled_by(occurred_at: datetime, agent: Agent) -> None:
    if occurred_at < agent.enrolled_at:
        raise InvalidOccurredAt(
            f"occurred_at is before {agent.name} enrolled ({agent.enrolled_at.isoformat()})"
        )


def validate_giver(giver: Agent, occurred_at: datetime) -> None:
    """The colleague who gives kudos must be present, and enrolled when they gave them."""
    try:
        giver.ensure_present()
    except AgentDeparted as error:
        raise AgentDeparted(error.message, field="from_agent") from None
    if occurred_at < giver.enrolled_at:
        raise InvalidOccurredAt(
            f"occurred_at is before {giver.name}, who gives the kudos, enrolled "
            f"({giver.enrolled_at.isoformat()})"
        )


def recognition_fields(command: RecordRecognition, now: datetime) -> dict[str, Any]:
    """Check everything about a recording that needs no stored state; return the event's
    data, or raise. ``agent_id`` and ``from_agent`` are the command's, not yet looked up."""
    validate_moment(command.occurred_at, now, field="occurred_at")
    competencies = canonical_names(command.competencies)
    note = command.note or ""
    if note:
        note = clean_text(
            note, field="note", max_length=NOTE_MAX_LENGTH, error=InvalidNote, required=False
        )
    key = command.idempotency_key
    if key is not None:
        key = clean_text(
            key, field="idempotency_key", max_length=IDEMPOTENCY_KEY_MAX_LENGTH, multiline=False
        )
    data: dict[str, Any] = {
        "agent_id": command.agent_id,
        "competencies": list(competencies),
        "occurred_at": command.occurred_at.astimezone(UTC),
        "recorded_by": command.recorded_by,
        "note": note,
        "idempotency_key": key,
    }
    kind = command.kind
    if kind is RecognitionKind.FEEDBACK_GIVEN:
        data["rating"] = _integer(_require(command.rating, "rating"), "rating", 1, 5, InvalidRating)
        raw_kind = command.feedback_kind or _PRAISE
        if not isinstance(raw_kind, str):
            raise InvalidInput(
                "feedback_kind must be 'praise' or 'coaching'", field="feedback_kind"
            )
        raw_kind = raw_kind.strip().lower()
        feedback_kind = _FEEDBACK_KINDS.get(raw_kind)
        if feedback_kind is None:
            raise InvalidInput(
                "feedback_kind must be 'praise' or 'coaching'", field="feedback_kind"
            )
        # In the event's own field order (see ``recognised_event``).
        data["given_by"] = _short(command.given_by or command.recorded_by, "given_by")
        data["kind"] = feedback_kind
    elif kind is RecognitionKind.TRAINING_COMPLETED:
        data["course"] = _short(command.course, "course")
        data["score"] = _integer(_require(command.score, "score"), "score", 0, 100, InvalidScore)
    elif kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE:
        data["call_ref"] = _short(command.call_ref, "call_ref")
    elif kind is RecognitionKind.INITIATIVE_TAKEN:
        data["description"] = clean_text(
            _require(command.description, "description"),
            field="description",
            max_length=NOTE_MAX_LENGTH,
        )
    elif kind is RecognitionKind.KUDOS_GIVEN:
        if command.from_agent is None:
            raise InvalidInput("kudos need the colleague who gives them", field="from_agent")
        if command.from_agent == command.agent_id:
            raise SelfKudos("nobody can give kudos to themselves")
        data["from_agent"] = command.from_agent
    else:  # pragma: no cover - the enum is closed
        raise InvalidInput(f"unknown recognition kind {kind!r}", field="type")
    return data


def validate_agents(command: RecordRecognition, agent: Agent, giver: Agent | None) -> None:
    """Check what a recording needs of the agents' state: present, enrolled by then."""
    agent.ensure_present()
    validate_enrolled_by(command.occurred_at, agent)
    if command.kind is RecognitionKind.KUDOS_GIVEN:
        if giver is None:
            raise InvalidInput("kudos need the colleague who gives them", field="from_agent")
        validate_giver(giver, command.occurred_at)


def event_fields_for(
    command: RecordRecognition, agent: Agent, now: datetime, giver: Agent | None = None
) -> dict[str, Any]:
    """Check every invariant of a recording; return the event's data, or raise.

    Pure: the agent (and, for kudos, the giver) are the state read by the caller.
    """
    agent.ensure_present()
    data = recognition_fields(command, now)
    validate_agents(command, agent, giver)
    return data


Fingerprint = tuple[Any, ...]


def fingerprint(kind: RecognitionKind, data: Mapping[str, Any]) -> Fingerprint:
    """What makes two submissions 'the same' for an idempotency key: the kind and every
    field's value (compared as values, so a stored event and a new command compare equal
    when they say the same thing). Hashable; never stored."""
    names, values_of = _in_name_order(tuple(data))
    values = values_of(data)
    return (
        _KIND_VALUES[kind],
        names,
        *[tuple(v) if isinstance(v, list) else v for v in values],
    )


@lru_cache(maxsize=64)  # one entry per event type's fields (and per shape a test makes)
def _in_name_order(
    keys: tuple[str, ...],
) -> tuple[tuple[str, ...], Callable[[Mapping[str, Any]], tuple[Any, ...]]]:
    """The field names sorted, and what takes their values in that order (in C): sorting
    the names and looking each value up in Python cost as much as the rest of a decision."""
    names = tuple(sorted(keys))
    if len(names) == 1:  # ``itemgetter`` of one name gives the value, not a tuple
        return names, lambda data: (data[names[0]],)
    return names, itemgetter(*names)


@cache
def _field_order(event_class: type[Aggregate.Created]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(event_class))


def recognised_event(
    event_class: type[Recording.Recognised],
    recording_id: UUID,
    timestamp: datetime,
    data: Mapping[str, Any],
) -> Recording.Recognised:
    """``event_class(originator_id=recording_id, ..., **data)``: the same event, attributes
    in the same order, but set at once rather than by the frozen dataclass's one
    ``object.__setattr__`` a field (a third of the cost of deciding a row of an import). When
    ``data`` does not name the event's fields in their order, the constructor makes it."""
    state: dict[str, Any] = {
        "originator_id": recording_id,
        "originator_version": Recording.INITIAL_VERSION,
        "timestamp": timestamp,
        "originator_topic": RECORDING_TOPIC,
    }
    state.update(data)
    if tuple(state) != _field_order(event_class):
        return event_class(**state)
    event = object.__new__(event_class)
    object.__setattr__(event, "__dict__", state)
    event.__post_init__()  # the library's own check of the originator id
    return event


@cache
def _data_fields(event_class: type[Aggregate.Created]) -> tuple[str, ...]:
    base = {f.name for f in fields(Aggregate.Created)}
    return tuple(f.name for f in fields(event_class) if f.name not in base)


class Recording(Aggregate):
    class Recognised(Aggregate.Created):
        """The fields every recognition carries."""

        agent_id: UUID
        competencies: list[str]
        occurred_at: datetime
        recorded_by: str
        note: str
        idempotency_key: str | None

        recognition_kind: ClassVar[RecognitionKind]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Recording)
            aggregate.agent_id = self.agent_id
            aggregate.kind = type(self).recognition_kind.value
            aggregate.recorded_by = self.recorded_by
            aggregate.recognised = self
            aggregate.retracted = False

        @property
        def fingerprint(self) -> Fingerprint:
            return fingerprint(type(self).recognition_kind, self.recognition_data())

        def recognition_data(self) -> dict[str, Any]:
            return {name: getattr(self, name) for name in _data_fields(type(self))}

    class FeedbackGiven(Recognised):
        """Version 2 added ``kind`` (praise or coaching); version 1 events were all praise."""

        recognition_kind: ClassVar[RecognitionKind] = RecognitionKind.FEEDBACK_GIVEN
        class_version = 2
        rating: int
        given_by: str
        kind: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["kind"] = FeedbackKind.PRAISE.value

    class TrainingCompleted(Recognised):
        recognition_kind: ClassVar[RecognitionKind] = RecognitionKind.TRAINING_COMPLETED
        course: str
        score: int

    class ToughCallHandledWithGrace(Recognised):
        recognition_kind: ClassVar[RecognitionKind] = RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE
        call_ref: str

    class InitiativeTaken(Recognised):
        recognition_kind: ClassVar[RecognitionKind] = RecognitionKind.INITIATIVE_TAKEN
        description: str

    class KudosGiven(Recognised):
        recognition_kind: ClassVar[RecognitionKind] = RecognitionKind.KUDOS_GIVEN
        from_agent: UUID

    class RecordingRetracted(Aggregate.Event):
        reason: str
        retracted_by: str

    def __init__(self) -> None:
        self.agent_id: UUID
        self.kind: str
        self.recorded_by: str
        self.recognised: Recording.Recognised
        self.retracted: bool

    @property
    def fingerprint(self) -> Fingerprint:
        return self.recognised.fingerprint

    def retract(self, *, retracted_by: str, by_admin: bool, reason: str) -> None:
        if self.retracted:
            raise AlreadyRetracted("this recording has already been retracted")
        if retracted_by != self.recorded_by and not by_admin:
            raise NotPermitted("only the person who recorded it, or an admin, can retract it")
        cleaned = clean_text(
            reason, field="reason", max_length=REASON_MAX_LENGTH, error=InvalidReason
        )
        self._retract(reason=cleaned, retracted_by=retracted_by)

    @event(RecordingRetracted)
    def _retract(self, reason: str, retracted_by: str) -> None:
        self.retracted = True


RECORDING_TOPIC = get_topic(Recording)
