"""POST /api/v1/audit/replays and GET /api/v1/audit/replays/{id}: the replay check, for
auditors and admins (anyone else, tokens included, gets 403).

A POST starts a check in the background (202 with its id); one runs at a time per process, so
a POST while one runs is 409 naming it. The GET reports its state, progress and differences.
A replay check writes nothing to the event store.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.status_codes import HTTP_202_ACCEPTED

from api.auth.guards import NotAllowed, principal_of
from api.routes.errors import error_responses
from domain.exceptions import Conflict
from domain.principals import may_audit
from projections.replay_jobs import ReplayJobs, ReplayJobView


async def requires_audit(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Auditors and admins (people, never tokens)."""
    if not may_audit(principal_of(connection)):
        raise NotAllowed("the replay check is for auditors and admins")


@post(
    "/audit/replays",
    status_code=HTTP_202_ACCEPTED,
    guards=[requires_audit],
    tags=["audit"],
    summary="Start a replay check",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def start_replay(
    request: Request[Any, Any, Any], replay_jobs: NamedDependency[ReplayJobs]
) -> ReplayJobView:
    """Rebuild every read model from the log into a scratch database and compare it with the
    live ones, in the background; poll ``GET /audit/replays/{id}``. 409 while one runs."""
    job, started = replay_jobs.start(principal_of(request).actor)
    if not started:
        raise Conflict(f"a replay check is already running: {job.id}")
    return job


@get(
    "/audit/replays/{replay_id:uuid}",
    guards=[requires_audit],
    tags=["audit"],
    summary="A replay check's state, progress and differences",
    responses=error_responses(400, 401, 403, 404),
)
async def replay_status(
    replay_jobs: NamedDependency[ReplayJobs], replay_id: FromPath[UUID]
) -> ReplayJobView:
    """``state``: running, identical, different or failed; ``percent`` and the counts tell
    how far it is; ``differences`` lists the first 500 of ``difference_count``."""
    job = replay_jobs.get(replay_id)
    if job is None:
        raise NotFoundException(detail=f"no replay check with id {replay_id} in this process")
    return job
