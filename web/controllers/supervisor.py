"""The supervisor's pages: record a recognition (``/record``) and the team dashboard
(``/teams/{team_id}``) with its retractions.

Recording checks the form (``web.forms``), then the permission (``may_record_for`` the
agent's team), then lets the application decide; any refusal comes back as a message on the
field it concerns, with status 422, and nothing is recorded. After a recording the page waits
(briefly, bounded) for the projections, so the confirmation shows the XP it earned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_403_FORBIDDEN,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from sqlalchemy import Engine, func, select

from domain.accounts import Role
from domain.application import Callcraft
from domain.competencies import ALL_COMPETENCIES
from domain.exceptions import DomainError, IdempotencyKeyReused, NotPermitted
from domain.facts import RecognitionKind
from domain.principals import Principal, may_administer, may_audit, may_record_for
from domain.streaks import StreakSummary, current_streak, previous_working_day
from projections.queries import (
    ActivityItem,
    AgentSummary,
    XpExplanation,
    explain_xp,
    latest_rulebook_history,
    list_agents,
    team_activity,
)
from projections.tables import agent_profiles, recognitions, teams
from web.auth import is_htmx, permitted_viewer
from web.forms import (
    FORM,
    KIND_FIELDS,
    KIND_LABELS,
    RECORD_FIELDS,
    RECORDABLE_KINDS,
    RETRACTION_FIELDS,
    FormState,
    error_field,
    form_fields,
    local_moment_value,
    parse_record_form,
    parse_retraction_form,
    recordable_kind,
    text_of,
)

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
WaitForProjection = Callable[[int], bool]

RECENT_RECORDINGS = 20
QUIET_WORKING_DAYS = 5
RECOGNITION_KINDS = frozenset(kind.value for kind in RecognitionKind)
RESUBMITTED = (
    "This form already recorded something else, so nothing new was recorded. "
    "Check the values and press Record again to record them as a new recognition."
)


# ------------------------------------------------------------------------------ helpers


def _now() -> datetime:
    return datetime.now(ZoneInfo("UTC"))


def may_record_anywhere(principal: Principal) -> bool:
    """A person who may record for at least one team: an admin, or a supervisor leading one."""
    if principal.is_token:
        return False
    return principal.has(Role.ADMIN) or (
        principal.has(Role.SUPERVISOR) and bool(principal.led_team_ids)
    )


def may_view_team(principal: Principal, team_id: UUID) -> bool:
    """The team's supervisors, auditors and admins (people, not tokens)."""
    if principal.is_token:
        return False
    return may_audit(principal) or (
        principal.has(Role.SUPERVISOR) and team_id in principal.led_team_ids
    )


def recordable_agents(engine: Engine, principal: Principal) -> list[AgentSummary]:
    """The present agents this principal may record for, by team then name."""
    agents = [a for a in list_agents(engine) if may_record_for(principal, a.team_id)]
    return sorted(agents, key=lambda a: (a.team_name, a.name))


def log_position(app_service: Callcraft) -> int:
    return int(app_service.recorder.max_notification_id() or 0)


def explanation_of(engine: Engine, agent_id: UUID, recording_id: UUID) -> XpExplanation | None:
    for line in explain_xp(engine, agent_id):
        if line.recording_id == recording_id:
            return line
    return None


@dataclass(frozen=True)
class RecordView:
    """Everything the record form shows."""

    state: FormState
    agents: list[AgentSummary]
    kind: RecognitionKind | None
    now_local: str

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(k.value, KIND_LABELS[k]) for k in RECORDABLE_KINDS]

    @property
    def competencies(self) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in ALL_COMPETENCIES]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind] if self.kind else ""

    @property
    def kind_fields(self) -> tuple[str, ...]:
        return KIND_FIELDS[self.kind] if self.kind else ()

    @property
    def teams(self) -> list[tuple[str, list[AgentSummary]]]:
        grouped: dict[str, list[AgentSummary]] = {}
        for agent in self.agents:
            grouped.setdefault(agent.team_name, []).append(agent)
        return list(grouped.items())


def record_view(
    engine: Engine,
    principal: Principal,
    zone: ZoneInfo,
    state: FormState | None = None,
) -> RecordView:
    now_local = local_moment_value(_now(), zone)
    if state is None:
        state = FormState(
            values={
                "occurred_at": [now_local],
                "idempotency_key": [uuid4().hex],
                "feedback_kind": ["praise"],
            }
        )
    return RecordView(
        state=state,
        agents=recordable_agents(engine, principal),
        kind=recordable_kind(state.value("type")),
        now_local=now_local,
    )


