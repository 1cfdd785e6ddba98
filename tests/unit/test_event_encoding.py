"""The import's fast event encoder stores every event byte for byte as the library's mapper."""

from __future__ import annotations

import dataclasses
import typing
import zlib
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid5

import pytest
from eventsourcing.application import Application
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Cipher, JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import Environment
from hypothesis import assume, given
from hypothesis import strategies as st

from api.event_encoding import EncodingMapper, EventEncoder, encoder_for
from api.store import ENCODING_MAPPER, event_store_env
from domain.application import EVENT_CLASS_FOR_KIND, Callcraft
from domain.competencies import Competency
from domain.exceptions import DomainError, KudosCapReached
from domain.facts import RecognitionKind
from domain.identity import NAMESPACE, name_based_id
from domain.kudos import KudosAllowance
from domain.organisation import Team
from domain.recordings import (
    RECORDING_TOPIC,
    Recording,
    RecordRecognition,
    recognised_event,
    recognition_fields,
)
from tests.unit.test_event_decoding import EVENT_CLASSES, _values_for


class Color(Enum):
    RED = "red"


MAPPER = Callcraft(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


@st.composite
def domain_events(draw: st.DrawFn, classes: list[type[DomainEvent]] = EVENT_CLASSES) -> Any:
    """An event of any of the domain's classes, every field of the type it is declared with
    (and, now and then, a value of another type, which the encoder must also get right)."""
    cls = draw(st.sampled_from(classes))
    hints = typing.get_type_hints(cls)
    state: dict[str, Any] = {
        "originator_id": draw(st.uuids()),
        "originator_version": draw(st.integers(1, 10_000)),
    }
    for field in dataclasses.fields(cls):
        if field.name not in state:
            state[field.name] = draw(_values_for(hints.get(field.name, Any)))
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


def _same(mapper: Mapper[UUID], event: Any) -> None:
    """Both give the same stored event, or fail with the same error; and the row an import
    stages is that stored event in the recorders' terms (the id as hex text)."""
    encoder = EventEncoder(mapper)
    try:
        theirs = mapper.to_stored_event(event)
    except Exception as error:  # the same error must come out of both
        with pytest.raises(type(error)):
            encoder.encode(event)
        with pytest.raises(type(error)):
            encoder.encode_row(event)
        return
    ours = encoder.encode(event)
    assert ours == theirs
    assert type(ours.originator_id) is type(theirs.originator_id)
    assert encoder.encode_row(event) == (
        theirs.originator_id.hex,
        theirs.originator_version,
        theirs.topic,
        theirs.state,
    )


def test_the_fast_path_is_taken_with_the_default_settings() -> None:
    assert EventEncoder(MAPPER).fast


@given(event=domain_events())
def test_every_event_is_stored_as_the_library_stores_it(event: Any) -> None:
    _same(MAPPER, event)


@given(
    event=domain_events([Recording.FeedbackGiven, Team.TeamFormed]),
    value=st.one_of(
        st.floats(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.text(),  # lone surrogates too: both refuse them
        st.decimals(allow_nan=False),
        st.tuples(st.integers(), st.text()),
        st.dictionaries(st.integers() | st.text(), st.integers(), max_size=2),
        st.sampled_from([Recording.FeedbackGiven, Color.RED, True]),
    ),
)
def test_values_of_other_types_are_stored_as_the_library_stores_them(
    event: Any, value: object
) -> None:
    vars(event)["note"] = value
    _same(MAPPER, event)


class _NoMapper:
    def to_stored_event(self, event: Any) -> StoredEvent:
        raise AssertionError("the fast path fell back to the library's mapper")


@given(event=domain_events([c for c in EVENT_CLASSES if c.__module__ == Recording.__module__]))
def test_recognitions_take_the_fast_path(event: Any) -> None:
    theirs = MAPPER.to_stored_event(event)
    encoder = EventEncoder(MAPPER)
    encoder.mapper = _NoMapper()  # type: ignore[assignment]
    assert encoder.encode(event) == theirs
    assert encoder.encode_row(event)[3] == theirs.state


def test_a_real_recognition_is_stored_as_the_library_stores_it() -> None:
    fields: dict[str, Any] = {
        "originator_id": UUID(int=1),
        "originator_version": 1,
        "originator_topic": "domain.recordings:Recording",
        "timestamp": Recording.KudosGiven.create_timestamp(),
        "agent_id": UUID(int=2),
        "competencies": ["teamwork"],
        "occurred_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "recorded_by": "sam",
        "note": 'Merci "Ana" —\tbien joué\n',
        "idempotency_key": "k-1",
        "from_agent": UUID(int=3),
    }
    event = Recording.KudosGiven(**fields)
    _same(MAPPER, event)


class ReversingCipher(Cipher):
    """Any cipher will do: the encoder must leave it to the library's mapper."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment

    def encrypt(self, plaintext: bytes) -> bytes:
        return plaintext[::-1]

    def decrypt(self, ciphertext: bytes) -> bytes:
        return ciphertext[::-1]


def _other_settings() -> list[Mapper[UUID]]:
    class SortedTranscoder(JSONTranscoder):
        def __init__(self) -> None:
            super().__init__()
            self.encoder.sort_keys = True

    sorted_keys = SortedTranscoder()
    for transcoding in MAPPER.transcoder.types.values():  # type: ignore[attr-defined]
        sorted_keys.register(transcoding)
    return [
        Mapper(MAPPER.transcoder, compressor=ZlibCompressor()),
        Mapper(MAPPER.transcoder, cipher=ReversingCipher(Environment())),
        Mapper(sorted_keys),
    ]


@pytest.mark.parametrize("mapper", _other_settings())
def test_other_settings_are_left_to_the_library(mapper: Mapper[UUID]) -> None:
    encoder = EventEncoder(mapper)
    assert not encoder.fast
    fields: dict[str, Any] = {
        "originator_id": UUID(int=1),
        "originator_version": 1,
        "originator_topic": "domain.organisation:Team",
        "timestamp": datetime(2026, 1, 2, tzinfo=UTC),
        "name": "Billing",
        "formed_by": "admin",
    }
    event = Team.TeamFormed(**fields)
    ours = encoder.encode(event)
    assert mapper.to_domain_event(ours).__dict__ == event.__dict__
    if mapper.compressor is not None:
        assert zlib.decompress(ours.state) == MAPPER.to_stored_event(event).state


ENCODING = Callcraft(env={"PERSISTENCE_MODULE": "eventsourcing.popo", **ENCODING_MAPPER}).mapper


def test_the_store_gives_callcraft_alone_the_encoding_mapper() -> None:
    env = event_store_env("sqlite:///:memory:")
    assert isinstance(ENCODING, EncodingMapper)
    assert EventEncoder(ENCODING).fast
    app = Callcraft(env=env)
    other = Application[UUID](env=env)  # another application on the same settings
    try:
        assert type(app.mapper) is EncodingMapper
        assert type(other.mapper) is Mapper
    finally:
        app.close()
        other.close()


def test_an_import_encodes_with_the_applications_own_encoder_when_it_has_one() -> None:
    assert isinstance(ENCODING, EncodingMapper)
    assert encoder_for(ENCODING) is ENCODING.encoder
    made = encoder_for(MAPPER)  # the library's mapper: an encoder made for it
    assert made.mapper is MAPPER
    assert made.fast


@given(event=domain_events())
def test_the_encoding_mapper_stores_every_event_as_the_library_stores_it(event: Any) -> None:
    assert ENCODING.to_stored_event(event) == Mapper.to_stored_event(ENCODING, event)


@given(event=domain_events([Recording.FeedbackGiven, Team.TeamFormed]))
def test_the_encoding_mapper_leaves_other_values_to_the_library(event: Any) -> None:
    vars(event)["note"] = 1.5  # a float: not the fast path's to spell
    assert ENCODING.to_stored_event(event) == MAPPER.to_stored_event(event)


@given(name=st.text())
def test_name_based_ids_are_the_standard_version_5_uuids(name: str) -> None:
    try:
        expected = uuid5(NAMESPACE, name)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            name_based_id(name)
        return
    made = name_based_id(name)
    assert made == expected
    assert made.version == 5
    assert (type(made), made.is_safe, hash(made), str(made)) == (
        UUID,
        expected.is_safe,
        hash(expected),
        str(expected),
    )


def test_a_decimal_keeps_its_transcoding() -> None:
    event = object.__new__(Team.TeamFormed)
    object.__setattr__(
        event,
        "__dict__",
        {"originator_id": UUID(int=1), "originator_version": 1, "amount": Decimal("1.50")},
    )
    _same(MAPPER, event)
    assert b'"decimal_str"' in EventEncoder(MAPPER).encode(event).state
    assert isinstance(EventEncoder(MAPPER).encode(event), StoredEvent)


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@st.composite
def commands(draw: st.DrawFn) -> RecordRecognition:
    kind = draw(st.sampled_from(list(RecognitionKind)))
    short = st.from_regex(r"[\w.'-][\w .,'\"\\/-]{0,20}", fullmatch=True)
    return RecordRecognition(
        kind=kind,
        agent_id=draw(st.uuids()),
        competencies=tuple(draw(st.lists(st.sampled_from(list(Competency)), min_size=1))),
        occurred_at=draw(
            st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 5, 31)).map(
                lambda moment: moment.replace(tzinfo=UTC)
            )
        ),
        recorded_by=draw(short),
        note=draw(
            st.just("") | short | st.from_regex(r"[\w ]{1,10}\n[\w \t]{0,10}", fullmatch=True)
        ),
        idempotency_key=draw(st.none() | short),
        rating=draw(st.integers(1, 5)),
        feedback_kind=draw(st.none() | st.sampled_from(["praise", "Coaching "])),
        given_by=draw(st.none() | short),
        course=draw(short),
        score=draw(st.integers(0, 100)),
        call_ref=draw(short),
        description=draw(short),
        from_agent=draw(st.uuids()),
    )


@given(command=commands(), recording_id=st.uuids())
def test_a_recognised_event_is_the_one_its_constructor_makes(
    command: RecordRecognition, recording_id: UUID
) -> None:
    try:
        data = recognition_fields(command, NOW)
    except DomainError:
        assume(False)
        return
    event_class = EVENT_CLASS_FOR_KIND[command.kind]
    timestamp = event_class.create_timestamp()
    ours = recognised_event(event_class, recording_id, timestamp, data)
    theirs = event_class(
        originator_id=recording_id,
        originator_version=Recording.INITIAL_VERSION,
        originator_topic=RECORDING_TOPIC,
        timestamp=timestamp,
        **data,
    )
    assert type(ours) is type(theirs)
    assert list(vars(ours).items()) == list(vars(theirs).items())
    assert EventEncoder(MAPPER).encode(ours) == MAPPER.to_stored_event(theirs)
    with pytest.raises(FrozenInstanceError):
        ours.note = "changed"


def test_a_recognised_event_checks_its_originator_id_as_the_library_does() -> None:
    data = recognition_fields(
        RecordRecognition(
            kind=RecognitionKind.INITIATIVE_TAKEN,
            agent_id=UUID(int=1),
            competencies=("leadership",),
            occurred_at=NOW,
            recorded_by="sam",
            description="Wrote a guide",
        ),
        NOW,
    )
    with pytest.raises(TypeError, match="non-UUID"):
        recognised_event(Recording.InitiativeTaken, "not-a-uuid", NOW, data)  # type: ignore[arg-type]


@given(
    giver=st.uuids(),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    recording_id=st.uuids(),
    later=st.uuids(),
)
def test_an_opened_allowance_is_the_one_the_library_constructs(
    giver: UUID, day: date, recording_id: UUID, later: UUID
) -> None:
    """``KudosAllowance.open`` sets its aggregate and event at once: the same attributes in
    the same order, the same stored event, and it goes on being used the same way."""
    ours = KudosAllowance.open(giver=giver, day=day, recording_id=recording_id, cap=2)
    theirs = KudosAllowance(giver=giver, day=day, first_recording_id=recording_id)
    (ours_opened,) = ours.pending_events
    (their_opened,) = theirs.pending_events
    assert type(ours_opened) is type(their_opened)
    timestamp = ours_opened.timestamp
    assert ours.created_on == ours.modified_on == timestamp
    same_moment = {"timestamp": timestamp}
    assert list(vars(ours_opened)) == list(vars(their_opened))
    assert vars(ours_opened) == vars(their_opened) | same_moment
    assert MAPPER.to_stored_event(ours_opened) == MAPPER.to_stored_event(
        type(their_opened)(**(vars(their_opened) | same_moment))
    )
    moments = {"_created_on": timestamp, "_modified_on": timestamp}
    assert list(vars(ours)) == list(vars(theirs))
    assert {**vars(ours), "_pending_events": None} == {
        **vars(theirs),
        **moments,
        "_pending_events": None,
    }
    for allowance in (ours, theirs):
        allowance.use(recording_id=later, cap=2)
        assert allowance.used == 2
        assert allowance.version == 2
        assert [e.originator_version for e in allowance.collect_events()] == [1, 2]
    with pytest.raises(KudosCapReached):
        ours.use(recording_id=later, cap=2)
    # Opened anew from its stored event, as the store will give it back.
    restored = MAPPER.to_domain_event(MAPPER.to_stored_event(ours_opened)).mutate(None)
    assert {**vars(restored), "_pending_events": None} == {**vars(ours), "_version": 1} | {
        "used": 1,
        "_modified_on": timestamp,
        "_pending_events": None,
    }
