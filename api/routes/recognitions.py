"""POST /api/v1/recognitions (one) and /api/v1/recognitions/batch (up to 1,000, all or none).

The recorder is always the signed-in principal's ``actor`` (a username, or a token's
recording identity), never something the body says. An ``Idempotency-Key`` header makes a
retry safe: the same key with the same body answers 200 with ``created: false``; the same key
with another body answers 409. In a batch, item ``i`` uses ``<key>:<i>`` unless it carries its
own ``idempotency_key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth.guards import principal_of
from api.routes.bodies import CLOSED_JSON
from api.routes.effects import Earned, await_projection, earned_by
from api.routes.errors import error_responses
from api.runtime import Runtime
from domain.application import MAX_BATCH, AgentRecord
from domain.exceptions import DomainError, UnknownAgent
from domain.facts import RecognitionKind
from domain.principals import Principal, may_record_for
from domain.recordings import RecordRecognition

RecognitionType = Literal[
    "FeedbackGiven", "TrainingCompleted", "ToughCallHandledWithGrace", "InitiativeTaken"
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Makes a retry safe: the same key and body record once.",
    ),
]


class RecognitionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One recognition. ``type`` decides which of the optional fields it needs:
    FeedbackGiven ``rating`` (1-5, and ``feedback_kind`` praise/coaching, ``given_by``),
    TrainingCompleted ``course`` and ``score`` (0-100), ToughCallHandledWithGrace
    ``call_ref``, InitiativeTaken ``description``."""

    type: RecognitionType
    agent: UUID
    competencies: list[str]
    occurred_at: datetime
    note: str = ""
    rating: int | None = None
    feedback_kind: str | None = None
    given_by: str | None = None
    course: str | None = None
    score: int | None = None
    call_ref: str | None = None
    description: str | None = None


class BatchItem(RecognitionIn, kw_only=True, forbid_unknown_fields=True, frozen=True):
    idempotency_key: str | None = None


class BatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    items: Annotated[list[BatchItem], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


@dataclass(frozen=True)
class RecordingResult:
    """``xp`` is what the recording earned (``null`` when ``projected`` is false: the read
    models had not caught up within the wait)."""

    recording_id: UUID
    created: bool
    projected: bool
    xp: int | None
    rule: str | None
    capped: bool | None


@dataclass(frozen=True)
class BatchResult:
    created: int
    projected: bool
    results: list[RecordingResult]


def command_for(item: RecognitionIn, recorded_by: str, key: str | None) -> RecordRecognition:
    return RecordRecognition(
        kind=RecognitionKind(item.type),
        agent_id=item.agent,
        competencies=tuple(item.competencies),
        occurred_at=item.occurred_at,
        recorded_by=recorded_by,
        note=item.note,
        idempotency_key=key,
        rating=item.rating,
        feedback_kind=item.feedback_kind,
        given_by=item.given_by,
        course=item.course,
        score=item.score,
        call_ref=item.call_ref,
        description=item.description,
    )


def _in_item(index: int, error: DomainError) -> DomainError:
    field = f"items[{index}]" + (f".{error.field}" if error.field else "")
    return type(error)(f"item {index + 1}: {error.message}", field=field)


def check_may_record(
    runtime: Runtime, principal: Principal, agent_ids: Sequence[UUID], *, batch: bool
) -> None:
    """404 for an agent that does not exist, 403 for one the principal may not record for."""
    seen: dict[UUID, AgentRecord] = {}
    for index, agent_id in enumerate(agent_ids):
        if agent_id not in seen:
            try:
                seen[agent_id] = runtime.app.agent(agent_id)
            except UnknownAgent as error:
                raise (_in_item(index, error) if batch else error) from None
        if not may_record_for(principal, seen[agent_id].team_id):
            where = f"item {index + 1}: " if batch else ""
            raise PermissionDeniedException(
                detail=f"{where}you may not record recognitions for {seen[agent_id].name}: "
                "supervisors record for the teams they lead; admins and record tokens for anyone"
            )


def results_for(
    runtime: Runtime, recording_ids: Sequence[UUID], created: Sequence[bool]
) -> tuple[bool, list[RecordingResult]]:
    projected = await_projection(runtime)
    earned: dict[UUID, Earned] = earned_by(runtime, recording_ids) if projected else {}
    results = []
    for recording_id, was_created in zip(recording_ids, created, strict=True):
        found = earned.get(recording_id)
        results.append(
            RecordingResult(
                recording_id=recording_id,
                created=was_created,
                projected=found is not None,
                xp=found.points if found else None,
                rule=found.rule if found else None,
                capped=found.capped if found else None,
            )
        )
    return projected, results


WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


@post(
    "/recognitions",
    sync_to_thread=True,
    tags=["recordings"],
    summary="Record a recognition",
    responses={
        HTTP_200_OK: ResponseSpec(
            data_container=RecordingResult,
            description="A replay: this Idempotency-Key and body were recorded before.",
        ),
        **WRITE_ERRORS,
    },
)
def record_recognition(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    data: Annotated[RecognitionIn, CLOSED_JSON],
    idempotency_key: IdempotencyKey = None,
) -> Response[RecordingResult]:
    """Record one recognition for an agent; 201 with the XP it earned."""
    principal = principal_of(request)
    check_may_record(runtime, principal, [data.agent], batch=False)
    command = command_for(data, principal.actor, idempotency_key)
    outcome = runtime.app.record(command, now=datetime.now(UTC))
    _, results = results_for(runtime, [outcome.recording_id], [outcome.created])
    return Response(results[0], status_code=HTTP_201_CREATED if outcome.created else HTTP_200_OK)


@post(
    "/recognitions/batch",
    sync_to_thread=True,
    tags=["recordings"],
    summary="Record up to 1,000 recognitions, all or none",
    responses={
        HTTP_200_OK: ResponseSpec(
            data_container=BatchResult,
            description="Every item was a replay: nothing new was recorded.",
        ),
        **WRITE_ERRORS,
    },
)
def record_batch(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    data: Annotated[BatchIn, CLOSED_JSON],
    idempotency_key: IdempotencyKey = None,
) -> Response[BatchResult]:
    """Record every item or none; an error names the item (``items[3].rating``)."""
    principal = principal_of(request)
    check_may_record(runtime, principal, [item.agent for item in data.items], batch=True)
    commands = [
        command_for(
            item,
            principal.actor,
            item.idempotency_key
            if item.idempotency_key is not None
            else (f"{idempotency_key}:{index}" if idempotency_key is not None else None),
        )
        for index, item in enumerate(data.items)
    ]
    try:
        outcomes = runtime.app.record_many(commands, now=datetime.now(UTC))
    except DomainError as error:
        if len(commands) == 1:  # the domain names batch items only for batches of two or more
            raise _in_item(0, error) from None
        raise
    projected, results = results_for(
        runtime, [o.recording_id for o in outcomes], [o.created for o in outcomes]
    )
    created = sum(1 for o in outcomes if o.created)
    return Response(
        BatchResult(created=created, projected=projected, results=results),
        status_code=HTTP_201_CREATED if created else HTTP_200_OK,
    )
