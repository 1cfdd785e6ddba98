"""GET /api/v1/events (a page of the event log) and /api/v1/events/export (all of it, streamed).

For auditors and admins only. Both take the same filters: ``agent`` (id or handle), ``team``
(id or name), ``type`` (one event type or several, comma-separated), ``recorder`` (a username
or ``token:<name>``), ``since``/``until`` (when recorded) and ``occurred_since``/
``occurred_until`` (when it happened); an unusable filter is a 422 naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation
from litestar.params import QueryParameter
from litestar.response import Stream

from api.auth.guards import requires_role
from api.exporter import FORMATS, MEDIA_TYPES, export_lines
from api.routes.errors import BadParameter, error_responses
from api.runtime import Runtime
from domain.accounts import Role
from projections.event_filters import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventFilter,
    FilterText,
    parse_filter,
)
from projections.event_log_queries import LoggedEvent, events_page

EXPORT_MEDIA_TYPES = ("application/jsonl", "text/csv")

auditors = requires_role(Role.AUDITOR, Role.ADMIN)
LARGEST_ID = 2**62

Agent = Annotated[str | None, QueryParameter(description="An agent's id or handle.")]
TeamName = Annotated[str | None, QueryParameter(description="A team's id or name.")]
Kinds = Annotated[
    str | None,
    QueryParameter(name="type", description="An event type, or several separated by commas."),
]
Recorder = Annotated[
    str | None, QueryParameter(description="Who recorded it: a username or token:<name>.")
]
Moment = Annotated[
    str | None,
    QueryParameter(description="ISO 8601; without an offset, the organisation's time zone."),
]


@dataclass(frozen=True)
class LoggedEventOut:
    """One event of the log. ``retracts``: for a retraction, the id of the recording it
    retracts; ``retracted_by``: for a retracted recording, the id of its retraction."""

    id: int
    type: str
    originator_id: UUID
    originator_version: int
    agent_id: UUID | None
    agent_handle: str | None
    team_id: UUID | None
    team_name: str | None
    recorded_by: str | None
    occurred_at: datetime | None
    recorded_at: datetime
    data: dict[str, Any]
    retracts: int | None
    retracted_by: int | None


@dataclass(frozen=True)
class EventLogPage:
    """``next_after`` is the cursor of the next page (null on the last); ``next`` its URL."""

    events: list[LoggedEventOut]
    next_after: int | None
    next: str | None


def _out(event: LoggedEvent) -> LoggedEventOut:
    return LoggedEventOut(
        id=event.notification_id,
        type=event.type,
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        agent_id=event.agent_id,
        agent_handle=event.agent_handle,
        team_id=event.team_id,
        team_name=event.team_name,
        recorded_by=event.recorded_by,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        data=event.data,
        retracts=event.retracts,
        retracted_by=event.retracted_by,
    )


def _filter(runtime: Runtime, text: FilterText) -> EventFilter:
    return parse_filter(runtime.read_engine, text, runtime.settings.zone)


@get(
    "/events",
    sync_to_thread=True,
    tags=["audit"],
    guards=[auditors],
    responses=error_responses(400, 401, 403, 422),
)
def list_events(
    runtime: NamedDependency[Runtime],
    agent: Agent = None,
    team: TeamName = None,
    kinds: Kinds = None,
    recorder: Recorder = None,
    since: Moment = None,
    until: Moment = None,
    occurred_since: Moment = None,
    occurred_until: Moment = None,
    after: Annotated[
        int | None, QueryParameter(ge=0, le=LARGEST_ID, description="The cursor.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> EventLogPage:
    """A page of the event log in log order, after the cursor ``after`` (a notification id)."""
    text = FilterText(agent, team, kinds, recorder, since, until, occurred_since, occurred_until)
    page = events_page(runtime.read_engine, _filter(runtime, text), after=after, limit=limit)
    next_url = None
    if page.next_after is not None:
        query = {**text.as_query(), "after": str(page.next_after), "limit": str(limit)}
        next_url = f"/api/v1/events?{urlencode(query)}"
    return EventLogPage(
        events=[_out(e) for e in page.events], next_after=page.next_after, next=next_url
    )


EXPORT_RESPONSES: dict[int, ResponseSpec] = {
    200: ResponseSpec(
        data_container=str,
        description="The events, streamed: JSON Lines (one event per line) or CSV with a "
        "header (see docs/export-format.md).",
        media_type=EXPORT_MEDIA_TYPES[0],
        generate_examples=False,
    ),
    **error_responses(400, 401, 403, 422),
}


@dataclass
class ExportOperation(Operation):
    """The export's 200 comes as JSON Lines or as CSV: the schema says both."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content:
            text = next(iter(ok.content.values())).schema
            ok.content = {media: OpenAPIMediaType(schema=text) for media in EXPORT_MEDIA_TYPES}


@get(
    "/events/export",
    sync_to_thread=True,
    tags=["audit"],
    guards=[auditors],
    responses=EXPORT_RESPONSES,
    operation_class=ExportOperation,
)
def export_events(
    runtime: NamedDependency[Runtime],
    export_format: Annotated[
        str,
        QueryParameter(
            name="format", description="jsonl or csv.", schema_extra={"enum": list(FORMATS)}
        ),
    ] = "jsonl",
    agent: Agent = None,
    team: TeamName = None,
    kinds: Kinds = None,
    recorder: Recorder = None,
    since: Moment = None,
    until: Moment = None,
    occurred_since: Moment = None,
    occurred_until: Moment = None,
) -> Stream:
    """The whole log, or the filtered part of it, as JSON Lines or CSV, in log order."""
    if export_format not in FORMATS:
        raise BadParameter(
            f"format must be one of {', '.join(FORMATS)}, not {export_format!r}", field="format"
        )
    text = FilterText(agent, team, kinds, recorder, since, until, occurred_since, occurred_until)
    wanted = _filter(runtime, text)
    pieces = export_lines(runtime.app, runtime.read_engine, wanted, export_format)
    return Stream(
        content=pieces,
        media_type=MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="callcraft-events.{export_format}"'},
    )
