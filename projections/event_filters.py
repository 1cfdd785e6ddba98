"""Which events an auditor asks for: the filters of the event log, and reading them from text.

Every filter comes in as text (a query parameter, a form field, a command-line option) and is
either understood or refused with a message naming the field. An agent is named by its id or
its handle, a team by its id or its name; times are ISO 8601, and a time without an offset
(what a browser's date-time picker sends) is read in the organisation's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from uuid import UUID

from sqlalchemy import Engine, select

from domain.exceptions import InvalidInput
from projections.event_log import EVENT_TYPES
from projections.tables import agents, teams

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
RECORDER_MAX_LENGTH = 200


@dataclass(frozen=True)
class EventFilter:
    """Events matching every given filter; ``since`` inclusive, ``until`` exclusive."""

    agent_id: UUID | None = None
    team_id: UUID | None = None
    types: tuple[str, ...] = ()
    recorder: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    occurred_since: datetime | None = None
    occurred_until: datetime | None = None

    @property
    def is_everything(self) -> bool:
        return all(not getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class FilterText:
    """The filters as typed: every field optional, blank means "any"."""

    agent: str | None = None
    team: str | None = None
    type: str | None = None
    recorder: str | None = None
    since: str | None = None
    until: str | None = None
    occurred_since: str | None = None
    occurred_until: str | None = None

    def as_query(self) -> dict[str, str]:
        """The non-blank filters, for building a URL that asks for the same events."""
        return {
            f.name: value.strip()
            for f in fields(self)
            if (value := getattr(self, f.name)) and value.strip()
        }


def _blank(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip()


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def parse_agent(engine: Engine, value: str) -> UUID:
    column = agents.c.agent_id if _as_uuid(value) else agents.c.handle
    key: object = _as_uuid(value) or value
    with engine.connect() as connection:
        found: UUID | None = connection.execute(
            select(agents.c.agent_id).where(column == key)
        ).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"no agent with the id or handle {value!r}", field="agent")
    return found


def parse_team(engine: Engine, value: str) -> UUID:
    column = teams.c.team_id if _as_uuid(value) else teams.c.name
    key: object = _as_uuid(value) or value
    with engine.connect() as connection:
        found: UUID | None = connection.execute(
            select(teams.c.team_id).where(column == key)
        ).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"no team with the id or name {value!r}", field="team")
    return found


def parse_types(value: str) -> tuple[str, ...]:
    """One event type or several, separated by commas."""
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"unknown event type {unknown[0]!r}; known types: {', '.join(EVENT_TYPES)}",
            field="type",
        )
    return names


def parse_moment(value: str, zone: tzinfo, *, field: str) -> datetime:
    """ISO 8601 (``2026-03-01``, ``2026-03-01T17:00``, ``…+01:00``, ``…Z``); no offset means
    the organisation's time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a date or date and time in ISO 8601, e.g. 2026-03-01T17:00, "
            f"not {value!r}",
            field=field,
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _range(low: datetime | None, high: datetime | None, *, low_field: str, high_field: str) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{low_field} is after {high_field}", field=low_field)


def parse_filter(engine: Engine, text: FilterText, zone: tzinfo) -> EventFilter:
    """The filter ``text`` asks for; raises ``InvalidInput`` (naming the field) otherwise."""
    agent, team, kinds = _blank(text.agent), _blank(text.team), _blank(text.type)
    recorder = _blank(text.recorder)
    if recorder is not None and len(recorder) > RECORDER_MAX_LENGTH:
        raise InvalidInput(
            f"recorder is longer than {RECORDER_MAX_LENGTH} characters", field="recorder"
        )
    moments: dict[str, datetime | None] = {}
    for name in ("since", "until", "occurred_since", "occurred_until"):
        raw = _blank(getattr(text, name))
        moments[name] = parse_moment(raw, zone, field=name) if raw else None
    _range(moments["since"], moments["until"], low_field="since", high_field="until")
    _range(
        moments["occurred_since"],
        moments["occurred_until"],
        low_field="occurred_since",
        high_field="occurred_until",
    )
    return EventFilter(
        agent_id=parse_agent(engine, agent) if agent else None,
        team_id=parse_team(engine, team) if team else None,
        types=parse_types(kinds) if kinds else (),
        recorder=recorder,
        since=moments["since"],
        until=moments["until"],
        occurred_since=moments["occurred_since"],
        occurred_until=moments["occurred_until"],
    )


def parse_after(value: str | None) -> int | None:
    """The page cursor: the notification id of the last event already seen."""
    raw = _blank(value)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("after must be a notification id (a whole number ≥ 0)", field="after")
    return int(raw)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIMIT}, not {limit}", field="limit")
    return limit
