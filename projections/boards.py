"""The ranked boards: ``board_entries`` kept beside ``period_xp``, and pages read from it.

A leaderboard lists every present agent in scope by XP (ties share a rank), then name, then
id. Its positive part is ``board_entries`` — ``period_xp``'s positive rows of present agents,
with the agent's team and name copied beside the XP — so one index
(window, period, competency[, team], XP descending, name, id) holds each board in order: a
page is one range of that index, a rank one count along it. The agents with nothing in the
window follow, all sharing the next rank, by name (:mod:`projections.tails`).

Nothing stores a position: one recording would shift every row below it. Counting index
entries instead costs microseconds per thousand rows, and a batch writes only the entries of
the agents it changed (:func:`refresh_boards`), set-based, comparing in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    desc,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)

from projections.prepared import Prepared
from projections.ranked import BoardKey, LeaderboardRow
from projections.tables import agent_profiles, agents, board_entries, period_xp, teams
from projections.tails import BoardMemory


def board_entry(
    agent_id: UUID,
    period: tuple[str, Any, str],
    team_id: UUID | None,
    name: str,
    xp: int,
) -> dict[str, Any]:
    """A ``board_entries`` row: ``period`` is (window, period start, competency)."""
    window, period_start, competency = period
    return {
        "agent_id": agent_id,
        "window": window,
        "period_start": period_start,
        "competency": competency,
        "team_id": team_id,
        "name": name,
        "xp": xp,
    }


CHUNK = 500
_COLUMNS = ("agent_id", "window", "period_start", "competency", "team_id", "name", "xp")
_KEY = ("agent_id", "window", "period_start", "competency")


# ------------------------------------------------------------------------------ writing


def _wanted() -> Select[Any]:
    """What ``board_entries`` must hold: positive period XP of present agents."""
    return (
        select(
            period_xp.c.agent_id,
            period_xp.c.window,
            period_xp.c.period_start,
            period_xp.c.competency,
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
            wanted.where(
                *(period_xp.c[k] == board_entries.c[k] for k in _KEY),
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
    """Fill an empty ``board_entries`` from ``period_xp`` (the end of a rebuild): in key
    order, with the secondary indexes built afterwards, in one sort each — several times
    faster than growing them row by row."""
    for index in board_entries.indexes:
        index.drop(connection)
    ordered = _wanted().order_by(*(period_xp.c[k] for k in _KEY))
    connection.execute(insert(board_entries).from_select(list(_COLUMNS), ordered))
    for index in board_entries.indexes:
        index.create(connection)


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class RankedPage:
    rows: list[LeaderboardRow]
    total: int
    offset: int


def _on_board(team: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        board_entries.c.window == bindparam("w", type_=board_entries.c.window.type),
        board_entries.c.period_start == bindparam("p", type_=board_entries.c.period_start.type),
        board_entries.c.competency == bindparam("c", type_=board_entries.c.competency.type),
    ]
    if team:
        conditions.append(
            board_entries.c.team_id == bindparam("t", type_=board_entries.c.team_id.type)
        )
    return conditions


def _both(build: Callable[[list[ColumnElement[bool]]], Select[Any]]) -> dict[bool, Prepared]:
    """The statement for an overall board and for a team's board."""
    return {team: Prepared(build(_on_board(team))) for team in (False, True)}


_XP = bindparam("x", type_=board_entries.c.xp.type)
_NAME = bindparam("n", type_=board_entries.c.name.type)
_AGENT = bindparam("a", type_=board_entries.c.agent_id.type)


def _counting(*more: ColumnElement[bool]) -> Callable[[list[ColumnElement[bool]]], Select[Any]]:
    return lambda board: select(func.count()).select_from(board_entries).where(*board, *more)


SCORED = _both(_counting())
MORE_XP = _both(_counting(board_entries.c.xp > _XP))
TIED_BEFORE = _both(
    _counting(
        board_entries.c.xp == _XP,
        or_(
            board_entries.c.name < _NAME,
            and_(board_entries.c.name == _NAME, board_entries.c.agent_id < _AGENT),
        ),
    )
)
PAGE = _both(
    lambda board: (
        select(board_entries.c.agent_id, board_entries.c.xp)
        .where(*board)
        .order_by(desc(board_entries.c.xp), board_entries.c.name, board_entries.c.agent_id)
        .limit(bindparam("lim", type_=Integer))
        .offset(bindparam("off", type_=Integer))
    )
)
MY_XP = _both(
    lambda board: select(board_entries.c.xp).where(*board, board_entries.c.agent_id == _AGENT)
)


_SHOWN = (
    agents.c.agent_id,
    agents.c.handle,
    agents.c.name,
    agents.c.team_id,
    func.coalesce(teams.c.name, "").label("team_name"),
    func.coalesce(agent_profiles.c.level, 1).label("level"),
)


def _shown_of(source: Any) -> Any:
    return source.outerjoin(teams, teams.c.team_id == agents.c.team_id).outerjoin(
        agent_profiles, agent_profiles.c.agent_id == agents.c.agent_id
    )


