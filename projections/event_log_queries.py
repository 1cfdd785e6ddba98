"""Reading the event log: filtered, in log order, a page at a time (keyset paging on the
notification id) or as an endless stream of pages for exports.

Each row also says which event it links to: a retraction names the recording it retracts,
a retracted recording names its retraction (they share the recording's ``originator_id``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, Row, Select, func, select

from projections.event_filters import EventFilter
from projections.event_log import RECOGNITION_TYPES, RETRACTION, TOPICS, event_log
from projections.tables import activity, agents, recognitions, teams

STREAM_CHUNK = 1000


@dataclass(frozen=True)
class LoggedEvent:
    notification_id: int
    type: str
    originator_id: UUID
    originator_version: int
    agent_id: UUID | None
    agent_handle: str | None
    agent_name: str | None
    team_id: UUID | None
    team_name: str | None
    recorded_by: str | None
    occurred_at: datetime | None
    recorded_at: datetime
    data_json: str
    retracts: int | None = None
    """For a retraction: the notification id of the recording it retracts."""
    retracted_by: int | None = None
    """For a retracted recording: the notification id of its retraction."""

    @property
    def data(self) -> Any:
        return json.loads(self.data_json)

    @property
    def topic(self) -> str:
        return TOPICS.get(self.type, "")

    @property
    def is_retraction(self) -> bool:
        return self.type == RETRACTION


@dataclass(frozen=True)
class EventPage:
    events: list[LoggedEvent]
    next_after: int | None
    """The cursor of the next page (``after=``), None on the last page."""


def conditions(wanted: EventFilter) -> list[ColumnElement[bool]]:
    c = event_log.c
    where: list[ColumnElement[bool]] = []
    if wanted.agent_id is not None:
        where.append(c.agent_id == wanted.agent_id)
    if wanted.team_id is not None:
        where.append(c.team_id == wanted.team_id)
    if len(wanted.types) == 1:
        where.append(c.type == wanted.types[0])
    elif wanted.types:
        where.append(c.type.in_(wanted.types))
    if wanted.recorder is not None:
        where.append(c.recorded_by == wanted.recorder)
    if wanted.since is not None:
        where.append(c.recorded_at >= wanted.since)
    if wanted.until is not None:
        where.append(c.recorded_at < wanted.until)
    if wanted.occurred_since is not None:
        where.append(c.occurred_at >= wanted.occurred_since)
    if wanted.occurred_until is not None:
        where.append(c.occurred_at < wanted.occurred_until)
    return where


def _select(
    wanted: EventFilter, after: int | None, limit: int, stop: int | None = None
) -> Select[Any]:
    query = (
        select(event_log, agents.c.handle, agents.c.name.label("agent_name"), teams.c.name)
        .outerjoin(agents, agents.c.agent_id == event_log.c.agent_id)
        .outerjoin(teams, teams.c.team_id == event_log.c.team_id)
        .where(*conditions(wanted))
    )
    if after is not None:
        query = query.where(event_log.c.notification_id > after)
    if stop is not None:
        query = query.where(event_log.c.notification_id <= stop)
    return query.order_by(event_log.c.notification_id).limit(limit)


def _links(engine: Engine, rows: Sequence[Row[Any]]) -> dict[UUID, dict[str, int]]:
    """For the recordings and retractions among ``rows``: recording id → {"recording": nid,
    "retraction": nid}, whichever exist in the whole log (looked up by recording id in the
    fact tables, which index it)."""
    streams = {r.originator_id for r in rows if r.type == RETRACTION or r.type in RECOGNITION_TYPES}
    if not streams:
        return {}
    found: dict[UUID, dict[str, int]] = {}
    with engine.connect() as connection:
        for chunk in _chunks(sorted(streams), 500):
            for recording_id, nid in connection.execute(
                select(recognitions.c.recording_id, recognitions.c.notification_id).where(
                    recognitions.c.recording_id.in_(chunk)
                )
            ):
                found.setdefault(recording_id, {})["recording"] = int(nid)
            for recording_id, nid in connection.execute(
                select(activity.c.recording_id, activity.c.notification_id).where(
                    activity.c.recording_id.in_(chunk), activity.c.kind == RETRACTION
                )
            ):
                found.setdefault(recording_id, {})["retraction"] = int(nid)
    return found


def _chunks(items: list[UUID], size: int) -> Iterator[list[UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _logged(row: Row[Any], links: dict[UUID, dict[str, int]]) -> LoggedEvent:
    linked = links.get(row.originator_id, {})
    is_retraction = row.type == RETRACTION
    return LoggedEvent(
        notification_id=int(row.notification_id),
        type=row.type,
        originator_id=row.originator_id,
        originator_version=int(row.originator_version),
        agent_id=row.agent_id,
        agent_handle=row.handle,
        agent_name=row.agent_name,
        team_id=row.team_id,
        team_name=row.name,
        recorded_by=row.recorded_by,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        data_json=row.data,
        retracts=linked.get("recording") if is_retraction else None,
        retracted_by=None if is_retraction else linked.get("retraction"),
    )


def _fetch(
    engine: Engine, wanted: EventFilter, after: int | None, limit: int, stop: int | None = None
) -> list[LoggedEvent]:
    with engine.connect() as connection:
        rows = connection.execute(_select(wanted, after, limit, stop)).all()
    links = _links(engine, rows)
    return [_logged(row, links) for row in rows]


def events_page(
    engine: Engine, wanted: EventFilter, *, after: int | None = None, limit: int
) -> EventPage:
    """Up to ``limit`` events after the cursor ``after``, in log order."""
    events = _fetch(engine, wanted, after, limit + 1)
    more = len(events) > limit
    events = events[:limit]
    return EventPage(events=events, next_after=events[-1].notification_id if more else None)


def logged_event(engine: Engine, notification_id: int) -> LoggedEvent | None:
    found = _fetch(engine, EventFilter(), notification_id - 1, 1, notification_id)
    return found[0] if found else None


def last_logged(engine: Engine) -> int:
    """The notification id of the newest event in the log (0 when empty)."""
    with engine.connect() as connection:
        value = connection.execute(select(func.max(event_log.c.notification_id))).scalar()
    return int(value or 0)


def stream_events(
    engine: Engine, wanted: EventFilter, *, chunk: int = STREAM_CHUNK, stop: int | None = None
) -> Iterator[LoggedEvent]:
    """Every matching event in log order, up to ``stop`` (default: the newest when the
    stream starts), read ``chunk`` at a time, each chunk on a connection of its own: memory
    stays flat however long the log is."""
    last = last_logged(engine) if stop is None else stop
    after: int | None = None
    while True:
        events = _fetch(engine, wanted, after, chunk, last)
        yield from events
        if len(events) < chunk:
            return
        after = events[-1].notification_id
