"""GET /leaderboards: overall, per team or per competency; this week, month or all time.

Tabs switch in place with htmx: an htmx request gets only the board partial (the tabs and
the table), a normal request the whole page, so every view has a working URL. The viewer's
own row is highlighted; ``around=me`` centres the page on the viewer; ``page`` pages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from jinja2 import Environment
from litestar import Controller, MediaType, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Response
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup
from sqlalchemy import Engine, select

from domain.competencies import ALL_COMPETENCIES, Competency, parse_competency
from domain.exceptions import DomainError
from domain.principals import Principal, may_read
from projections.asof import leaderboard_as_of
from projections.queries import (
    LeaderboardPage,
    TeamSummary,
    board_reads,
    leaderboard,
    leaderboard_from,
    teams_from,
)
from projections.reading import reads_inline, run_reads
from projections.tables import agents
from projections.tails import BoardMemory
from web.as_of import AsOf, BadMoment, as_of_from_query, picker_max
from web.auth import is_htmx, send_to_sign_in, viewer
from web.fragments import Shells, slotted
from web.reading import Reading

PAGE_SIZE = 20
MAX_PAGE = 10_000
SCOPE_LABELS = {"overall": "Overall", "team": "Team", "competency": "Competency"}
WINDOW_LABELS = {"week": "This week", "month": "This month", "all": "All time"}
DEFAULT_SCOPE = "overall"
DEFAULT_WINDOW = "week"


class BadBoard(ValueError):
    """A query parameter the leaderboard cannot use; ``status`` 400, or 404 for a lost team."""

    def __init__(self, message: str, status: int = HTTP_400_BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class BoardView:
    """One leaderboard view: every value is validated, so URLs built from it are safe."""

    scope: str = DEFAULT_SCOPE
    window: str = DEFAULT_WINDOW
    team: UUID | None = None
    competency: Competency | None = None
    page: int = 1
    around_me: bool = False
    as_of: str | None = None  # a validated moment (AsOf.value): the board as it stood then

    def url(self, path: str = "/leaderboards", **changes: Any) -> str:
        view = replace(self, **changes)
        query: dict[str, str] = {"scope": view.scope, "window": view.window}
        if view.scope == "team" and view.team is not None:
            query["team"] = str(view.team)
        if view.scope == "competency" and view.competency is not None:
            query["competency"] = view.competency.value
        if view.around_me:
            query["around"] = "me"
        elif view.page > 1:
            query["page"] = str(view.page)
        if view.as_of is not None:
            query["as_of"] = view.as_of
        return f"{path}?{urlencode(query)}"

    @property
    def kept(self) -> dict[str, str]:
        """The query values the "as of" picker keeps (everything but the moment)."""
        query: dict[str, str] = {"scope": self.scope, "window": self.window}
        if self.scope == "team" and self.team is not None:
            query["team"] = str(self.team)
        if self.scope == "competency" and self.competency is not None:
            query["competency"] = self.competency.value
        if self.around_me:
            query["around"] = "me"
        return query


def team_of(engine: Engine, agent_id: UUID) -> UUID | None:
    with engine.connect() as connection:
        team: UUID | None = connection.execute(
            select(agents.c.team_id).where(agents.c.agent_id == agent_id)
        ).scalar_one_or_none()
    return team


def parse_view(
    principal: Principal,
    teams: list[TeamSummary],
    engine: Engine,
    *,
    scope: str | None,
    window: str | None,
    team: str | None,
    competency: str | None,
    page: str | None,
    around: str | None,
) -> BoardView:
    """The view the query asks for, with sensible defaults (the viewer's own team, the first
    competency); raises ``BadBoard`` with a message a person can act on."""
    scope = scope or DEFAULT_SCOPE
    window = window or DEFAULT_WINDOW
    if scope not in SCOPE_LABELS:
        raise BadBoard(f"There is no {scope!r} leaderboard: choose overall, team or competency.")
    if window not in WINDOW_LABELS:
        raise BadBoard(f"There is no {window!r} period: choose week, month or all.")
    number = 1
    if page:
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            raise BadBoard(f"The page must be a whole number from 1 to {MAX_PAGE}.")
        number = int(page)
    if around not in (None, "", "me"):
        raise BadBoard("around can only be 'me'.")
    around_me = around == "me" and principal.agent_id is not None
    team_id: UUID | None = None
    chosen: Competency | None = None
    if scope == "team":
        if team:
            try:
                team_id = UUID(team)
            except ValueError:
                raise BadBoard("That team id is not valid.") from None
            if all(t.team_id != team_id for t in teams):
                raise BadBoard("There is no such team.", HTTP_404_NOT_FOUND)
        else:
            team_id = default_team(principal, teams, engine)
            if team_id is None:
                raise BadBoard("There are no teams yet.", HTTP_404_NOT_FOUND)
    if scope == "competency":
        try:
            chosen = parse_competency(competency) if competency else ALL_COMPETENCIES[0]
        except DomainError as error:
            raise BadBoard(error.message) from None
    return BoardView(
        scope=scope,
        window=window,
        team=team_id,
        competency=chosen,
        page=number,
        around_me=around_me,
    )


def default_team(principal: Principal, teams: list[TeamSummary], engine: Engine) -> UUID | None:
    """The viewer's own team, else the first team they lead, else the first team."""
    if principal.agent_id is not None:
        own = team_of(engine, principal.agent_id)
        if own is not None:
            return own
    led = [t.team_id for t in teams if t.team_id in principal.led_team_ids]
    if led:
        return led[0]
    return teams[0].team_id if teams else None


