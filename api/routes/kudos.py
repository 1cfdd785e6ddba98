"""POST /api/v1/kudos and GET /api/v1/kudos/allowance: an agent thanks a colleague.

Kudos come from the signed-in agent, in their own name. The rulebook caps how many one agent
gives a day (in the organisation's time zone); the allowance route tells the caller how many
are left today, so a form can show the cap before it bites. Retracted kudos still count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from sqlalchemy import func, select

from api.auth.guards import principal_of
from api.routes.bodies import CLOSED_JSON
from api.routes.effects import await_projection, earned_by
from api.routes.errors import error_responses
from api.runtime import Runtime
from domain.exceptions import Conflict, DomainError, KudosCapReached, SelfKudos
from domain.facts import RecognitionKind
from domain.principals import Principal, may_give_kudos
from domain.recordings import RecordRecognition
from projections.tables import recognitions


class KudosIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    to: UUID
    competencies: list[str]
    note: str = ""


@dataclass(frozen=True)
class KudosAllowanceView:
    day: date
    cap: int
    given: int
    remaining: int


@dataclass(frozen=True)
class KudosResult:
    recording_id: UUID
    projected: bool
    xp: int | None
    remaining_today: int | None


def _giver(request: Request[Any, Any, Any]) -> tuple[Principal, UUID]:
    principal = principal_of(request)
    if not may_give_kudos(principal) or principal.agent_id is None:
        raise PermissionDeniedException(
            detail="kudos come from an agent, in their own name: this account is not an agent"
        )
    return principal, principal.agent_id


def allowance(runtime: Runtime, giver: UUID, now: datetime) -> KudosAllowanceView:
    """The cap of the rulebook in force now, and the kudos the giver gave today (local day),
    as the read models know them."""
    zone = runtime.settings.zone
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    cap = runtime.app.rulebooks().in_force_at(now).kudos_cap_per_giver_per_day
    with runtime.read_engine.connect() as connection:
        given = connection.execute(
            select(func.count()).where(
                recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
                recognitions.c.from_agent == giver,
                recognitions.c.occurred_at >= start,
                recognitions.c.occurred_at < end,
            )
        ).scalar_one()
    return KudosAllowanceView(
        day=day, cap=cap, given=int(given), remaining=max(cap - int(given), 0)
    )


@get(
    "/kudos/allowance",
    sync_to_thread=True,
    tags=["kudos"],
    responses=error_responses(401, 403),
)
def kudos_allowance(
    request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
) -> KudosAllowanceView:
    """How many kudos the signed-in agent may still give today."""
    _, giver = _giver(request)
    return allowance(runtime, giver, datetime.now(UTC))


@post(
    "/kudos",
    sync_to_thread=True,
    tags=["kudos"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
def give_kudos(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    data: Annotated[KudosIn, CLOSED_JSON],
) -> KudosResult:
    """Thank a colleague; 409 when today's cap is reached."""
    principal, giver = _giver(request)
    now = datetime.now(UTC)
    command = RecordRecognition(
        kind=RecognitionKind.KUDOS_GIVEN,
        agent_id=data.to,
        competencies=tuple(data.competencies),
        occurred_at=now,
        recorded_by=principal.actor,
        note=data.note,
        from_agent=giver,
    )
    try:
        outcome = runtime.app.record(command, now=now)
    except KudosCapReached as error:
        raise Conflict(f"{error.message}; you can give kudos again tomorrow") from None
    except SelfKudos as error:
        raise SelfKudos(error.message, field="to") from None
    except DomainError as error:
        if error.field == "agent":
            error.field = "to"
        raise
    projected = await_projection(runtime)
    found = earned_by(runtime, [outcome.recording_id]).get(outcome.recording_id)
    left = allowance(runtime, giver, now).remaining if projected else None
    return KudosResult(
        recording_id=outcome.recording_id,
        projected=projected and found is not None,
        xp=found.points if found else None,
        remaining_today=left,
    )