@dataclass(frozen=True)
class Confirmation:
    agent_name: str
    kind_label: str
    created: bool
    explanation: XpExplanation | None


# --------------------------------------------------------------------------- team dashboard


@dataclass(frozen=True)
class TeamAgent:
    agent: AgentSummary
    current_streak: int
    last_recognised: datetime | None


@dataclass(frozen=True)
class RecentRecording:
    item: ActivityItem
    recorded_by: str
    may_retract: bool
    state: FormState


@dataclass(frozen=True)
class TeamView:
    team_id: UUID
    name: str
    agents: list[TeamAgent]
    quiet: list[TeamAgent]
    quiet_since: date
    quiet_days: int
    recordings: list[RecentRecording]


def _team_name(engine: Engine, team_id: UUID) -> str | None:
    with engine.connect() as connection:
        name: str | None = connection.execute(
            select(teams.c.name).where(teams.c.team_id == team_id)
        ).scalar_one_or_none()
    return name


def _team_agents(engine: Engine, team_id: UUID, today: date) -> list[TeamAgent]:
    members = list_agents(engine, team_id)
    ids = [m.agent_id for m in members]
    working_days = latest_rulebook_history(engine).latest.streak_working_days
    with engine.connect() as connection:
        profiles = {
            row.agent_id: row
            for row in connection.execute(
                select(
                    agent_profiles.c.agent_id,
                    agent_profiles.c.best_streak,
                    agent_profiles.c.streak_run,
                    agent_profiles.c.last_active_day,
                ).where(agent_profiles.c.agent_id.in_(ids))
            )
        }
        last_seen: dict[UUID, datetime] = {
            row[0]: row[1]
            for row in connection.execute(
                select(recognitions.c.agent_id, func.max(recognitions.c.occurred_at))
                .where(recognitions.c.agent_id.in_(ids), recognitions.c.retracted.is_(False))
                .group_by(recognitions.c.agent_id)
            )
        }
    result: list[TeamAgent] = []
    for member in members:
        row = profiles.get(member.agent_id)
        summary = StreakSummary(
            best=row.best_streak if row else 0,
            run=row.streak_run if row else 0,
            last_active_day=row.last_active_day if row else None,
        )
        result.append(
            TeamAgent(
                agent=member,
                current_streak=current_streak(summary, today, working_days),
                last_recognised=last_seen.get(member.agent_id),
            )
        )
    return result


def quiet_since(engine: Engine, today: date, days: int) -> date:
    """The first local day of the last ``days`` working days up to today."""
    working_days = latest_rulebook_history(engine).latest.streak_working_days
    day = today if today.isoweekday() in working_days else previous_working_day(today, working_days)
    for _ in range(days - 1):
        day = previous_working_day(day, working_days)
    return day


def _recorders(engine: Engine, recording_ids: list[UUID]) -> dict[UUID, str]:
    if not recording_ids:
        return {}
    with engine.connect() as connection:
        return {
            row.recording_id: row.recorded_by
            for row in connection.execute(
                select(recognitions.c.recording_id, recognitions.c.recorded_by).where(
                    recognitions.c.recording_id.in_(recording_ids)
                )
            )
        }


def may_retract(principal: Principal, recorded_by: str) -> bool:
    """Admins retract any recording; a supervisor those they recorded; auditors none."""
    if may_administer(principal):
        return True
    return principal.has(Role.SUPERVISOR) and recorded_by == principal.actor


def recent_recordings(
    engine: Engine,
    principal: Principal,
    team_id: UUID,
    states: dict[UUID, FormState] | None = None,
) -> list[RecentRecording]:
    items = [
        item
        for item in team_activity(engine, team_id, limit=RECENT_RECORDINGS)
        if item.recording_id is not None and item.kind in RECOGNITION_KINDS
    ]
    recorders = _recorders(engine, [i.recording_id for i in items if i.recording_id])
    states = states or {}
    result: list[RecentRecording] = []
    for item in items:
        assert item.recording_id is not None
        recorded_by = recorders.get(item.recording_id, "")
        result.append(
            RecentRecording(
                item=item,
                recorded_by=recorded_by,
                may_retract=not item.retracted and may_retract(principal, recorded_by),
                state=states.get(item.recording_id, FormState()),
            )
        )
    return result