@dataclass(frozen=True)
class Board:
    """What the board partial draws."""

    view: BoardView
    page: LeaderboardPage
    teams: list[TeamSummary]
    viewer_agent_id: UUID | None
    as_of: AsOf | None = None

    @property
    def first(self) -> int:
        return self.page.offset + 1 if self.page.rows else 0

    @property
    def last(self) -> int:
        return self.page.offset + len(self.page.rows)

    @property
    def page_number(self) -> int:
        return self.page.offset // PAGE_SIZE + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.page.total // PAGE_SIZE))

    @property
    def previous_url(self) -> str | None:
        if self.page.offset <= 0:
            return None
        return self.view.url(around_me=False, page=max(1, -(-self.page.offset // PAGE_SIZE)))

    @property
    def next_url(self) -> str | None:
        if self.last >= self.page.total:
            return None
        return self.view.url(around_me=False, page=self.last // PAGE_SIZE + 1)

    @property
    def team_name(self) -> str:
        return next((t.name for t in self.teams if t.team_id == self.view.team), "")

    @property
    def title(self) -> str:
        if self.view.scope == "team":
            what = self.team_name
        elif self.view.scope == "competency" and self.view.competency is not None:
            what = self.view.competency.label
        else:
            what = "Everyone"
        return f"{what} · {WINDOW_LABELS[self.view.window].lower()}"


def load_board(
    engine: Engine,
    view: BoardView,
    teams: list[TeamSummary],
    zone: ZoneInfo,
    viewer_agent_id: UUID | None,
    as_of: AsOf | None = None,
    *,
    memory: BoardMemory | None = None,
) -> Board:
    query: dict[str, Any] = {
        "scope": view.scope,
        "window": view.window,
        "team_id": view.team,
        "competency": view.competency.value if view.competency else None,
        "limit": PAGE_SIZE,
        "offset": (view.page - 1) * PAGE_SIZE,
        "around_agent": viewer_agent_id if view.around_me else None,
    }
    if as_of is None and memory is not None:
        page = leaderboard_from(memory, today=datetime.now(zone).date(), **query)
    elif as_of is None:
        page = leaderboard(engine, today=datetime.now(zone).date(), **query)
    else:
        page = leaderboard_as_of(engine, as_of.moment, **query)
    return Board(view=view, page=page, teams=teams, viewer_agent_id=viewer_agent_id, as_of=as_of)


def wants_partial(request: Request[Any, Any, Any]) -> bool:
    """An htmx swap gets the partial; a history restore (a cache miss) needs the full page."""
    return is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"


BOARD_TEMPLATE = "partials/leaderboard_board.html"
PAGE_TEMPLATE = "pages/leaderboards.html"
SHELLS = Shells()


def viewer_mark(board: Board) -> UUID | bool:
    """What of the viewer the board shows: their agent id when their row is on this page
    (it is highlighted), else only whether they are an agent (the "Near me" tab). Viewers
    with the same mark see the same board, so they share one rendering."""
    me = board.viewer_agent_id
    if me is not None and any(row.agent_id == me for row in board.page.rows):
        return me
    return me is not None


def _render_board(environment: Environment, board: Board, as_of_max: str) -> str:
    return environment.get_template(BOARD_TEMPLATE).render(
        board=board,
        scopes=SCOPE_LABELS,
        windows=WINDOW_LABELS,
        competencies=ALL_COMPETENCIES,
        as_of_max=as_of_max,
    )


def render_board(
    environment: Environment, board: Board, memory: BoardMemory, as_of_max: str
) -> Markup:
    """The board partial. Rendered once per read-model version for each view and viewer
    mark, with a slot for the picker's "now" (``web.fragments``), and kept in ``memory``:
    the key names every input of the template but the read models. A board as of a past
    moment is rendered every time."""
    if board.as_of is not None:
        return Markup(_render_board(environment, board, as_of_max))  # noqa: S704 - autoescaped
    around = board.viewer_agent_id if board.view.around_me else None
    key = ("board", board.view, board.page.window_start, around, viewer_mark(board))
    kept = memory.remember(key, lambda: slotted(partial(_render_board, environment, board)))
    if kept is None:
        return Markup(_render_board(environment, board, as_of_max))  # noqa: S704 - autoescaped
    return kept.fill(as_of_max)


def render_page(
    environment: Environment,
    request: Request[Any, Any, Any],
    principal: Principal,
    board_html: Markup,
) -> str:
    """The whole page around ``board_html``. The page around the board depends only on the
    viewer (the nav reads their roles, teams and name), the request's CSRF token and the
    path, so it is kept per process by exactly those, with a slot for the board."""
    csrf = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    path = request.url.path

    def render(board: Markup) -> str:
        return environment.get_template(PAGE_TEMPLATE).render(
            principal=principal, board_html=board, request=request, csrf_input=""
        )

    key = (
        PAGE_TEMPLATE,
        path,
        csrf,
        principal.actor,
        principal.display_name,
        principal.roles,
        principal.user_id,
        principal.agent_id,
        principal.led_team_ids,
        principal.is_token,
    )
    shell = SHELLS.get(key, render)
    return render(board_html) if shell is None else str(shell.fill(board_html))


def answer(
    request: Request[Any, Any, Any],
    principal: Principal,
    reading: Reading,
    environment: Environment,
) -> Response[Any]:
    """The whole page or the board partial, read on one connection at one read-model version
    (a board asked again before the read models move is read from memory, not the database)."""
    engine, zone = reading.engine, reading.zone
    as_of_max = picker_max(zone)
    headers = {"Vary": "HX-Request"}
    params = request.query_params
    error: tuple[str, int] | None = None
    with board_reads(engine) as memory:
        teams = list(teams_from(memory))
        try:
            view = parse_view(
                principal,
                teams,
                engine,
                scope=params.get("scope"),
                window=params.get("window"),
                team=params.get("team"),
                competency=params.get("competency"),
                page=params.get("page"),
                around=params.get("around"),
            )
            as_of = as_of_from_query(engine, params.get("as_of"), zone)
        except BadMoment as problem:
            error = (str(problem), HTTP_422_UNPROCESSABLE_ENTITY)
        except BadBoard as problem:
            error = (str(problem), problem.status)
        else:
            view = replace(view, as_of=as_of.value if as_of else None)
            board = load_board(engine, view, teams, zone, principal.agent_id, as_of, memory=memory)
            board_html = render_board(environment, board, memory, as_of_max)
    if error is not None:
        template = BOARD_TEMPLATE if wants_partial(request) else PAGE_TEMPLATE
        html = environment.get_template(template).render(
            principal=principal,
            zone=zone,
            scopes=SCOPE_LABELS,
            windows=WINDOW_LABELS,
            competencies=ALL_COMPETENCIES,
            as_of_max=as_of_max,
            board=None,
            error=error[0],
            request=request,
            csrf_input="",
        )
        return Response(html, status_code=error[1], media_type=MediaType.HTML, headers=headers)
    if wants_partial(request):
        return Response(str(board_html), media_type=MediaType.HTML, headers=headers)
    html = render_page(environment, request, principal, board_html)
    return Response(html, media_type=MediaType.HTML, headers=headers)


class LeaderboardController(Controller):
    path = "/leaderboards"
    include_in_schema = False

    @get("/", name="leaderboards")
    async def leaderboards(
        self, request: Request[Any, Any, Any], reading: NamedDependency[Reading]
    ) -> Response[Any]:
        principal = viewer(request)
        if principal is None:
            return send_to_sign_in(request)
        if not may_read(principal):
            raise PermissionDeniedException(detail="the leaderboards need a role")
        engine = request.app.template_engine
        if not isinstance(engine, JinjaTemplateEngine):
            raise TypeError("the leaderboard renders with the app's Jinja environment")
        return await run_reads(
            reads_inline(reading.engine), answer, request, principal, reading, engine.engine
        )
