"""Time travel: the leaderboards and agent profiles as of a past moment.

**As of T** means: what a fresh projection of the events at or before position ``P(T)`` shows
— ``P(T)`` being the last notification whose event timestamp is at or before ``T`` (see
:func:`domain.timeline.inclusion_moments` for timestamps a little out of log order). Later
recordings and retractions are left out, a rulebook published after ``P`` does not apply, an
agent transferred or departed after ``P`` is in the old team or still present, and the week
and month windows are the ones containing ``T`` in the organisation's time zone ("today" is
``T``'s local day).

Profiles are scored from the agent's facts up to ``P`` with the same pure rules as the live
read models; leaderboards sum the points versions of :mod:`projections.asof_index` in force at
``P``, so no request replays the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Engine, desc, func, select

from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import AgentHistory, Recognition, RecognitionKind
from domain.levels import level_for
from domain.periods import window_start
from domain.rulebook import RulebookHistory
from domain.scoring import AgentScore, score_agent
from domain.streaks import current_streak
from projections.asof_directory import directory_history
from projections.asof_index import (
    COMPETENCY_BITS,
    lifespans_of,
    lifespans_where,
    load_timeline,
    microseconds,
)
from projections.asof_tables import asof_moments, asof_points, asof_retractions
from projections.queries import (
    MAX_LIMIT,
    MAX_OFFSET,
    SCOPES,
    WINDOW_NAMES,
    ActivityItem,
    AgentProfile,
    BadgeView,
    LeaderboardPage,
    LeaderboardRow,
    QueryError,
    XpExplanation,
    activity_item,
)
from projections.tables import activity, agents, recognitions, teams


class AsOfError(QueryError):
    """A moment the read models cannot be seen at (malformed, in the future, before the
    first event)."""

    field = "as_of"


@dataclass(frozen=True)
class Moment:
    """A past moment and the log position it stands for."""

    at: datetime
    position: int
    today: date  # the local day of ``at``: it chooses the week and month windows


def moment_at(engine: Engine, at: datetime, timezone: tzinfo, *, now: datetime) -> Moment:
    """The log position of the moment ``at`` (aware); raises :class:`AsOfError` for a moment
    in the future or before the first event."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise AsOfError("as_of needs a time zone offset, e.g. 2026-03-01T17:00:00+00:00")
    if at > now:
        raise AsOfError(f"as_of cannot be in the future (it is {now.isoformat()} now)")
    with engine.connect() as connection:
        position = connection.execute(
            select(asof_moments.c.notification_id)
            .where(asof_moments.c.included_from <= microseconds(at))
            .order_by(desc(asof_moments.c.included_from), desc(asof_moments.c.notification_id))
            .limit(1)
        ).scalar_one_or_none()
        first_noted = connection.execute(select(func.min(asof_moments.c.notification_id)))
        first_applied = connection.execute(select(func.min(activity.c.notification_id)))
        noted, applied = first_noted.scalar_one(), first_applied.scalar_one()
    if applied is not None and (noted is None or noted > applied):
        raise AsOfError(
            "the read models were built before time travel existed: "
            "run `callcraft rebuild` once to see the past"
        )
    if position is None:
        raise AsOfError("as_of is before the first event: nothing had been recorded yet")
    return Moment(at=at, position=int(position), today=at.astimezone(timezone).date())


# ---------------------------------------------------------------------------- leaderboard


def _window_days(window: str, today: date) -> tuple[int, int] | None:
    """The window's first day and the day after its last, as ordinals (None: all time)."""
    if window == "all":
        return None
    start = window_start(window, today)
    if window == "week":
        end = start + timedelta(days=7)
    else:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.toordinal(), end.toordinal()


def xp_at(
    connection: Connection,
    position: int,
    *,
    days: tuple[int, int] | None = None,
    competency: Competency | None = None,
    keys: Sequence[int] | None = None,
) -> dict[int, int]:
    """XP by agent key from the versions in force at ``position`` (within ``days``, in
    ``competency``, of ``keys`` when given)."""
    conditions: list[ColumnElement[bool]] = [
        asof_points.c.valid_from <= position,
        asof_points.c.valid_until > position,
    ]
    if days is not None:
        conditions += [asof_points.c.day >= days[0], asof_points.c.day < days[1]]
    if competency is not None:
        conditions.append(asof_points.c.competencies.op("&")(COMPETENCY_BITS[competency]) != 0)
    if keys is not None:
        conditions.append(asof_points.c.agent_key.in_(keys))
    query = (
        select(asof_points.c.agent_key, func.sum(asof_points.c.points))
        .where(*conditions)
        .group_by(asof_points.c.agent_key)
    )
    return {int(key): int(xp) for key, xp in connection.execute(query)}