def team_view(
    engine: Engine,
    principal: Principal,
    team_id: UUID,
    zone: ZoneInfo,
    states: dict[UUID, FormState] | None = None,
) -> TeamView | None:
    name = _team_name(engine, team_id)
    if name is None:
        return None
    today = datetime.now(zone).date()
    members = _team_agents(engine, team_id, today)
    since = quiet_since(engine, today, QUIET_WORKING_DAYS)
    quiet = [
        m
        for m in members
        if m.last_recognised is None or m.last_recognised.astimezone(zone).date() < since
    ]
    return TeamView(
        team_id=team_id,
        name=name,
        agents=members,
        quiet=quiet,
        quiet_since=since,
        quiet_days=QUIET_WORKING_DAYS,
        recordings=recent_recordings(engine, principal, team_id, states),
    )


# ------------------------------------------------------------------------------ controllers


class RecordController(Controller):
    """``/record``: the record-recognition form, its type fields, its validation, its POST."""

    path = "/record"
    include_in_schema = False

    @staticmethod
    def _principal(request: Request[Any, Any, Any]) -> Principal | Response[Any]:
        return permitted_viewer(
            request,
            may_record_anywhere,
            "recording recognitions needs a supervisor who leads a team",
        )

    @staticmethod
    def _render(
        request: Request[Any, Any, Any],
        principal: Principal,
        view: RecordView,
        *,
        zone: ZoneInfo,
        status_code: int = HTTP_200_OK,
        confirmation: Confirmation | None = None,
    ) -> Template:
        context = {"principal": principal, "view": view, "zone": zone}
        if confirmation is not None:
            context["confirmation"] = confirmation
        if is_htmx(request):
            name = (
                "partials/record_confirmation.html" if confirmation else "partials/record_form.html"
            )
        else:
            name = "pages/record.html"
        return Template(template_name=name, context=context, status_code=status_code)

    @get("/", name="record-form", sync_to_thread=True)
    def form(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        view = record_view(read_engine, principal, settings_zone)
        wanted = request.query_params.get("agent")
        if wanted and any(str(a.agent_id) == wanted for a in view.agents):
            values = {**view.state.values, "agent": [wanted]}
            view = record_view(read_engine, principal, settings_zone, FormState(values=values))
        return self._render(request, principal, view, zone=settings_zone)

    @get("/fields", name="record-kind-fields", sync_to_thread=True)
    def kind_fields(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        """The chosen type's own fieldset (htmx swaps it in when the type changes)."""
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        state = FormState(
            values={"type": [request.query_params.get("type", "")], "feedback_kind": ["praise"]}
        )
        view = RecordView(
            state=state,
            agents=[],
            kind=recordable_kind(state.value("type")),
            now_local=local_moment_value(_now(), settings_zone),
        )
        return Template(
            template_name="partials/record_kind_fields.html",
            context={"principal": principal, "view": view},
        )

    @post("/validate", name="record-validate", sync_to_thread=True, status_code=HTTP_200_OK)
    def validate(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
        data: FormBody,
    ) -> Template | Response[Any]:
        """Check the form as typed so far; messages only for fields that hold something."""
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        fields = form_fields(data)
        parsed = parse_record_form(
            fields, recorded_by=principal.actor, zone=settings_zone, now=_now()
        )
        shown = {name: message for name, message in parsed.errors.items() if text_of(fields, name)}
        view = record_view(read_engine, principal, settings_zone, FormState(fields, shown))
        return Template(
            template_name="partials/record_form.html",
            context={"principal": principal, "view": view, "zone": settings_zone},
        )

    @post("/", name="record-submit", sync_to_thread=True, status_code=HTTP_200_OK)
    def submit(
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
        fields = form_fields(data)

        def again(errors: dict[str, str], status: int) -> Template:
            view = record_view(read_engine, principal, settings_zone, FormState(fields, errors))
            return self._render(request, principal, view, zone=settings_zone, status_code=status)

        if text_of(fields, "_refresh"):  # the no-script "show this type's fields" button
            return again({}, HTTP_200_OK)
        now = _now()
        parsed = parse_record_form(fields, recorded_by=principal.actor, zone=settings_zone, now=now)
        if parsed.value is None:
            return again(parsed.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        command = parsed.value
        try:
            agent = app_service.agent(command.agent_id)
        except DomainError as error:
            return again({"agent": error.message}, HTTP_422_UNPROCESSABLE_ENTITY)
        if not may_record_for(principal, agent.team_id):
            return again(
                {"agent": f"You record only for the teams you lead; {agent.name} is not in one."},
                HTTP_403_FORBIDDEN,
            )
        try:
            outcome = app_service.record(command, now=now)
        except IdempotencyKeyReused:
            # The form was sent before with other values (say, after going back): start afresh.
            fields["idempotency_key"] = [uuid4().hex]
            return again({FORM: RESUBMITTED}, HTTP_422_UNPROCESSABLE_ENTITY)
        except DomainError as error:
            status = (
                HTTP_403_FORBIDDEN
                if isinstance(error, NotPermitted)
                else HTTP_422_UNPROCESSABLE_ENTITY
            )
            return again({error_field(error, RECORD_FIELDS): error.message}, status)
        wait_for_projection(log_position(app_service))
        confirmation = Confirmation(
            agent_name=agent.name,
            kind_label=KIND_LABELS[command.kind],
            created=outcome.created,
            explanation=explanation_of(read_engine, command.agent_id, outcome.recording_id),
        )
        fresh = record_view(read_engine, principal, settings_zone)
        return self._render(
            request, principal, fresh, zone=settings_zone, confirmation=confirmation
        )


class TeamController(Controller):
    """``/teams/{team_id}``: the team dashboard, and retractions of recent recordings."""

    path = "/teams/{team_id:uuid}"
    include_in_schema = False

    @staticmethod
    def _principal(request: Request[Any, Any, Any], team_id: UUID) -> Principal | Response[Any]:
        return permitted_viewer(
            request,
            lambda principal: may_view_team(principal, team_id),
            "this team's dashboard is for its supervisors, auditors and admins",
        )

    @get("/", name="team-dashboard", sync_to_thread=True)
    def dashboard(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[UUID],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = self._principal(request, team_id)
        if isinstance(principal, Response):
            return principal
        view = team_view(read_engine, principal, team_id, settings_zone)
        if view is None:
            raise NotFoundException(detail=f"no team with id {team_id}")
        return Template(
            template_name="pages/team.html",
            context={
                "principal": principal,
                "team": view,
                "zone": settings_zone,
                "can_record": may_record_for(principal, team_id),
            },
        )

    @post("/retractions", name="team-retract", sync_to_thread=True, status_code=HTTP_200_OK)
    def retract(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[UUID],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request, team_id)
        if isinstance(principal, Response):
            return principal
        if not (may_administer(principal) or may_record_for(principal, team_id)):
            raise PermissionDeniedException(detail="auditors look; they never retract")
        fields = form_fields(data)
        parsed = parse_retraction_form(fields)
        errors = dict(parsed.errors)
        if parsed.value is not None:
            try:
                app_service.retract(
                    recording_id=parsed.value.recording_id,
                    retracted_by=principal.actor,
                    by_admin=may_administer(principal),
                    reason=parsed.value.reason,
                )
            except DomainError as error:
                errors[error_field(error, RETRACTION_FIELDS, {"recording_id": FORM})] = (
                    error.message
                )
        if not errors:
            wait_for_projection(log_position(app_service))
        recording_id = parsed.value.recording_id if parsed.value else None
        if recording_id is None:
            raw = text_of(fields, "recording_id")
            recording_id = UUID(raw) if _is_uuid(raw) else None
        status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
        states = {recording_id: FormState(fields, errors)} if recording_id and errors else {}
        if is_htmx(request) and recording_id is not None:
            rows = recent_recordings(read_engine, principal, team_id, states)
            row = next((r for r in rows if r.item.recording_id == recording_id), None)
            if row is not None:
                return Template(
                    template_name="partials/retraction_form.html",
                    context={
                        "principal": principal,
                        "row": row,
                        "team_id": team_id,
                        "zone": settings_zone,
                    },
                    status_code=status,
                )
        if not errors:
            return Redirect(path=f"/teams/{team_id}", status_code=HTTP_303_SEE_OTHER)
        view = team_view(read_engine, principal, team_id, settings_zone, states)
        if view is None:
            raise NotFoundException(detail=f"no team with id {team_id}")
        return Template(
            template_name="pages/team.html",
            context={
                "principal": principal,
                "team": view,
                "zone": settings_zone,
                "can_record": may_record_for(principal, team_id),
                "retraction_error": errors.get(FORM) or next(iter(errors.values())),
            },
            status_code=status,
        )


def _is_uuid(raw: str) -> bool:
    try:
        UUID(raw)
    except ValueError:
        return False
    return True
