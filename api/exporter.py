"""Exporting the whole history as JSON Lines, in log order (see docs/export-format.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.application import Callcraft

PAGE_SIZE = 1000
REDACTED = "<redacted>"
REDACTED_FIELDS = frozenset({"password_hash"})
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)
FORMAT_VERSION = 1


def json_friendly(value: Any) -> Any:
    """UUIDs as strings, datetimes and dates in ISO 8601, containers recursively."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_friendly(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_friendly(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_friendly(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _redacted(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if k in REDACTED_FIELDS else v) for k, v in data.items()}


def notifications(app: Callcraft, *, page_size: int = PAGE_SIZE) -> Iterator[Notification]:
    """The whole notification log in order, a page at a time."""
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(
            start=start, limit=page_size, inclusive_of_start=start is None
        )
        if not page:
            return
        yield from page
        start = page[-1].id


def event_record(app: Callcraft, notification: Notification) -> dict[str, Any]:
    """One line of the export: the envelope and the event's own fields."""
    event = app.mapper.to_domain_event(notification)
    state = dict(vars(event))
    type_name = type(event).__qualname__.rsplit(".", 1)[-1]
    data = {k: v for k, v in state.items() if k not in ENVELOPE_FIELDS}
    return {
        "id": notification.id,
        "type": type_name,
        "originator_id": str(notification.originator_id),
        "originator_version": notification.originator_version,
        "timestamp": json_friendly(state.get("timestamp")),
        "topic": notification.topic,
        "data": json_friendly(_redacted(data)),
    }


def export_history(app: Callcraft, out: TextIO, *, page_size: int = PAGE_SIZE) -> int:
    """Write every event as one JSON object per line; returns how many were written."""
    written = 0
    for notification in notifications(app, page_size=page_size):
        out.write(json.dumps(event_record(app, notification), ensure_ascii=False))
        out.write("\n")
        written += 1
    return written
