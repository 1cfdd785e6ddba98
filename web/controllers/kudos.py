"""``/kudos``: an agent thanks a colleague. The form shows how many kudos are left today
before the rulebook's daily cap bites, and says so plainly when it has."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response, Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy import Engine, func, select

from domain.application import Callcraft
from domain.competencies import ALL_COMPETENCIES
from domain.exceptions import DomainError, KudosCapReached
from domain.facts import RecognitionKind
from domain.principals import Principal, may_give_kudos
from projections.queries import AgentSummary, list_agents
from projections.tables import recognitions
from web.auth import is_htmx, permitted_viewer
from web.forms import (
    FORM,
    KUDOS_ERROR_ALIASES,
    KUDOS_FIELDS,
    FormState,
    error_field,
    form_fields,
    parse_kudos_form,
)

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
WaitForProjection = Callable[[int], bool]


def kudos_given_on_day(engine: Engine, giver: UUID, now: datetime, zone: ZoneInfo) -> int:
    """Kudos ``giver`` gave on the local day of ``now`` (retracted ones count: the cap does)."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0, 0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), zone).astimezone(UTC)
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).where(
                recognitions.c.from_agent == giver,
                recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
                recognitions.c.occurred_at >= start,
                recognitions.c.occurred_at < end,
            )
        ).scalar_one()
    return int(count)


@dataclass(frozen=True)
class KudosView:
    state: FormState
    colleagues: list[AgentSummary]
    cap: int
    given_today: int
    thanked: str | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.cap - self.given_today)

    @property
    def competencies(self) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in ALL_COMPETENCIES]


def kudos_view(
    app_service: Callcraft,
    engine: Engine,
    principal: Principal,
    zone: ZoneInfo,
    state: FormState | None = None,
    thanked: str | None = None,
) -> KudosView:
    assert principal.agent_id is not None
    now = datetime.now(UTC)
    colleagues = [a for a in list_agents(engine) if a.agent_id != principal.agent_id]
    return KudosView(
        state=state or FormState(values={"idempotency_key": [uuid4().hex]}),
        colleagues=sorted(colleagues, key=lambda a: (a.team_name, a.name)),
        cap=app_service.rulebooks().in_force_at(now).kudos_cap_per_giver_per_day,
        given_today=kudos_given_on_day(engine, principal.agent_id, now, zone),
        thanked=thanked,
    )


class KudosController(Controller):
    path = "/kudos"
    include_in_schema = False

    @staticmethod
    def _principal(request: Request[Any, Any, Any]) -> Principal | Response[Any]:
        return permitted_viewer(
            request, may_give_kudos, "kudos come from an agent, in their own name"
        )

    @staticmethod
    def _render(
        request: Request[Any, Any, Any],
        principal: Principal,
        view: KudosView,
        status_code: int = HTTP_200_OK,
    ) -> Template:
        name = "partials/kudos_form.html" if is_htmx(request) else "pages/kudos.html"
        return Template(
            template_name=name,
            context={"principal": principal, "view": view},
            status_code=status_code,
        )

    @get("/", name="kudos-form", sync_to_thread=True)
    def form(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        view = kudos_view(app_service, read_engine, principal, settings_zone)
        return self._render(request, principal, view)

    @post("/", name="kudos-give", sync_to_thread=True, status_code=HTTP_200_OK)
    def give(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        assert principal.agent_id is not None
        fields = form_fields(data)
        now = datetime.now(UTC)
        parsed = parse_kudos_form(
            fields, giver=principal.agent_id, recorded_by=principal.actor, now=now
        )
        errors = dict(parsed.errors)
        if parsed.value is not None:
            try:
                app_service.record(parsed.value, now=now)
            except KudosCapReached:
                errors[FORM] = (
                    "You have reached today's kudos cap, so these kudos were not given. "
                    "Your allowance starts again tomorrow."
                )
            except DomainError as error:
                errors[error_field(error, KUDOS_FIELDS, KUDOS_ERROR_ALIASES)] = error.message
        if errors:
            view = kudos_view(
                app_service, read_engine, principal, settings_zone, FormState(fields, errors)
            )
            return self._render(request, principal, view, HTTP_422_UNPROCESSABLE_ENTITY)
        wait_for_projection(int(app_service.recorder.max_notification_id() or 0))
        assert parsed.value is not None
        thanked = next(
            (a.name for a in list_agents(read_engine) if a.agent_id == parsed.value.agent_id),
            "your colleague",
        )
        view = kudos_view(app_service, read_engine, principal, settings_zone, thanked=thanked)
        return self._render(request, principal, view)
