"""The auditor's pages: /audit (the hub), /audit/log (the event log) and /audit/log/{id}.

The log is a GET form of filters over a table of events in log order. Scrolling to the last
row asks (htmx, ``hx-trigger="revealed"``) for the next page, which the same rows partial
answers and which lands right after that row; without JavaScript every page has its own URL
(``after=``). Auditors and admins only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlalchemy import Engine

from domain.exceptions import DomainError
from domain.principals import may_audit
from projections.event_filters import (
    DEFAULT_LIMIT,
    FilterText,
    parse_after,
    parse_filter,
)
from projections.event_log import EVENT_TYPES
from projections.event_log_queries import EventPage, events_page, logged_event
from projections.queries import list_agents, list_teams
from web.auth import is_htmx, permitted_viewer

DENIAL = "the audit pages are for auditors and admins"
LARGEST_ID = 2**62
TIME_TRAVEL_DAYS = 30
LOG_PATH = "/audit/log"
EXPORT_PATH = "/api/v1/events/export"
FILTER_FIELDS = (
    "agent",
    "team",
    "type",
    "recorder",
    "since",
    "until",
    "occurred_since",
    "occurred_until",
)


def filter_text(request: Request[Any, Any, Any]) -> FilterText:
    params = request.query_params
    return FilterText(**{name: params.get(name) for name in FILTER_FIELDS})


def with_query(path: str, **query: str) -> str:
    return f"{path}?{urlencode(query)}" if query else path


class AuditController(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/", name="audit", sync_to_thread=True)
    def hub(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = permitted_viewer(request, may_audit, DENIAL)
        if isinstance(principal, Response):
            return principal
        month_ago = datetime.now(settings_zone) - timedelta(days=TIME_TRAVEL_DAYS)
        context = {
            "principal": principal,
            "agents": list_agents(read_engine, include_departed=True),
            "time_travel_url": with_query(
                "/leaderboards", as_of=month_ago.strftime("%Y-%m-%dT%H:%M")
            ),
        }
        return Template(template_name="pages/audit.html", context=context)

    @get("/log", name="audit-log", sync_to_thread=True)
    def log(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = permitted_viewer(request, may_audit, DENIAL)
        if isinstance(principal, Response):
            return principal
        text = filter_text(request)
        query = text.as_query()
        rows_only = is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"
        context: dict[str, Any] = {
            "principal": principal,
            "zone": settings_zone,
            "text": text,
            "types": EVENT_TYPES,
            "teams": list_teams(read_engine),
            "export_jsonl": with_query(EXPORT_PATH, format="jsonl", **query),
            "export_csv": with_query(EXPORT_PATH, format="csv", **query),
            "error": None,
            "page": EventPage(events=[], next_after=None),
            "next_url": None,
            "after": None,
        }
        template = "partials/audit_log_rows.html" if rows_only else "pages/audit_log.html"
        headers = {"Vary": "HX-Request"}
        try:
            wanted = parse_filter(read_engine, text, settings_zone)
            after = parse_after(request.query_params.get("after"))
        except DomainError as error:
            context["error"] = error.message
            context["error_field"] = error.field
            return Template(
                template_name=template,
                context=context,
                status_code=HTTP_400_BAD_REQUEST,
                headers=headers,
            )
        page = events_page(read_engine, wanted, after=after, limit=DEFAULT_LIMIT)
        context["page"] = page
        context["after"] = after
        if page.next_after is not None:
            context["next_url"] = with_query(LOG_PATH, **query, after=str(page.next_after))
        return Template(template_name=template, context=context, headers=headers)

    @get("/log/{notification_id:int}", name="audit-event", sync_to_thread=True)
    def event(
        self,
        request: Request[Any, Any, Any],
        notification_id: FromPath[int],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = permitted_viewer(request, may_audit, DENIAL)
        if isinstance(principal, Response):
            return principal
        found = (
            logged_event(read_engine, notification_id) if 0 < notification_id < LARGEST_ID else None
        )
        if found is None:
            raise NotFoundException(detail=f"there is no event {notification_id} in the log")
        context = {
            "principal": principal,
            "zone": settings_zone,
            "event": found,
            "log_url": with_query(LOG_PATH, after=str(notification_id - 1)),
        }
        return Template(template_name="pages/audit_event.html", context=context)
