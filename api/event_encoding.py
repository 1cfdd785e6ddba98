"""Domain events to stored events, faster than the library's mapper and byte for byte like it.

The library's mapper stores an event as ``vars(event)`` without the originator id and version
(plus ``class_version`` when above 1), through its ``JSONTranscoder``: the standard ``json``
encoder, compact separators, ``ensure_ascii=False``, with a ``default`` hook in Python that
turns each UUID, datetime and date into ``{"_type_": name, "_data_": ...}`` by the registered
transcoding. Here the same dictionary is built with the transcoder's own transcodings and
written by ``msgspec`` (in C), which spells strings, integers, ``null`` and booleans exactly as
``json`` does; a property test compares both over generated events of every type.

``EncodingMapper`` is the library's mapper with this encoder in its ``to_stored_event``:
``api.store`` names it for the ``Callcraft`` application (``CALLCRAFT_MAPPER_TOPIC``), so
every event the application saves, one recording or a batch, is encoded here.

The library's mapper is used instead whenever the result could differ: a cipher or a
compressor, a transcoder or encoder other than the library's own with its defaults, or a value
this path does not spell itself (a float, a subclass of a plain type such as an enum member,
a dictionary key that is not text, an integer beyond 64 bits, text that is not valid UTF-8).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic

from api.recorders import StoredRow
from domain.application import DateAsISO

_json_encode = msgspec.json.encode
_PLAIN = frozenset({str, int, bool, type(None)})


def _hex(value: UUID) -> str:
    """``UUID.hex`` (exactly its own formula) without the call of its Python property."""
    return "%032x" % value.int  # noqa: UP031 - the standard library's own spelling


class _Unsupported(Exception):
    """A value this encoder does not spell itself: the library's mapper takes the event."""


class EventEncoder:
    """Encodes domain events like ``mapper.to_stored_event``."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.fast = (
            mapper.cipher is None
            and mapper.compressor is None
            and type(mapper) in (Mapper, EncodingMapper)
            and isinstance(transcoder, JSONTranscoder)
            and _plain_encoding(transcoder)
        )
        types = transcoder.types if isinstance(transcoder, JSONTranscoder) else {}
        self._convert: dict[type, Callable[[Any], Any]] = {
            kind: self._converter(transcoding) for kind, transcoding in types.items()
        }
        self._classes: dict[type, tuple[str, int]] = {}

    def encode(self, domain_event: Any) -> StoredEvent:
        if not self.fast:
            return self._library(domain_event)
        found = self._encoded(domain_event)
        if found is None:
            return self._library(domain_event)
        originator_id, originator_version, topic, state = found
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=state,
        )

    def encode_row(self, domain_event: Any) -> StoredRow:
        """The stored event as the recorders' rows take it (``api.recorders.StoredRow``:
        the id as hex text), without a ``StoredEvent`` on the way."""
        found = self._encoded(domain_event) if self.fast else None
        row: tuple[UUID | str, int, str, bytes]
        if found is None:
            stored = self._library(domain_event)
            row = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
        else:
            row = found
        originator_id, originator_version, topic, state = row
        if not isinstance(originator_id, UUID):  # an id given as text
            originator_id = UUID(originator_id)
        return (_hex(originator_id), originator_version, topic, state)

    def _encoded(self, domain_event: Any) -> tuple[UUID, int, str, bytes] | None:
        """id, version, topic and state, or None where the library's mapper must decide."""
        cls = type(domain_event)
        found = self._classes.get(cls)
        if found is None:
            found = self._classes[cls] = (get_topic(cls), getattr(cls, "class_version", 1))
        topic, class_version = found
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if class_version > 1:
            state["class_version"] = class_version
        try:
            convert = self._convert
            for key, value in state.items():
                kind = type(value)
                if kind not in _PLAIN:
                    known = convert.get(kind)
                    state[key] = known(value) if known is not None else self._value(value)
            stored_state = _json_encode(state)
        except (_Unsupported, msgspec.MsgspecError, UnicodeEncodeError, OverflowError):
            return None
        return originator_id, originator_version, topic, stored_state

    def _library(self, domain_event: Any) -> StoredEvent:
        """The library's own mapper's answer (not this encoder's again)."""
        if isinstance(self.mapper, EncodingMapper):
            return Mapper.to_stored_event(self.mapper, domain_event)
        return self.mapper.to_stored_event(domain_event)

    def _value(self, value: Any) -> Any:
        """What the library's JSON encoder makes of a value, as plain JSON values."""
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is list or kind is tuple:
            if _PLAIN.issuperset(map(type, value)):  # a list of names: nothing to spell
                return list(value)
            return [self._value(item) for item in value]
        if kind is dict:
            if not all(type(key) is str for key in value):
                raise _Unsupported
            return {key: self._value(item) for key, item in value.items()}
        known = self._convert.get(kind)
        if known is None:  # a float, an enum member, an unknown type: not ours to spell
            raise _Unsupported
        return known(value)

    def _converter(self, transcoding: Transcoding) -> Callable[[Any], Any]:
        """The transcoded form of a value: ``{"_type_": name, "_data_": ...}``, spelt
        directly for the library's own UUID and datetime transcodings and our date one."""
        name = transcoding.name
        kind = type(transcoding)
        if kind is UUIDAsHex:
            return lambda value: {"_type_": name, "_data_": _hex(value)}
        if kind is DatetimeAsISO or kind is DateAsISO:
            return lambda value: {"_type_": name, "_data_": value.isoformat()}
        return lambda value: {"_type_": name, "_data_": self._value(transcoding.encode(value))}


class EncodingMapper(Mapper[UUID]):
    """The library's mapper, storing events through ``EventEncoder`` (the same bytes)."""

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.encoder = EventEncoder(self)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        return self.encoder.encode(domain_event)


def encoder_for(mapper: Mapper[Any]) -> EventEncoder:
    """The encoder a mapper stores events with: its own when it has one (it knows each
    event class already), else one made for it."""
    return mapper.encoder if isinstance(mapper, EncodingMapper) else EventEncoder(mapper)


def _plain_encoding(transcoder: JSONTranscoder) -> bool:
    """The library's JSON transcoder (or a subclass that changes nothing of its encoding),
    with the encoder it makes: compact, not ASCII-only, keys in order, no indentation."""
    cls = type(transcoder)
    encoder = transcoder.encoder
    return (
        cls.encode is JSONTranscoder.encode
        and cls._encode_obj is JSONTranscoder._encode_obj
        and type(encoder) is json.JSONEncoder
        and encoder.item_separator == ","
        and encoder.key_separator == ":"
        and not encoder.ensure_ascii
        and not encoder.sort_keys
        and encoder.indent is None
        and not encoder.skipkeys
    )
