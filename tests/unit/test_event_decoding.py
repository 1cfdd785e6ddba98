"""The projections' fast event decoder decodes every stored event exactly as the library does."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from types import NoneType, UnionType
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from hypothesis import given
from hypothesis import strategies as st

from domain.accounts import User
from domain.agents import Agent
from domain.application import Callcraft
from domain.kudos import KudosAllowance
from domain.organisation import Team
from domain.publications import RulebookPublication
from domain.recordings import Recording
from domain.tokens import ApiToken
from projections.decoding import EventDecoder
from projections.event_log import _plain, data_json, event_data

AGGREGATES = (Agent, Recording, Team, User, KudosAllowance, RulebookPublication, ApiToken)


def _event_classes() -> list[type[DomainEvent]]:
    found: dict[str, type[DomainEvent]] = {}
    for aggregate in AGGREGATES:
        for name in dir(aggregate):
            value = getattr(aggregate, name)
            if (
                isinstance(value, type)
                and issubclass(value, DomainEvent)
                and value.__module__ == aggregate.__module__
            ):
                found[f"{value.__module__}:{value.__qualname__}"] = value
    return [found[topic] for topic in sorted(found)]


EVENT_CLASSES = _event_classes()

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
moments = st.datetimes(timezones=st.sampled_from([None, UTC, ZoneInfo("Asia/Tokyo")]))
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
# Dicts that look like a transcoded value, at any depth: the library decodes them bottom-up.
lookalikes = st.builds(
    lambda name, data: {"_type_": name, "_data_": data},
    st.sampled_from(["uuid_hex", "datetime_iso", "date_iso", "decimal_str"]),
    st.sampled_from(
        [
            *("0" * 32, "0x" + "f" * 30, "g" * 32, "F" * 32, "{" + "a" * 30 + "}", "a" * 31),
            *("2024-01-01", "2024-01-01T08:00:00+00:00", "1.5"),
        ]
    ),
)
json_values = st.recursive(
    json_scalars | lookalikes,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(texts, inner, max_size=3)
        | st.builds(lambda name, data: {"_type_": name, "_data_": data}, texts, inner)
    ),
    max_leaves=10,
)


def _values_for(annotation: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType):
        return st.one_of(*(_values_for(a) for a in typing.get_args(annotation)))
    if origin in (list, tuple, set, frozenset):
        (item,) = typing.get_args(annotation)[:1]
        return st.lists(_values_for(item), max_size=3)
    if origin is dict or annotation is dict:
        return st.dictionaries(texts, json_values, max_size=4)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        UUID: st.uuids(),
        datetime: moments,
        date: st.dates(),
        str: texts,
        int: st.integers(),
        bool: st.booleans(),
        float: st.floats(allow_nan=False),
        Decimal: st.decimals(allow_nan=False, allow_infinity=False),
        NoneType: st.none(),
        None: st.none(),
    }
    return simple.get(annotation, json_values)


@st.composite
def stored_events(
    draw: st.DrawFn, mapper: Mapper[UUID], classes: list[type[DomainEvent]] = EVENT_CLASSES
) -> StoredEvent:
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
    stored = mapper.to_stored_event(event)
    if cls is Recording.FeedbackGiven and draw(st.booleans()):
        stored = _as_version_1(mapper.transcoder, stored)
    return stored


def _as_version_1(transcoder: Transcoder, stored: StoredEvent) -> StoredEvent:
    """A FeedbackGiven as version 1 stored it: no ``kind``, no ``class_version``."""
    state = transcoder.decode(stored.state)
    del state["kind"], state["class_version"]
    return dataclasses.replace(stored, state=transcoder.encode(state))


MAPPER = Callcraft(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def test_every_event_class_of_the_domain_is_generated() -> None:
    assert Recording.FeedbackGiven in EVENT_CLASSES
    assert Agent.AgentEnrolled in EVENT_CLASSES
    assert len(EVENT_CLASSES) >= 20


@given(stored=stored_events(MAPPER))
def test_the_fast_decoder_gives_the_same_event_as_the_library(stored: StoredEvent) -> None:
    _same(stored)


def _same(stored: StoredEvent) -> None:
    """Both decoders give the same event, or fail with the same error."""
    decoder = EventDecoder(MAPPER)
    assert decoder.fast
    try:
        theirs = MAPPER.to_domain_event(stored)
    except Exception as error:  # the same error must come out of both
        with pytest.raises(type(error)):
            decoder.decode(stored)
        return
    ours = decoder.decode(stored)
    assert type(ours) is type(theirs)
    assert vars(ours) == vars(theirs)
    assert [type(v) for v in vars(ours).values()] == [type(v) for v in vars(theirs).values()]


@given(stored=stored_events(MAPPER, [Recording.FeedbackGiven]))
def test_feedback_of_either_version_decodes_as_the_library_upcasts_it(
    stored: StoredEvent,
) -> None:
    _same(stored)


@given(stored=stored_events(MAPPER, [RulebookPublication.RulebookPublished]))
def test_nested_data_that_looks_transcoded_decodes_bottom_up_like_the_library(
    stored: StoredEvent,
) -> None:
    _same(stored)


def test_a_version_1_feedback_is_upcast_to_praise() -> None:
    event = MAPPER.to_domain_event(_feedback_v1())
    decoded = EventDecoder(MAPPER).decode(_feedback_v1())
    assert decoded.kind == "praise"
    assert vars(decoded) == vars(event)


def _feedback_v1() -> StoredEvent:
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2024-01-01T08:00:00+00:00"},
        "originator_topic": "domain.recordings:Recording",
        "agent_id": {"_type_": "uuid_hex", "_data_": "1" * 32},
        "competencies": ["communication"],
        "occurred_at": {"_type_": "datetime_iso", "_data_": "2024-01-01T07:00:00+00:00"},
        "recorded_by": "sup",
        "note": "",
        "idempotency_key": None,
        "rating": 4,
        "given_by": "sup",
    }
    return StoredEvent(
        originator_id=UUID("2" * 32),
        originator_version=1,
        topic="domain.recordings:Recording.FeedbackGiven",
        state=MAPPER.transcoder.encode(state),
    )


@pytest.mark.parametrize(
    "state",
    [b'{"timestamp": 1e400}', b'{"note": "\\ud800"}', b'{"x": {"_type_": "nope", "_data_": 1}}'],
)
def test_json_the_fast_path_refuses_is_left_to_the_library(state: bytes) -> None:
    stored = StoredEvent(UUID("2" * 32), 1, "domain.organisation:Team.TeamFormed", state)
    decoder = EventDecoder(MAPPER)
    try:
        theirs: Any = vars(MAPPER.to_domain_event(stored))
    except Exception as error:  # the same error must come out of both
        with pytest.raises(type(error)):
            decoder.decode(stored)
        return
    assert vars(decoder.decode(stored)) == theirs


@given(stored=stored_events(MAPPER))
def test_the_event_logs_data_is_what_json_dumps_writes(stored: StoredEvent) -> None:
    try:
        event = MAPPER.to_domain_event(stored)
    except Exception:  # not an event the log could hold
        return
    expected = json.dumps(event_data(event), ensure_ascii=False, default=_plain)
    assert data_json(event) == expected
