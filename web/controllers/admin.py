"""The admin pages: accounts and roles (``/admin/users``), teams and their supervisors
(``/admin/teams``), API tokens (``/admin/tokens``). Admins only; everyone else gets 403.

Each page is one partial (``partials/admin_<page>.html``) that every form on it re-renders
through htmx; without script the forms post normally and a success redirects back (303).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from argon2 import PasswordHasher
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy import Engine, select

from domain.accounts import Role
from domain.application import Callcraft
from domain.exceptions import DomainError
from domain.principals import Principal, TokenScope, may_administer
from projections.queries import AgentSummary, TeamSummary, list_agents, list_teams
from projections.tables import users
from projections.tokens import TokenSummary, list_tokens
from web.auth import is_htmx, permitted_viewer
from web.forms import (
    FORM,
    NEW_USER_FIELDS,
    FormState,
    Parsed,
    error_field,
    form_fields,
    parse_new_token_form,
    parse_new_user_form,
    parse_role_change,
    parse_supervisor_assignment,
    parse_team_name,
)

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
WaitForProjection = Callable[[int], bool]
TOKEN_SCOPES: tuple[str, ...] = tuple(scope.value for scope in TokenScope)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserRow:
    user_id: UUID
    username: str
    display_name: str
    agent_id: UUID | None
    roles: tuple[str, ...]
    disabled: bool


def list_users(engine: Engine) -> list[UserRow]:
    with engine.connect() as connection:
        rows = connection.execute(select(users).order_by(users.c.username)).all()
    return [
        UserRow(
            user_id=r.user_id,
            username=r.username,
            display_name=r.display_name,
            agent_id=r.agent_id,
            roles=tuple(x for x in (r.roles or "").split(";") if x),
            disabled=bool(r.disabled),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AdminView:
    """One admin page's data and the state of each of its forms."""

    users: list[UserRow] = field(default_factory=list)
    agents: list[AgentSummary] = field(default_factory=list)
    teams: list[TeamSummary] = field(default_factory=list)
    tokens: list[TokenSummary] = field(default_factory=list)
    forms: Mapping[str, FormState] = field(default_factory=dict)
    notice: str | None = None
    secret: str | None = None

    def form(self, name: str) -> FormState:
        return self.forms.get(name, FormState())

    @property
    def roles(self) -> list[str]:
        return [r.value for r in Role]

    @property
    def scopes(self) -> tuple[str, ...]:
        return TOKEN_SCOPES

    @property
    def supervisors(self) -> list[UserRow]:
        return [u for u in self.users if Role.SUPERVISOR.value in u.roles and not u.disabled]

    def user_name(self, user_id: UUID) -> str:
        return next((u.display_name for u in self.users if u.user_id == user_id), str(user_id))

    def agent_name(self, agent_id: UUID | None) -> str:
        if agent_id is None:
            return ""
        return next((a.name for a in self.agents if a.agent_id == agent_id), str(agent_id))


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False

    @staticmethod
    def _principal(request: Request[Any, Any, Any]) -> Principal | Response[Any]:
        return permitted_viewer(request, may_administer, "the admin pages are for admins")

    @staticmethod
    def _view(
        page: str,
        app_service: Callcraft,
        engine: Engine,
        forms: Mapping[str, FormState] | None = None,
        notice: str | None = None,
        secret: str | None = None,
    ) -> AdminView:
        return AdminView(
            users=list_users(engine),
            agents=list_agents(engine) if page in {"users"} else [],
            teams=list_teams(engine) if page == "teams" else [],
            tokens=list_tokens(engine) if page == "tokens" else [],
            forms=forms or {},
            notice=notice,
            secret=secret,
        )

    def _answer(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        page: str,
        app_service: Callcraft,
        engine: Engine,
        forms: Mapping[str, FormState] | None = None,
        *,
        notice: str | None = None,
        secret: str | None = None,
        failed: bool = False,
    ) -> Template | Response[Any]:
        """Re-render the page (htmx: its partial); a plain successful post redirects back."""
        if not failed and not is_htmx(request) and request.method == "POST" and secret is None:
            return Redirect(path=f"/admin/{page}", status_code=HTTP_303_SEE_OTHER)
        view = self._view(page, app_service, engine, forms, notice, secret)
        name = f"partials/admin_{page}.html" if is_htmx(request) else f"pages/admin_{page}.html"
        return Template(
            template_name=name,
            context={"principal": principal, "view": view, "page": page},
            status_code=HTTP_422_UNPROCESSABLE_ENTITY if failed else HTTP_200_OK,
        )

    @staticmethod
    def _settle(app_service: Callcraft, wait_for_projection: WaitForProjection) -> None:
        wait_for_projection(int(app_service.recorder.max_notification_id() or 0))

    # --- pages ---------------------------------------------------------------------------

    @get("/", name="admin-index")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        return Redirect(path="/admin/users", status_code=HTTP_303_SEE_OTHER)

    def _page(
        self,
        request: Request[Any, Any, Any],
        page: str,
        app_service: Callcraft,
        read_engine: Engine,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        return self._answer(request, principal, page, app_service, read_engine)

    @get("/users", name="admin-users", sync_to_thread=True)
    def users_page(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
    ) -> Template | Response[Any]:
        return self._page(request, "users", app_service, read_engine)

    @get("/teams", name="admin-teams", sync_to_thread=True)
    def teams_page(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
    ) -> Template | Response[Any]:
        return self._page(request, "teams", app_service, read_engine)

    @get("/tokens", name="admin-tokens", sync_to_thread=True)
    def tokens_page(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
    ) -> Template | Response[Any]:
        return self._page(request, "tokens", app_service, read_engine)

    # --- users ---------------------------------------------------------------------------

    @post("/users", name="admin-register-user", sync_to_thread=True, status_code=HTTP_200_OK)
    def register_user(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        fields = form_fields(data)
        parsed = parse_new_user_form(fields)
        errors = dict(parsed.errors)
        if parsed.value is not None:
            new = parsed.value
            try:
                user_id = app_service.register_user(
                    username=new.username,
                    display_name=new.display_name,
                    password_hash=_hasher.hash(new.password),
                    agent_id=new.agent_id,
                    registered_by=principal.actor,
                )
                for role in new.roles:
                    app_service.grant_role(user_id=user_id, role=role, granted_by=principal.actor)
            except DomainError as error:
                errors[error_field(error, NEW_USER_FIELDS)] = error.message
        shown = {k: v for k, v in fields.items() if not k.startswith("password")}
        if errors:
            forms = {"register": FormState(shown, errors)}
            return self._answer(
                request, principal, "users", app_service, read_engine, forms, failed=True
            )
        self._settle(app_service, wait_for_projection)
        assert parsed.value is not None
        return self._answer(
            request,
            principal,
            "users",
            app_service,
            read_engine,
            notice=f"Registered {parsed.value.username}.",
        )

    @post(
        "/users/{user_id:uuid}/roles",
        name="admin-change-role",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def change_role(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        fields = form_fields(data)
        parsed = parse_role_change(fields)
        errors = dict(parsed.errors)
        change = parsed.value
        if change is not None:
            if not change.grant and change.role is Role.ADMIN and user_id == principal.user_id:
                errors["role"] = "You cannot revoke your own admin role; ask another admin."
            else:
                try:
                    if change.grant:
                        app_service.grant_role(
                            user_id=user_id, role=change.role, granted_by=principal.actor
                        )
                    else:
                        app_service.revoke_role(
                            user_id=user_id, role=change.role, revoked_by=principal.actor
                        )
                except DomainError as error:
                    errors["role"] = error.message
        return self._user_change_answer(
            request,
            principal,
            user_id,
            fields,
            errors,
            app_service,
            read_engine,
            wait_for_projection,
        )

    @post(
        "/users/{user_id:uuid}/disable",
        name="admin-disable-user",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def disable_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        errors: dict[str, str] = {}
        if user_id == principal.user_id:
            errors["user"] = "You cannot disable your own account."
        else:
            try:
                app_service.disable_user(user_id=user_id, disabled_by=principal.actor)
            except DomainError as error:
                errors["user"] = error.message
        return self._user_change_answer(
            request,
            principal,
            user_id,
            form_fields(data),
            errors,
            app_service,
            read_engine,
            wait_for_projection,
        )

    def _user_change_answer(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        user_id: FromPath[UUID],
        fields: dict[str, list[str]],
        errors: dict[str, str],
        app_service: Callcraft,
        read_engine: Engine,
        wait_for_projection: WaitForProjection,
    ) -> Template | Response[Any]:
        if errors:
            forms = {f"user:{user_id}": FormState(fields, errors)}
            return self._answer(
                request, principal, "users", app_service, read_engine, forms, failed=True
            )
        self._settle(app_service, wait_for_projection)
        return self._answer(request, principal, "users", app_service, read_engine)

    # --- teams ---------------------------------------------------------------------------

    @post("/teams", name="admin-form-team", sync_to_thread=True, status_code=HTTP_200_OK)
    def form_team(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        fields = form_fields(data)
        parsed: Parsed[str] = parse_team_name(fields)
        errors = dict(parsed.errors)
        if parsed.value is not None:
            try:
                app_service.form_team(name=parsed.value, formed_by=principal.actor)
            except DomainError as error:
                errors[error_field(error, ("name",))] = error.message
        if errors:
            forms = {"team": FormState(fields, errors)}
            return self._answer(
                request, principal, "teams", app_service, read_engine, forms, failed=True
            )
        self._settle(app_service, wait_for_projection)
        return self._answer(
            request,
            principal,
            "teams",
            app_service,
            read_engine,
            notice=f"Formed the team {parsed.value}.",
        )

    @post(
        "/teams/supervisors",
        name="admin-assign-supervisor",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def assign_supervisor(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        fields = form_fields(data)
        parsed = parse_supervisor_assignment(fields)
        errors = dict(parsed.errors)
        if parsed.value is not None:
            try:
                app_service.assign_supervisor(
                    team_id=parsed.value.team_id,
                    user_id=parsed.value.user_id,
                    assigned_by=principal.actor,
                )
            except DomainError as error:
                errors[error_field(error, ("team", "user"))] = error.message
        if errors:
            forms = {"supervisor": FormState(fields, errors)}
            return self._answer(
                request, principal, "teams", app_service, read_engine, forms, failed=True
            )
        self._settle(app_service, wait_for_projection)
        return self._answer(
            request, principal, "teams", app_service, read_engine, notice="Supervisor assigned."
        )

    # --- tokens --------------------------------------------------------------------------

    @post("/tokens", name="admin-issue-token", sync_to_thread=True, status_code=HTTP_200_OK)
    def issue_token(
        self,
        request: Request[Any, Any, Any],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        fields = form_fields(data)
        parsed = parse_new_token_form(fields, known_scopes=TOKEN_SCOPES)
        errors = dict(parsed.errors)
        secret: str | None = None
        if parsed.value is not None:
            try:
                _, secret = app_service.issue_token(
                    name=parsed.value.name,
                    scopes=list(parsed.value.scopes),
                    issued_by=principal.actor,
                )
            except DomainError as error:
                errors[error_field(error, ("name", "scopes"))] = error.message
        if errors or secret is None:
            forms = {"token": FormState(fields, errors or {FORM: "The token was not issued."})}
            return self._answer(
                request, principal, "tokens", app_service, read_engine, forms, failed=True
            )
        self._settle(app_service, wait_for_projection)
        assert parsed.value is not None
        return self._answer(
            request,
            principal,
            "tokens",
            app_service,
            read_engine,
            notice=f"Issued the token {parsed.value.name}. Copy its secret now: it is shown once.",
            secret=secret,
        )

    @post(
        "/tokens/{token_id:uuid}/revoke",
        name="admin-revoke-token",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def revoke_token(
        self,
        request: Request[Any, Any, Any],
        token_id: FromPath[UUID],
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        wait_for_projection: NamedDependency[WaitForProjection],
        data: FormBody,
    ) -> Template | Response[Any]:
        principal = self._principal(request)
        if isinstance(principal, Response):
            return principal
        try:
            app_service.revoke_token(token_id=token_id, revoked_by=principal.actor)
        except DomainError as error:
            forms = {f"token:{token_id}": FormState(form_fields(data), {FORM: error.message})}
            return self._answer(
                request, principal, "tokens", app_service, read_engine, forms, failed=True
            )
        self._settle(app_service, wait_for_projection)
        return self._answer(
            request, principal, "tokens", app_service, read_engine, notice="Token revoked."
        )
