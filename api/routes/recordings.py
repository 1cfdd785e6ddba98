"""POST /api/v1/recordings/{id}/retraction: take a recording back, with a reason.

Only the one who recorded it, or an admin, may retract it (the domain decides; a refusal is
403 and changes nothing). The retraction is a new fact: its effect leaves the read models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.auth.guards import principal_of
from api.routes.bodies import CLOSED_JSON
from api.routes.effects import await_projection
from api.routes.errors import error_responses
from api.runtime import Runtime
from domain.principals import may_administer


class RetractionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    reason: str


@dataclass(frozen=True)
class RetractionResult:
    recording_id: UUID
    retracted: bool
    projected: bool


@post(
    "/recordings/{recording_id:uuid}/retraction",
    sync_to_thread=True,
    tags=["recordings"],
    summary="Retract a recording",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
def retract_recording(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    recording_id: FromPath[UUID],
    data: Annotated[RetractionIn, CLOSED_JSON],
) -> RetractionResult:
    """Retract a recording you made (admins: any recording); 409 if already retracted."""
    principal = principal_of(request)
    runtime.app.retract(
        recording_id=recording_id,
        retracted_by=principal.actor,
        by_admin=may_administer(principal),
        reason=data.reason,
    )
    return RetractionResult(
        recording_id=recording_id, retracted=True, projected=await_projection(runtime)
    )