def _page_shown(board: list[ColumnElement[bool]]) -> Select[Any]:
    """A page of the scored part with what its rows show (joined after the page is cut)."""
    page = (
        select(board_entries.c.agent_id, board_entries.c.xp, board_entries.c.name)
        .where(*board)
        .order_by(desc(board_entries.c.xp), board_entries.c.name, board_entries.c.agent_id)
        .limit(bindparam("lim", type_=Integer))
        .offset(bindparam("off", type_=Integer))
        .subquery()
    )
    return (
        select(page.c.xp, *_SHOWN)
        .select_from(_shown_of(page.join(agents, agents.c.agent_id == page.c.agent_id)))
        .order_by(desc(page.c.xp), page.c.name, page.c.agent_id)
    )


PAGE_SHOWN = _both(_page_shown)
_IN_SCOPE = (
    agents.c.agent_id == _AGENT,
    agents.c.departed_at.is_(None),
)
MY_NAME = {
    False: Prepared(select(agents.c.name).where(*_IN_SCOPE)),
    True: Prepared(
        select(agents.c.name).where(
            *_IN_SCOPE, agents.c.team_id == bindparam("t", type_=agents.c.team_id.type)
        )
    ),
}
_SHOWN_BY_ID: dict[int, Prepared] = {}


def _shown_by_id(count: int) -> Prepared:
    """What the rows of ``count`` given agents show (bind names ``a0`` …)."""
    found = _SHOWN_BY_ID.get(count)
    if found is None:
        ids = [bindparam(f"a{i}", type_=agents.c.agent_id.type) for i in range(count)]
        found = _SHOWN_BY_ID[count] = Prepared(
            select(*_SHOWN).select_from(_shown_of(agents)).where(agents.c.agent_id.in_(ids))
        )
    return found


def _row(rank: int, xp: int, shown: Sequence[Any]) -> LeaderboardRow:
    agent_id, handle, name, team_id, team_name, level = shown
    return LeaderboardRow(
        rank=rank,
        agent_id=agent_id,
        handle=handle,
        name=name,
        team_id=team_id,
        team_name=team_name,
        xp=xp,
        level=int(level),
    )


def _position(connection: Connection, key: BoardKey, me: UUID, memory: BoardMemory) -> int | None:
    """The 1-based place of ``me`` on the board; None when ``me`` is not on it."""
    team = key.team_id is not None
    my_name = MY_NAME[team].scalar(connection, a=me, t=key.team_id)
    if my_name is None:
        return None
    my_xp = MY_XP[team].scalar(connection, **key.values(), a=me)
    if my_xp is None:  # in the tail: after every scored agent
        tail = memory.tail(key)
        return tail.scored + 1 + tail.place[me]
    values = {**key.values(), "x": my_xp}
    more = MORE_XP[team].scalar(connection, **values)
    tied = TIED_BEFORE[team].scalar(connection, **values, n=my_name, a=me)
    return 1 + int(more) + int(tied)


def _scored_rows(
    connection: Connection, key: BoardKey, limit: int, offset: int
) -> list[LeaderboardRow]:
    team = key.team_id is not None
    page = PAGE_SHOWN[team].rows(connection, **key.values(), lim=limit, off=offset)
    if not page:
        return []
    rank = 1
    if offset > 0:
        rank += int(MORE_XP[team].scalar(connection, **key.values(), x=page[0][0]))
    rows: list[LeaderboardRow] = []
    for place, (xp, *shown) in enumerate(page, offset + 1):
        if rows and xp != rows[-1].xp:
            rank = place  # everyone above has more XP
        rows.append(_row(rank, int(xp), shown))
    return rows


def _tail_rows(connection: Connection, ids: Sequence[UUID], rank: int) -> list[LeaderboardRow]:
    if not ids:
        return []
    values = {f"a{i}": agent_id for i, agent_id in enumerate(ids)}
    shown = {r[0]: r for r in _shown_by_id(len(ids)).rows(connection, **values)}
    return [_row(rank, 0, shown[agent_id]) for agent_id in ids]


def ranked_page(
    connection: Connection,
    key: BoardKey,
    *,
    limit: int,
    offset: int,
    around: UUID | None,
    memory: BoardMemory | None = None,
) -> RankedPage:
    """``limit`` rows from ``offset`` (or centred on ``around`` when that agent is on the
    board), with their ranks, and the board's size. ``memory`` (on ``connection``) saves
    reading the read-model version again."""
    memory = memory or BoardMemory(connection)
    team = key.team_id is not None
    total = memory.present(key.team_id)
    scored = memory.scored(key, lambda: int(SCORED[team].scalar(connection, **key.values())))
    if around is not None:
        position = _position(connection, key, around, memory)
        if position is not None:
            offset = max(0, min(position - 1 - limit // 2, total - limit))
    rows = _scored_rows(connection, key, limit, offset) if offset < scored else []
    if len(rows) < limit and offset + len(rows) < total:
        tail = memory.tail(key)
        start = max(0, offset - scored)
        rows += _tail_rows(connection, tail.ids[start : start + limit - len(rows)], scored + 1)
    return RankedPage(rows=rows, total=total, offset=offset)
