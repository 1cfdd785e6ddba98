"""The ranked boards: ``board_entries`` kept beside ``period_xp``, and pages read from it.

A leaderboard lists every present agent in scope by XP (ties share a rank), then name, then
id. Its positive part is ``board_entries`` — ``period_xp``'s positive rows of present agents,
with the agent's team and name copied beside the XP — so one index
(window, period, competency[, team], XP descending, name, id) holds each board in order: a
page is one range of that index, a rank one count along it. The agents with nothing in the
window follow, all sharing the next rank, by name (``ix_agents_by_name``).

Nothing stores a position: one recording would shift every row below it. Counting index
entries instead costs microseconds per thousand rows, and a batch writes only the entries of
the agents it changed (:func:`refresh_boards`), set-based, comparing in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    desc,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)

from projections.tables import agent_profiles, agents, board_entries, period_xp, teams

CHUNK = 500
_COLUMNS = ("window", "period_start", "competency", "agent_id", "team_id", "name", "xp")
_KEY = ("window", "period_start", "competency", "agent_id")


# ------------------------------------------------------------------------------ writing


def _wanted() -> Select[Any]:
    """What ``board_entries`` must hold: positive period XP of present agents."""
    return (
        select(
            period_xp.c.window,
            period_xp.c.period_start,
            period_xp.c.competency,
            period_xp.c.agent_id,
            agents.c.team_id,
            agents.c.name,
            period_xp.c.xp,
        )
        .select_from(period_xp.join(agents, agents.c.agent_id == period_xp.c.agent_id))
        .where(agents.c.departed_at.is_(None), period_xp.c.xp > 0)
    )


def _refresh(connection: Connection, agent_ids: Sequence[UUID] | None) -> None:
    """Delete the entries no longer wanted (or changed), insert the ones missing."""
    wanted = _wanted()
    stale = delete(board_entries).where(
        ~exists(
            wanted.where(*(period_xp.c[k] == board_entries.c[k] for k in _KEY[:3])).where(
                period_xp.c.agent_id == board_entries.c.agent_id,
                agents.c.team_id == board_entries.c.team_id,
                agents.c.name == board_entries.c.name,
                period_xp.c.xp == board_entries.c.xp,
            )
        )
    )
    present = exists(
        select(literal(1)).where(*(board_entries.c[k] == period_xp.c[k] for k in _KEY))
    )
    missing = wanted.where(~present)
    if agent_ids is not None:
        stale = stale.where(board_entries.c.agent_id.in_(agent_ids))
        missing = missing.where(period_xp.c.agent_id.in_(agent_ids))
    connection.execute(stale)
    connection.execute(insert(board_entries).from_select(list(_COLUMNS), missing))


def refresh_boards(connection: Connection, agent_ids: Iterable[UUID]) -> None:
    """Bring the entries of ``agent_ids`` in line with ``period_xp`` and the directory
    (call it after their period XP was recomputed, in the same transaction)."""
    ordered = sorted(set(agent_ids))
    for start in range(0, len(ordered), CHUNK):
        _refresh(connection, ordered[start : start + CHUNK])


def refresh_every_board(connection: Connection) -> None:
    """Bring every entry in line (after every agent was recomputed)."""
    _refresh(connection, None)


def fill_boards(connection: Connection) -> None:
    """Fill an empty ``board_entries`` from ``period_xp`` (the end of a rebuild)."""
    connection.execute(insert(board_entries).from_select(list(_COLUMNS), _wanted()))


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class BoardKey:
    window: str
    period_start: date
    competency: str  # a competency's value, or "*" for the total
    team_id: UUID | None = None


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    agent_id: UUID
    handle: str
    name: str
    team_id: UUID
    team_name: str
    xp: int
    level: int


@dataclass(frozen=True)
class RankedPage:
    rows: list[LeaderboardRow]
    total: int
    offset: int


def _sorted_name(connection: Connection, column: Any) -> Any:
    return column.collate("C") if connection.dialect.name == "postgresql" else column


def _on_board(key: BoardKey) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        board_entries.c.window == key.window,
        board_entries.c.period_start == key.period_start,
        board_entries.c.competency == key.competency,
    ]
    if key.team_id is not None:
        conditions.append(board_entries.c.team_id == key.team_id)
    return conditions


def _in_scope(key: BoardKey) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [agents.c.departed_at.is_(None)]
    if key.team_id is not None:
        conditions.append(agents.c.team_id == key.team_id)
    return conditions


def _count(table: Any, *conditions: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(table).where(*conditions).scalar_subquery()


def _before(name: Any, agent_id: Any, my_name: str, me: UUID) -> ColumnElement[bool]:
    return or_(name < my_name, and_(name == my_name, agent_id < me))


def _position(connection: Connection, key: BoardKey, me: UUID, scored: int) -> int | None:
    """The 1-based place of ``me`` on the board; None when ``me`` is not on it."""
    my_name = connection.execute(
        select(agents.c.name).where(agents.c.agent_id == me, *_in_scope(key))
    ).scalar_one_or_none()
    if my_name is None:
        return None
    my_xp = connection.execute(
        select(board_entries.c.xp).where(*_on_board(key), board_entries.c.agent_id == me)
    ).scalar_one_or_none()
    if my_xp is not None:  # among the scored: those with more XP, then the tied before me
        ahead = connection.execute(
            select(
                _count(board_entries, *_on_board(key), board_entries.c.xp > my_xp),
                _count(
                    board_entries,
                    *_on_board(key),
                    board_entries.c.xp == my_xp,
                    _before(board_entries.c.name, board_entries.c.agent_id, my_name, me),
                ),
            )
        ).one()
        return 1 + int(ahead[0]) + int(ahead[1])
    # In the unscored tail: every scored agent, then the unscored ones named before me.
    name = _sorted_name(connection, agents.c.name)
    named_before, scored_before = connection.execute(
        select(
            _count(agents, *_in_scope(key), _before(name, agents.c.agent_id, my_name, me)),
            _count(
                board_entries,
                *_on_board(key),
                _before(board_entries.c.name, board_entries.c.agent_id, my_name, me),
            ),
        )
    ).one()
    return scored + 1 + int(named_before) - int(scored_before)


def _details(page: Any, xp: Any) -> Select[Any]:
    """The shown columns of the agents of ``page`` (a subquery with an ``agent_id``)."""
    return select(
        agents.c.agent_id,
        agents.c.handle,
        agents.c.name,
        agents.c.team_id,
        func.coalesce(teams.c.name, "").label("team_name"),
        xp.label("xp"),
        func.coalesce(agent_profiles.c.level, 1).label("level"),
    ).select_from(
        page.join(agents, agents.c.agent_id == page.c.agent_id)
        .outerjoin(teams, teams.c.team_id == agents.c.team_id)
        .outerjoin(agent_profiles, agent_profiles.c.agent_id == agents.c.agent_id)
    )


def ranked_page(
    connection: Connection, key: BoardKey, *, limit: int, offset: int, around: UUID | None
) -> RankedPage:
    """``limit`` rows from ``offset`` (or centred on ``around`` when that agent is on the
    board), with their ranks, and the board's size."""
    total, scored = (
        int(n)
        for n in connection.execute(
            select(_count(agents, *_in_scope(key)), _count(board_entries, *_on_board(key)))
        ).one()
    )
    if around is not None:
        position = _position(connection, key, around, scored)
        if position is not None:
            offset = max(0, min(position - 1 - limit // 2, total - limit))
    rows: list[LeaderboardRow] = []
    if offset < scored:
        page = (
            select(board_entries.c.agent_id, board_entries.c.xp)
            .where(*_on_board(key))
            .order_by(desc(board_entries.c.xp), board_entries.c.name, board_entries.c.agent_id)
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        found = connection.execute(
            _details(page, page.c.xp).order_by(
                desc(page.c.xp), _sorted_name(connection, agents.c.name), agents.c.agent_id
            )
        ).all()
        rank = 1
        if found and offset > 0:
            rank = 1 + int(
                connection.execute(
                    select(func.count())
                    .select_from(board_entries)
                    .where(*_on_board(key), board_entries.c.xp > found[0].xp)
                ).scalar_one()
            )
        for place, row in enumerate(found, offset + 1):
            if rows and row.xp != rows[-1].xp:
                rank = place  # everyone above has more XP
            rows.append(_row(rank, row))
    if len(rows) < limit and offset + len(rows) >= scored:
        name = _sorted_name(connection, agents.c.name)
        unscored = (
            select(agents.c.agent_id)
            .where(
                *_in_scope(key),
                ~exists(
                    select(literal(1)).where(
                        *_on_board(BoardKey(key.window, key.period_start, key.competency)),
                        board_entries.c.agent_id == agents.c.agent_id,
                    )
                ),
            )
            .order_by(name, agents.c.agent_id)
            .limit(limit - len(rows))
            .offset(max(0, offset - scored))
            .subquery()
        )
        found = connection.execute(
            _details(unscored, literal(0)).order_by(name, agents.c.agent_id)
        ).all()
        rows += [_row(scored + 1, row) for row in found]
    return RankedPage(rows=rows, total=total, offset=offset)


def _row(rank: int, row: Any) -> LeaderboardRow:
    return LeaderboardRow(
        rank=rank,
        agent_id=row.agent_id,
        handle=row.handle,
        name=row.name,
        team_id=row.team_id,
        team_name=row.team_name,
        xp=int(row.xp),
        level=int(row.level),
    )
