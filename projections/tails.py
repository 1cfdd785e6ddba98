"""What each process remembers of the boards until the read models move.

A board's tail is every present agent in scope with nothing in the window, by name. SQL can
only find its n-th row by probing ``board_entries`` for each agent before it (thousands of
probes deep in a new week). So each process keeps, per read-model version (every
``tracking`` row): how many agents each scope has, each board's number of scored agents, and,
once a page reaches it, each board's tail (the scope's present agents by name, less the
scored ones). A tail page is then a slice, a place in the tail a dictionary look-up. The version is
read once per page, and a projector batch always moves it, so nothing older is ever shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast
from uuid import UUID
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, func, select

from projections.prepared import Prepared
from projections.ranked import BoardKey
from projections.tables import agents, board_entries, tracking

MAX_BOARDS = 5_000
T = TypeVar("T")

Version = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Scope:
    """The present agents of one scope (everyone, or one team), by name then id."""

    ids: Sequence[UUID]


@dataclass(frozen=True)
class Tail:
    """A board's agents with no XP in its window, by name then id; ``place`` is 0-based."""

    scored: int
    ids: Sequence[UUID]
    place: dict[UUID, int]


VERSION = Prepared(select(tracking.c.projection, tracking.c.position))
_PRESENT = select(agents.c.agent_id, agents.c.name).where(agents.c.departed_at.is_(None))
_IN_TEAM = agents.c.team_id == bindparam("t", type_=agents.c.team_id.type)
PRESENT = {False: Prepared(_PRESENT), True: Prepared(_PRESENT.where(_IN_TEAM))}
_COUNT_PRESENT = select(func.count()).select_from(agents).where(agents.c.departed_at.is_(None))
COUNT_PRESENT = {False: Prepared(_COUNT_PRESENT), True: Prepared(_COUNT_PRESENT.where(_IN_TEAM))}
_BOARD = (
    board_entries.c.window == bindparam("w", type_=board_entries.c.window.type),
    board_entries.c.period_start == bindparam("p", type_=board_entries.c.period_start.type),
    board_entries.c.competency == bindparam("c", type_=board_entries.c.competency.type),
)
SCORED_IDS = {
    False: Prepared(select(board_entries.c.agent_id).where(*_BOARD)),
    True: Prepared(
        select(board_entries.c.agent_id).where(
            *_BOARD, board_entries.c.team_id == bindparam("t", type_=board_entries.c.team_id.type)
        )
    ),
}


class _Remembered:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: Version | None = None
        self.scopes: dict[UUID | None, Scope] = {}
        self.present: dict[UUID | None, int] = {}
        self.scored: dict[BoardKey, int] = {}
        self.tails: dict[BoardKey, Tail] = {}
        self.other: dict[str, object] = {}


_BY_ENGINE: WeakKeyDictionary[Engine, _Remembered] = WeakKeyDictionary()
_GLOBAL = threading.Lock()


class BoardMemory:
    """What one page reads of the remembered boards, all of one read-model version."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        with _GLOBAL:
            remembered = _BY_ENGINE.get(connection.engine)
            if remembered is None:
                remembered = _BY_ENGINE[connection.engine] = _Remembered()
        version = tuple(sorted((str(n), int(p)) for n, p in VERSION.rows(connection)))
        with remembered.lock:
            if remembered.version != version:
                remembered.version = version
                remembered.scopes = {}
                remembered.present = {}
                remembered.scored = {}
                remembered.tails = {}
                remembered.other = {}
            self._scopes = remembered.scopes
            self._present = remembered.present
            self._scored = remembered.scored
            self._tails = remembered.tails
            self._other = remembered.other

    def present(self, team_id: UUID | None) -> int:
        """How many agents of the scope are present."""
        found = self._present.get(team_id)
        if found is None:
            found = int(COUNT_PRESENT[team_id is not None].scalar(self.connection, t=team_id))
            self._present[team_id] = found
        return found

    def scope(self, team_id: UUID | None) -> Scope:
        found = self._scopes.get(team_id)
        if found is None:
            rows = PRESENT[team_id is not None].rows(self.connection, t=team_id)
            rows.sort(key=lambda r: (r[1], r[0]))
            found = Scope(ids=[r[0] for r in rows])
            self._scopes[team_id] = found
        return found

    def remember(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``'s answer, computed once per version (it must read only the read
        models, and the caller must not change it)."""
        if name not in self._other:
            self._other[name] = compute()
        return cast("T", self._other[name])

    def scored(self, key: BoardKey, count: Callable[[], int]) -> int:
        found = self._scored.get(key)
        if found is None:
            found = count()
            if len(self._scored) >= MAX_BOARDS:
                self._scored.clear()
            self._scored[key] = found
        return found

    def tail(self, key: BoardKey) -> Tail:
        found = self._tails.get(key)
        if found is None:
            statement = SCORED_IDS[key.team_id is not None]
            scored = {r[0] for r in statement.rows(self.connection, **key.values())}
            ids = [a for a in self.scope(key.team_id).ids if a not in scored]
            found = Tail(scored=len(scored), ids=ids, place={a: i for i, a in enumerate(ids)})
            if len(self._tails) >= MAX_BOARDS:
                self._tails.clear()
            self._tails[key] = found
        return found
