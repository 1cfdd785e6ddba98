"""GET /api/v1/leaderboards: overall, per team or per competency; week, month or all time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, QueryParameter

from api.auth.guards import principal_of, requires_read
from api.routes.as_of import AS_OF_DESCRIPTION, moment_of
from api.routes.deps import today
from api.routes.errors import BadParameter, error_responses
from api.runtime import Runtime
from domain.competencies import parse_competency
from domain.exceptions import DomainError
from projections.asof import leaderboard_as_of
from projections.queries import (
    MAX_LIMIT,
    MAX_OFFSET,
    SCOPES,
    WINDOW_NAMES,
    LeaderboardRow,
    QueryError,
    leaderboard,
    list_teams,
)
from projections.reading import reads_inline, run_reads

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Leaderboard:
    scope: str
    window: str
    window_start: date
    team: UUID | None
    competency: str | None
    total: int
    offset: int
    limit: int
    rows: list[LeaderboardRow]
    as_of: datetime | None = None


def _check(
    runtime: NamedDependency[Runtime],
    scope: str,
    window: str,
    team: UUID | None,
    competency: str | None,
    limit: int,
    offset: int,
) -> str | None:
    if scope not in SCOPES:
        raise BadParameter(
            f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", field="scope"
        )
    if window not in WINDOW_NAMES:
        raise BadParameter(
            f"window must be one of {', '.join(WINDOW_NAMES)}, not {window!r}", field="window"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise BadParameter(f"limit must be from 1 to {MAX_LIMIT}, not {limit}", field="limit")
    if offset < 0:
        raise BadParameter(f"offset must not be negative, not {offset}", field="offset")
    if scope == "team":
        if team is None:
            raise BadParameter("a team leaderboard needs team=<team id>", field="team")
        if all(t.team_id != team for t in list_teams(runtime.read_engine)):
            raise NotFoundException(detail=f"no team with id {team}")
    elif team is not None:
        raise BadParameter("team applies only to scope=team", field="team")
    if scope == "competency":
        if competency is None:
            raise BadParameter(
                "a competency leaderboard needs competency=<name>", field="competency"
            )
        try:
            return parse_competency(competency).value
        except DomainError as error:
            raise BadParameter(error.message, field="competency") from None
    if competency is not None:
        raise BadParameter("competency applies only to scope=competency", field="competency")
    return None


def _around(request: Request[Any, Any, Any], around: str | None) -> UUID | None:
    """``me`` is the caller's own agent id; anything else must be an agent id."""
    if around is None:
        return None
    if around.strip().lower() == "me":
        agent_id = principal_of(request).agent_id
        if agent_id is None:
            raise BadParameter(
                "around=me needs the caller to be an agent; pass an agent id instead",
                field="around",
            )
        return agent_id
    try:
        return UUID(around)
    except ValueError:
        raise BadParameter(
            f"around must be 'me' or an agent id, not {around!r}", field="around"
        ) from None


@get(
    "/leaderboards",
    tags=["leaderboards"],
    guards=[requires_read],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def leaderboards(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    board: Annotated[str, QueryParameter(name="scope")] = "overall",
    window: FromQuery[str] = "all",
    team: FromQuery[UUID | None] = None,
    competency: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
    around: FromQuery[str | None] = None,
    as_of: Annotated[str | None, QueryParameter(description=AS_OF_DESCRIPTION)] = None,
) -> Leaderboard:
    """A page of a leaderboard; ``around=<agent id>`` (or ``around=me`` for the calling agent)
    centres the page on that agent; ``as_of`` shows it as it stood at a past moment."""
    scope = board  # "scope" is Litestar's own keyword: the ASGI scope
    around_agent = _around(request, around)
    return await run_reads(
        reads_inline(runtime.read_engine),
        _leaderboard,
        runtime,
        (scope, window, team, competency, limit, offset, around_agent, as_of),
    )


def _leaderboard(
    runtime: Runtime,
    asked: tuple[str, str, UUID | None, str | None, int, int, UUID | None, str | None],
) -> Leaderboard:
    scope, window, team, competency, limit, offset, around_agent, as_of = asked
    column = _check(runtime, scope, window, team, competency, limit, offset)
    moment = moment_of(runtime, as_of)
    query: dict[str, Any] = {
        "scope": scope,
        "window": window,
        "team_id": team,
        "competency": column,
        "limit": limit,
        "offset": offset,
        "around_agent": around_agent,
    }
    try:
        if moment is None:
            page = leaderboard(runtime.read_engine, today=today(runtime), **query)
        else:
            page = leaderboard_as_of(runtime.read_engine, moment, **query)
    except QueryError as error:
        raise BadParameter(str(error), field=None) from None
    return Leaderboard(
        scope=scope,
        window=window,
        window_start=page.window_start,
        team=team,
        competency=column,
        total=page.total,
        offset=page.offset,
        limit=limit,
        rows=page.rows,
        as_of=moment.at if moment else None,
    )
