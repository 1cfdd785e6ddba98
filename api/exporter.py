"""Exporting the history, in log order, as JSON Lines or CSV (see docs/export-format.md).

The whole history as JSON Lines is read from the event store itself, a page at a time: the
export is a faithful copy of the log. A filtered export, and every CSV export, reads the
event log read model (``projections.event_log``), whose data is the same JSON the store's
export writes, so the same event gives the same line either way. Both are generators of
text, a page of the log at a time: memory stays flat however long the history is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Engine

from domain.application import Callcraft
from projections.event_filters import EventFilter
from projections.event_log import ENVELOPE_FIELDS, REDACTED, REDACTED_FIELDS
from projections.event_log_queries import LoggedEvent, stream_events

PAGE_SIZE = 1000
FORMAT_VERSION = 1
FORMATS = ("jsonl", "csv")
MEDIA_TYPES = {"jsonl": "application/jsonl; charset=utf-8", "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = (
    "id",
    "type",
    "originator_id",
    "originator_version",
    "timestamp",
    "topic",
    "agent_id",
    "agent",
    "team_id",
    "team",
    "recorded_by",
    "occurred_at",
    "retracts",
    "retracted_by",
    "data",
)
CSV_ROWS_PER_WRITE = 200
PIECE_CHARS = 64 * 1024


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


def history_lines(app: Callcraft, *, page_size: int = PAGE_SIZE) -> Iterator[str]:
    """Every event of the store as a line of JSON (newline included)."""
    for notification in notifications(app, page_size=page_size):
        yield json.dumps(event_record(app, notification), ensure_ascii=False) + "\n"


def export_history(app: Callcraft, out: TextIO, *, page_size: int = PAGE_SIZE) -> int:
    """Write every event as one JSON object per line; returns how many were written."""
    return write_all(history_lines(app, page_size=page_size), out)


def jsonl_line(event: LoggedEvent) -> str:
    """The line ``history_lines`` writes for the same event, built from the read model."""
    head = json.dumps(
        {
            "id": event.notification_id,
            "type": event.type,
            "originator_id": str(event.originator_id),
            "originator_version": event.originator_version,
            "timestamp": event.recorded_at.isoformat(),
            "topic": event.topic,
        },
        ensure_ascii=False,
    )
    return f'{head[:-1]}, "data": {event.data_json}}}\n'


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def csv_row(event: LoggedEvent) -> list[str]:
    return [
        _text(v)
        for v in (
            event.notification_id,
            event.type,
            event.originator_id,
            event.originator_version,
            event.recorded_at,
            event.topic,
            event.agent_id,
            event.agent_handle,
            event.team_id,
            event.team_name,
            event.recorded_by,
            event.occurred_at,
            event.retracts,
            event.retracted_by,
            event.data_json,
        )
    ]


def csv_lines(events: Iterable[LoggedEvent]) -> Iterator[str]:
    """A header, then one CSV record per event (RFC 4180: quoted where needed, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    pending = 0
    for event in events:
        writer.writerow(csv_row(event))
        pending += 1
        if pending >= CSV_ROWS_PER_WRITE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def export_lines(
    app: Callcraft, engine: Engine, wanted: EventFilter, export_format: str
) -> Iterator[str]:
    """The export ``export_format`` (jsonl or csv) of the events ``wanted``, as text pieces.

    The whole history as JSON Lines comes from the store; anything else from the read model
    (bring it up to date first when the caller is not the running projector)."""
    if export_format not in FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    if export_format == "jsonl" and wanted.is_everything:
        return in_pieces(history_lines(app))
    events = stream_events(engine, wanted)
    if export_format == "csv":
        return csv_lines(events)
    return in_pieces(jsonl_line(event) for event in events)


def in_pieces(lines: Iterable[str], size: int = PIECE_CHARS) -> Iterator[str]:
    """Lines joined into pieces of about ``size`` characters: a streamed response hands each
    piece to a worker thread, so one per line would cost more than the line itself."""
    pending: list[str] = []
    length = 0
    for line in lines:
        pending.append(line)
        length += len(line)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def write_all(pieces: Iterable[str], out: TextIO) -> int:
    """Write ``pieces``; return how many lines they held (a CSV header is one)."""
    lines = 0
    for piece in pieces:
        out.write(piece)
        lines += piece.count("\n")
    return lines
