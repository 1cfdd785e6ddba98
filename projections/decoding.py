"""Stored events to domain events, faster than the library's mapper and exactly like it.

The library stores an event's state as JSON through its ``JSONTranscoder``; its mapper parses
that JSON with the standard ``json`` module and an ``object_hook`` in Python, which was most
of the cost of reading the log in a rebuild. Here the JSON is parsed by ``msgspec`` (in C) and
the transcoded values (``{"_type_": name, "_data_": ...}``) are turned back into objects by the
transcoder's own transcodings, bottom-up like the ``object_hook``; the originator id, the
upcasting from older ``class_version``\\ s and the construction of the event object are the
mapper's own steps. So a decoded event has the same class and the same attributes as the
library's (a property test compares both over generated events of every type).

The library's mapper is used instead whenever this fast path could differ: a cipher or a
compressor, another transcoder, or JSON that ``msgspec`` refuses (numbers out of range, lone
surrogates), which the standard ``json`` module may still accept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, cast
from uuid import UUID, SafeUUID

import msgspec
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

_json_decode = msgspec.json.decode
_Upcaster = Callable[[dict[str, Any]], None]


class EventDecoder:
    """Decodes stored events (notifications) like ``mapper.to_domain_event``."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.fast = (
            mapper.cipher is None
            and mapper.compressor is None
            and isinstance(transcoder, JSONTranscoder)
            and _plain_json(transcoder)
        )
        names = transcoder.names if isinstance(transcoder, JSONTranscoder) else {}
        self._decoders: dict[str, Callable[[Any], Any]] = {
            name: _uuid_from_hex(transcoding.decode)
            if type(transcoding) is UUIDAsHex
            else transcoding.decode
            for name, transcoding in names.items()
        }
        self._classes: dict[str, tuple[type[Any], int, tuple[_Upcaster, ...]]] = {}

    def decode(self, stored: StoredEvent) -> Any:
        if not self.fast:
            return self.mapper.to_domain_event(stored)
        try:
            parsed = _json_decode(stored.state)
        except msgspec.MsgspecError:
            return self.mapper.to_domain_event(stored)
        try:
            state = self._value(parsed)
        except Exception:  # an unknown transcoding, bad data: let the library say what
            return self.mapper.to_domain_event(stored)
        if type(state) is not dict:
            return self.mapper.to_domain_event(stored)
        cls, class_version, upcasters = self._class(stored.topic)
        convert = find_id_convertor(cast(Hashable, cls), cast(Hashable, type(stored.originator_id)))
        state["originator_id"] = convert(stored.originator_id)
        state["originator_version"] = stored.originator_version
        from_version = state.pop("class_version", 1)
        if from_version < class_version:
            for upcast in upcasters[from_version - 1 :]:
                upcast(state)
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def _class(self, topic: str) -> tuple[type[Any], int, tuple[_Upcaster, ...]]:
        found = self._classes.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            class_version = getattr(cls, "class_version", 1)
            upcasters = tuple(
                getattr(cls, f"upcast_v{v}_v{v + 1}") for v in range(1, class_version)
            )
            found = self._classes[topic] = (cls, class_version, upcasters)
        return found

    def _value(self, value: Any) -> Any:
        """What the library's ``object_hook`` makes of a parsed JSON value, bottom-up."""
        # The parsed containers are ours alone: they are decoded in place.
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                if type(item) in _CONTAINERS:
                    value[key] = self._value(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decoders[value["_type_"]](value["_data_"])
            return value
        if kind is list:
            for index, item in enumerate(value):
                if type(item) in _CONTAINERS:
                    value[index] = self._value(item)
        return value


_CONTAINERS = (dict, list)


def _uuid_from_hex(library: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The library's ``UUID(data)`` for 32 hex digits, without its string clean-up: for such a
    string both come to ``int(data, 16)``. Anything else is left to the library's decode."""
    new = object.__new__
    set_attribute = object.__setattr__
    unknown = SafeUUID.unknown

    def decode(data: Any) -> Any:
        if type(data) is str and len(data) == 32 and data.isascii() and data.isalnum():
            try:
                number = int(data, 16)
            except ValueError:
                return library(data)
            found = new(UUID)
            set_attribute(found, "int", number)
            set_attribute(found, "is_safe", unknown)
            return found
        return library(data)

    return decode


def _plain_json(transcoder: JSONTranscoder) -> bool:
    """A subclass of the JSON transcoder that changes neither encoding nor decoding."""
    cls = type(transcoder)
    return cls.decode is JSONTranscoder.decode and cls._decode_obj is JSONTranscoder._decode_obj
