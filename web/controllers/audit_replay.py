"""/audit/replay: the replay check's button for auditors and admins.

``GET /audit/replay`` explains the check, offers the button and shows the latest check of this
process; ``POST /audit/replay`` starts one (or shows the one already running);
``GET /audit/replay/{id}`` shows one check. While it runs, its partial reloads itself every
second (``hx-trigger="every 1s"``); once it is done the partial carries no trigger, so the
polling stops.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_303_SEE_OTHER

from domain.principals import Principal, may_audit
from projections.replay_jobs import ReplayJobs, ReplayJobView
from web.auth import is_htmx, viewer

DENIAL = "the replay check is for auditors and admins"
NO_STORE = {"Cache-Control": "no-store", "Vary": "HX-Request"}


async def auditors_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Anonymous visitors go to the sign-in page (401); anyone but auditors and admins: 403."""
    principal = viewer(connection)
    if principal is None:
        raise NotAuthorizedException(detail="sign in first")
    if not may_audit(principal):
        raise PermissionDeniedException(detail=DENIAL)


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = viewer(request)
    assert principal is not None  # the guard saw to it
    return principal


def _page(
    request: Request[Any, Any, Any], job: ReplayJobView | None, status_code: int = 200
) -> Template:
    template = "partials/replay_job.html" if is_htmx(request) else "pages/audit_replay.html"
    return Template(
        template_name=template,
        context={"principal": request.scope.get("user"), "job": job},
        status_code=status_code,
        headers=NO_STORE,
    )


class ReplayPageController(Controller):
    path = "/audit/replay"
    include_in_schema = False
    guards = [auditors_only]  # noqa: RUF012 - Litestar's own attribute

    @get("/", name="audit_replay")
    async def replay_page(
        self, request: Request[Any, Any, Any], replay_jobs: NamedDependency[ReplayJobs]
    ) -> Template:
        return _page(request, replay_jobs.latest())

    @post("/")
    async def run_replay(
        self, request: Request[Any, Any, Any], replay_jobs: NamedDependency[ReplayJobs]
    ) -> Template | Redirect:
        job, _ = replay_jobs.start(_principal(request).actor)
        if is_htmx(request):
            return _page(request, job, HTTP_202_ACCEPTED)
        return Redirect(path=f"/audit/replay/{job.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/{replay_id:uuid}")
    async def replay_job(
        self,
        request: Request[Any, Any, Any],
        replay_jobs: NamedDependency[ReplayJobs],
        replay_id: FromPath[UUID],
    ) -> Template:
        job = replay_jobs.get(replay_id)
        if job is None:
            raise NotFoundException(detail="There is no such replay check in this process.")
        return _page(request, job)