def _board_column(scope: str, window: str, competency: str | None) -> Competency | None:
    if scope not in SCOPES:
        raise QueryError(f"unknown scope {scope!r}; expected one of {list(SCOPES)}")
    if window not in WINDOW_NAMES:
        raise QueryError(f"unknown window {window!r}; expected one of {list(WINDOW_NAMES)}")
    if scope != "competency":
        return None
    if competency is None:
        raise QueryError("a competency leaderboard needs a competency")
    try:
        return Competency(competency)
    except ValueError:
        known = [c.value for c in ALL_COMPETENCIES]
        raise QueryError(f"unknown competency {competency!r}; expected one of {known}") from None


def leaderboard_as_of(
    engine: Engine,
    moment: Moment,
    *,
    scope: str = "overall",
    window: str = "all",
    team_id: UUID | None = None,
    competency: str | None = None,
    limit: int = 20,
    offset: int = 0,
    around_agent: UUID | None = None,
) -> LeaderboardPage:
    """One page of a leaderboard as it stood at ``moment``: the same rows, ranks, order and
    paging as :func:`projections.queries.leaderboard` on the log truncated there."""
    column = _board_column(scope, window, competency)
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise QueryError(f"offset must be from 0 to {MAX_OFFSET}, not {offset}")
    if scope == "team" and team_id is None:
        raise QueryError("a team leaderboard needs a team")
    position = moment.position
    with engine.connect() as connection:
        directory = directory_history(engine, connection)
        members = {
            agent_id: member
            for agent_id, member in directory.at(position).items()
            if not member.departed and (scope != "team" or member.team_id == team_id)
        }
        earned = xp_at(
            connection,
            position,
            days=_window_days(window, moment.today),
            competency=column,
            keys=[m.key for m in members.values()] if scope == "team" else None,
        )
        people = directory.people
        ordered = sorted(members, key=lambda a: (-earned.get(members[a].key, 0), people[a].name, a))
        total = len(ordered)
        if around_agent is not None and around_agent in members:
            place = ordered.index(around_agent) + 1
            offset = max(0, min(place - 1 - limit // 2, total - limit))
        ranks: list[int] = []
        for index, agent_id in enumerate(ordered[: offset + limit]):
            xp = earned.get(members[agent_id].key, 0)
            tied = index > 0 and earned.get(members[ordered[index - 1]].key, 0) == xp
            ranks.append(ranks[-1] if tied else index + 1)
        shown = ordered[offset : offset + limit]
        totals = (
            earned
            if window == "all" and column is None
            else xp_at(connection, position, keys=[members[a].key for a in shown])
        )
        team_names = dict(connection.execute(select(teams.c.team_id, teams.c.name)).tuples().all())
        curve = load_timeline(connection).history_at(position).latest.level_curve
    rows = [
        LeaderboardRow(
            rank=ranks[offset + i],
            agent_id=agent_id,
            handle=people[agent_id].handle,
            name=people[agent_id].name,
            team_id=members[agent_id].team_id,
            team_name=team_names.get(members[agent_id].team_id, ""),
            xp=earned.get(members[agent_id].key, 0),
            level=level_for(totals.get(members[agent_id].key, 0), curve).level,
        )
        for i, agent_id in enumerate(shown)
    ]
    return LeaderboardPage(
        rows=rows, total=total, window_start=window_start(window, moment.today), offset=offset
    )


# ------------------------------------------------------------------------------ profiles


def _kudos_given(connection: Connection, agent_id: UUID, position: int) -> list[Recognition]:
    """The kudos ``agent_id`` gave that stood at ``position`` (recorded, not yet retracted)."""
    return [
        lifespan.recognition
        for lifespan in lifespans_where(
            connection,
            recognitions.c.from_agent == agent_id,
            recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
            recognitions.c.notification_id <= position,
        )
        if lifespan.alive_at(position)
    ]


def score_at(
    connection: Connection, agent_id: UUID, position: int, timezone: tzinfo
) -> tuple[AgentScore, RulebookHistory]:
    """The agent's score from the facts that stood at ``position``, with the rulebooks then."""
    received = tuple(
        lifespan.recognition
        for lifespan in lifespans_of(connection, [agent_id], up_to=position)
        if lifespan.alive_at(position)
    )
    history = load_timeline(connection).history_at(position)
    given = tuple(_kudos_given(connection, agent_id, position))
    score = score_agent(
        AgentHistory(agent_id=agent_id, received=received, kudos_given=given), history, timezone
    )
    return score, history


def profile_as_of(
    engine: Engine, agent_id: UUID, moment: Moment, *, timezone: tzinfo
) -> AgentProfile | None:
    """The agent's profile as it stood at ``moment`` (None if not enrolled by then): what
    :func:`projections.queries.agent_profile` shows on the log truncated there."""
    with engine.connect() as connection:
        member = directory_history(engine, connection).at(moment.position).get(agent_id)
        if member is None:
            return None
        row = connection.execute(select(agents).where(agents.c.agent_id == agent_id)).one()
        team_name = connection.execute(
            select(teams.c.name).where(teams.c.team_id == member.team_id)
        ).scalar_one_or_none()
        score, history = score_at(connection, agent_id, moment.position, timezone)
    latest = history.latest
    badges = [
        BadgeView(
            key=status.key,
            name=status.name,
            description=status.description,
            family=status.family,
            tier=status.tier,
            progress=status.progress,
            next_threshold=status.next_threshold,
            earned_at=status.earned[-1].earned_at if status.earned else None,
            evidence=list(status.earned[-1].evidence) if status.earned else [],
        )
        for status in score.badges
    ]
    return AgentProfile(
        agent_id=agent_id,
        handle=row.handle,
        name=row.name,
        team_id=member.team_id,
        team_name=team_name or "",
        enrolled_at=row.enrolled_at,
        departed_at=row.departed_at if member.departed else None,
        level=score.level.level,
        xp_total=score.xp_total,
        xp_into_level=score.level.xp_into_level,
        xp_for_next_level=score.level.xp_for_next_level,
        xp_by_competency={c.value: score.xp_by_competency[c] for c in ALL_COMPETENCIES},
        current_streak=current_streak(score.streak, moment.today, latest.streak_working_days),
        best_streak=score.streak.best,
        badges=badges,
    )


def explain_xp_as_of(
    engine: Engine, agent_id: UUID, moment: Moment, *, timezone: tzinfo
) -> list[XpExplanation]:
    """Every recognition that stood at ``moment``, with its points and rule then."""
    with engine.connect() as connection:
        score, _ = score_at(connection, agent_id, moment.position, timezone)
    return [
        XpExplanation(
            recording_id=line.recording_id,
            kind=line.kind.value,
            occurred_at=line.occurred_at,
            competencies=[c.value for c in line.competencies],
            points=line.points,
            rule=line.rule,
            rulebook_version=line.rulebook_version,
            capped=line.capped,
        )
        for line in score.lines
    ]


def parse_as_of(text: str, local_zone: tzinfo | None = None) -> datetime:
    """A moment from ISO 8601 text. With ``local_zone``, a time without an offset (what a
    ``datetime-local`` input sends) is read in that zone; without, the offset is required."""
    cleaned = text.strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise AsOfError(
            f"as_of must be a date and time in ISO 8601, e.g. 2026-03-01T17:00:00+00:00, "
            f"not {cleaned[:40]!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if local_zone is None:
            raise AsOfError("as_of needs a time zone offset, e.g. 2026-03-01T17:00:00+00:00")
        moment = moment.replace(tzinfo=local_zone)
    return moment


def activity_as_of(
    engine: Engine, agent_id: UUID, moment: Moment, limit: int = 20
) -> list[ActivityItem]:
    """The agent's feed as it stood at ``moment``, newest first: what
    :func:`projections.queries.agent_activity` shows on the log truncated there."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    position = moment.position
    with engine.connect() as connection:
        rows = connection.execute(
            select(activity, asof_retractions.c.position.label("retracted_at_position"))
            .select_from(
                activity.outerjoin(
                    asof_retractions, asof_retractions.c.recording_id == activity.c.recording_id
                )
            )
            .where(activity.c.agent_id == agent_id, activity.c.notification_id <= position)
            .order_by(activity.c.notification_id.desc())
            .limit(limit)
        ).all()
    return [
        activity_item(
            r,
            retracted=r.kind != "RecordingRetracted"
            and r.retracted_at_position is not None
            and r.retracted_at_position <= position,
        )
        for r in rows
    ]
