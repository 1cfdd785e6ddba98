"""Read-side queries: plain dataclasses out, never ORM objects or rows.

Leaderboards rank every present (not departed) agent in scope, with 0 XP when nothing was
earned in the window; agents with equal XP share a rank (1, 2, 2, 4) and are listed by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Literal, get_args
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from domain.competencies import ALL_COMPETENCIES, Competency
from domain.periods import TOTAL, window_start
from domain.rulebook import Publication, RulebookHistory, parse_rulebook
from domain.streaks import StreakSummary, current_streak
from projections.boards import ranked_page
from projections.ranked import BoardKey
from projections.ranked import LeaderboardRow as LeaderboardRow  # re-exported
from projections.tables import (
    XP_COLUMNS,
    activity,
    agent_badges,
    agent_profiles,
    agents,
    recognitions,
    rulebooks,
    team_supervisors,
    teams,
)
from projections.tails import BoardMemory

Scope = Literal["overall", "team", "competency"]
SCOPES: tuple[str, ...] = get_args(Scope)
WindowName = Literal["week", "month", "all"]
WINDOW_NAMES: tuple[str, ...] = get_args(WindowName)
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000
"""Far beyond any board or history; larger offsets are refused, not sent to the database
(SQLite's integers stop at 2**63)."""


class QueryError(ValueError):
    """A query was asked something it cannot answer (unknown scope, missing team, ...)."""


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class LeaderboardPage:
    rows: list[LeaderboardRow]
    total: int
    window_start: date
    offset: int = 0


@dataclass(frozen=True)
class BadgeView:
    key: str
    name: str
    description: str
    family: str
    tier: str | None
    progress: int
    next_threshold: int | None
    earned_at: datetime | None
    evidence: list[UUID]


@dataclass(frozen=True)
class AgentProfile:
    agent_id: UUID
    handle: str
    name: str
    team_id: UUID
    team_name: str
    enrolled_at: datetime
    departed_at: datetime | None
    level: int
    xp_total: int
    xp_into_level: int
    xp_for_next_level: int | None
    xp_by_competency: dict[str, int]
    current_streak: int
    best_streak: int
    badges: list[BadgeView]


@dataclass(frozen=True)
class ActivityItem:
    notification_id: int
    occurred_at: datetime
    recorded_at: datetime
    agent_id: UUID | None
    team_id: UUID | None
    kind: str
    summary: str
    recording_id: UUID | None
    retracted: bool


@dataclass(frozen=True)
class AgentSummary:
    agent_id: UUID
    handle: str
    name: str
    team_id: UUID
    team_name: str
    enrolled_at: datetime
    departed_at: datetime | None
    level: int
    xp_total: int


@dataclass(frozen=True)
class TeamSummary:
    team_id: UUID
    name: str
    members: int
    supervisors: list[UUID]


@dataclass(frozen=True)
class XpExplanation:
    recording_id: UUID
    kind: str
    occurred_at: datetime
    competencies: list[str]
    points: int
    rule: str
    rulebook_version: int
    capped: bool


# ------------------------------------------------------------------------------ helpers


def _by_name(engine: Engine, column: Any) -> Any:
    """Order names by code point on every database (PostgreSQL's locale would not)."""
    return column.collate("C") if engine.dialect.name == "postgresql" else column


def latest_rulebook_history(engine: Engine) -> RulebookHistory:
    with engine.connect() as connection:
        rows = connection.execute(
            select(rulebooks.c.version, rulebooks.c.effective_from, rulebooks.c.rules)
        ).all()
    if not rows:
        return RulebookHistory.default()
    return RulebookHistory(
        tuple(Publication(row.effective_from, parse_rulebook(row.rules)) for row in rows)
    )


# ---------------------------------------------------------------------------- leaderboard


@contextmanager
def board_reads(engine: Engine) -> Iterator[BoardMemory]:
    """One connection and the read-model version it sees, for the reads of one page
    (:func:`leaderboard_from`, :func:`teams_from`, and whatever the caller remembers)."""
    memory = BoardMemory.open(engine)
    try:
        yield memory
    finally:
        memory.close()


def leaderboard(
    engine: Engine,
    *,
    scope: str = "overall",
    window: str = "all",
    today: date,
    team_id: UUID | None = None,
    competency: str | None = None,
    limit: int = 20,
    offset: int = 0,
    around_agent: UUID | None = None,
) -> LeaderboardPage:
    """One page of a leaderboard. ``around_agent`` centres the page on that agent (when the
    agent is on this board; otherwise ``offset`` applies)."""
    with board_reads(engine) as memory:
        return leaderboard_from(
            memory,
            scope=scope,
            window=window,
            today=today,
            team_id=team_id,
            competency=competency,
            limit=limit,
            offset=offset,
            around_agent=around_agent,
        )


def leaderboard_from(
    memory: BoardMemory,
    *,
    scope: str = "overall",
    window: str = "all",
    today: date,
    team_id: UUID | None = None,
    competency: str | None = None,
    limit: int = 20,
    offset: int = 0,
    around_agent: UUID | None = None,
) -> LeaderboardPage:
    """:func:`leaderboard` on ``memory``'s connection. A page is remembered until the read
    models move (the same page asked again is a dictionary look-up); the caller must not
    change it."""
    if scope not in SCOPES:
        raise QueryError(f"unknown scope {scope!r}; expected one of {list(SCOPES)}")
    if window not in WINDOW_NAMES:
        raise QueryError(f"unknown window {window!r}; expected one of {list(WINDOW_NAMES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise QueryError(f"offset must be from 0 to {MAX_OFFSET}, not {offset}")
    column = TOTAL
    if scope == "competency":
        if competency is None:
            raise QueryError("a competency leaderboard needs a competency")
        try:
            column = Competency(competency).value
        except ValueError:
            known = [c.value for c in ALL_COMPETENCIES]
            raise QueryError(
                f"unknown competency {competency!r}; expected one of {known}"
            ) from None
    if scope == "team" and team_id is None:
        raise QueryError("a team leaderboard needs a team")
    start = window_start(window, today)
    key = BoardKey(window, start, column, team_id if scope == "team" else None)

    def read() -> LeaderboardPage:
        page = ranked_page(
            memory.connection, key, limit=limit, offset=offset, around=around_agent, memory=memory
        )
        return LeaderboardPage(
            rows=page.rows, total=page.total, window_start=start, offset=page.offset
        )

    return memory.remember(("leaderboard", key, limit, offset, around_agent), read)


# ------------------------------------------------------------------------------ profiles


def agent_profile(
    engine: Engine, agent_id: UUID, *, today: date | None = None, timezone: tzinfo
) -> AgentProfile | None:
    """An agent's standing: level, XP, streaks and every badge of the newest rulebook.

    ``today`` (a local day in ``timezone``; now if not given) decides whether the streak is
    still alive.
    """
    if today is None:
        today = datetime.now(timezone).date()
    with engine.connect() as connection:
        row = connection.execute(
            select(
                agents,
                func.coalesce(teams.c.name, "").label("team_name"),
                *(agent_profiles.c[c] for c in XP_COLUMNS),
                agent_profiles.c.xp_total,
                agent_profiles.c.level,
                agent_profiles.c.xp_into_level,
                agent_profiles.c.xp_for_next_level,
                agent_profiles.c.best_streak,
                agent_profiles.c.streak_run,
                agent_profiles.c.last_active_day,
            )
            .select_from(
                agents.outerjoin(teams, teams.c.team_id == agents.c.team_id).outerjoin(
                    agent_profiles, agent_profiles.c.agent_id == agents.c.agent_id
                )
            )
            .where(agents.c.agent_id == agent_id)
        ).first()
        if row is None:
            return None
        badge_rows = {
            b.badge_key: b
            for b in connection.execute(
                select(agent_badges).where(agent_badges.c.agent_id == agent_id)
            )
        }
    latest = latest_rulebook_history(engine).latest
    badges: list[BadgeView] = []
    for definition in latest.badges:
        b = badge_rows.get(definition.key)
        badges.append(
            BadgeView(
                key=definition.key,
                name=definition.name,
                description=definition.description,
                family=definition.family,
                tier=b.tier if b else None,
                progress=b.progress if b else 0,
                next_threshold=b.next_threshold if b else definition.thresholds.bronze,
                earned_at=b.earned_at if b else None,
                evidence=[UUID(e) for e in b.evidence] if b else [],
            )
        )
    summary = StreakSummary(
        best=row.best_streak or 0, run=row.streak_run or 0, last_active_day=row.last_active_day
    )
    return AgentProfile(
        agent_id=row.agent_id,
        handle=row.handle,
        name=row.name,
        team_id=row.team_id,
        team_name=row.team_name,
        enrolled_at=row.enrolled_at,
        departed_at=row.departed_at,
        level=row.level or 1,
        xp_total=row.xp_total or 0,
        xp_into_level=row.xp_into_level or 0,
        xp_for_next_level=row.xp_for_next_level,
        xp_by_competency={
            c.value: int(getattr(row, col) or 0)
            for c, col in zip(ALL_COMPETENCIES, XP_COLUMNS, strict=True)
        },
        current_streak=current_streak(summary, today, latest.streak_working_days),
        best_streak=summary.best,
        badges=badges,
    )


def explain_xp(engine: Engine, agent_id: UUID) -> list[XpExplanation]:
    """Every non-retracted recognition the agent received, with its points and the rule."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(recognitions)
            .where(recognitions.c.agent_id == agent_id, recognitions.c.retracted.is_(False))
            .order_by(recognitions.c.occurred_at, recognitions.c.notification_id)
        ).all()
    return [
        XpExplanation(
            recording_id=r.recording_id,
            kind=r.kind,
            occurred_at=r.occurred_at,
            competencies=[c for c in r.competencies.split(";") if c],
            points=r.points,
            rule=r.rule or "",
            rulebook_version=r.rulebook_version or 0,
            capped=bool(r.capped),
        )
        for r in rows
    ]


# ------------------------------------------------------------------------------ activity


def _activity(engine: Engine, condition: ColumnElement[bool], limit: int) -> list[ActivityItem]:
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(activity)
            .where(condition)
            .order_by(activity.c.notification_id.desc())
            .limit(limit)
        ).all()
    return [activity_item(r, retracted=bool(r.retracted)) for r in rows]


def activity_item(row: Any, *, retracted: bool) -> ActivityItem:
    """An ``activity`` row as a feed item; whether it counts as retracted is the caller's
    (live: the row's flag; as of a past moment: retracted by then)."""
    return ActivityItem(
        notification_id=row.notification_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        agent_id=row.agent_id,
        team_id=row.team_id,
        kind=row.kind,
        summary=row.summary,
        recording_id=row.recording_id,
        retracted=retracted,
    )


def agent_activity(engine: Engine, agent_id: UUID, limit: int = 20) -> list[ActivityItem]:
    """The agent's feed, newest first (in log order)."""
    return _activity(engine, activity.c.agent_id == agent_id, limit)


def team_activity(engine: Engine, team_id: UUID, limit: int = 20) -> list[ActivityItem]:
    """What happened to the team's agents (team at the time), newest first."""
    return _activity(engine, activity.c.team_id == team_id, limit)


# ------------------------------------------------------------------------------ directory


def list_agents(
    engine: Engine, team_id: UUID | None = None, *, include_departed: bool = False
) -> list[AgentSummary]:
    """Agents by name (present ones only unless ``include_departed``)."""
    query = select(
        agents,
        func.coalesce(teams.c.name, "").label("team_name"),
        func.coalesce(agent_profiles.c.level, 1).label("level"),
        func.coalesce(agent_profiles.c.xp_total, 0).label("xp_total"),
    ).select_from(
        agents.outerjoin(teams, teams.c.team_id == agents.c.team_id).outerjoin(
            agent_profiles, agent_profiles.c.agent_id == agents.c.agent_id
        )
    )
    if team_id is not None:
        query = query.where(agents.c.team_id == team_id)
    if not include_departed:
        query = query.where(agents.c.departed_at.is_(None))
    query = query.order_by(_by_name(engine, agents.c.name), agents.c.agent_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        AgentSummary(
            agent_id=r.agent_id,
            handle=r.handle,
            name=r.name,
            team_id=r.team_id,
            team_name=r.team_name,
            enrolled_at=r.enrolled_at,
            departed_at=r.departed_at,
            level=int(r.level),
            xp_total=int(r.xp_total),
        )
        for r in rows
    ]


def agent_id_by_handle(engine: Engine, handle: str) -> UUID | None:
    with engine.connect() as connection:
        found: UUID | None = connection.execute(
            select(agents.c.agent_id).where(agents.c.handle == handle.strip().casefold())
        ).scalar_one_or_none()
    return found


def list_teams(engine: Engine) -> list[TeamSummary]:
    """Teams by name, with their present members' count and their supervisors (asked on
    every leaderboard page: remembered until the read models move)."""
    with board_reads(engine) as memory:
        return list(teams_from(memory))


def teams_from(memory: BoardMemory) -> Sequence[TeamSummary]:
    """:func:`list_teams` on ``memory``'s connection (the caller must not change it)."""
    found: list[TeamSummary] = memory.remember("teams", lambda: _list_teams(memory.connection))
    return found


def _list_teams(connection: Connection) -> list[TeamSummary]:
    members = (
        select(agents.c.team_id, func.count().label("members"))
        .where(agents.c.departed_at.is_(None))
        .group_by(agents.c.team_id)
        .subquery()
    )
    rows = connection.execute(
        select(teams.c.team_id, teams.c.name, func.coalesce(members.c.members, 0))
        .select_from(teams.outerjoin(members, members.c.team_id == teams.c.team_id))
        .order_by(_by_name(connection.engine, teams.c.name), teams.c.team_id)
    ).all()
    supervisors: dict[UUID, list[UUID]] = {}
    for s in connection.execute(select(team_supervisors).order_by(team_supervisors.c.user_id)):
        supervisors.setdefault(s.team_id, []).append(s.user_id)
    return [
        TeamSummary(
            team_id=r[0], name=r[1], members=int(r[2]), supervisors=supervisors.get(r[0], [])
        )
        for r in rows
    ]
