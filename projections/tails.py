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
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast
from uuid import UUID
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, func, select

from projections.hot import hot_reads
from projections.prepared import Prepared
from projections.ranked import BoardKey
from projections.tables import agents, board_entries, tracking

MAX_BOARDS = 5_000
MAX_REMEMBERED = 2_000  # pages and rendered fragments (a few KB each) per version
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
        self.other: dict[Hashable, object] = {}


_MISSING = object()
_BY_ENGINE: WeakKeyDictionary[Engine, _Remembered] = WeakKeyDictionary()
_GLOBAL = threading.Lock()


class BoardMemory:
    """What one page reads of the remembered boards, all of one read-model version.

    ``BoardMemory(connection)`` reads the version on ``connection``; ``BoardMemory.open(engine)``
    reads it with the engine's hot reads (:mod:`projections.hot`) and opens a pooled
    connection only when something must be read afresh — a page whose answers are all
    remembered costs one read. Close it with :meth:`close`."""

    def __init__(self, connection: Connection | None, *, engine: Engine | None = None) -> None:
        self._connection = connection
        self._engine = engine if connection is None else connection.engine
        if self._engine is None:
            raise ValueError("a BoardMemory needs a connection or an engine")
        with _GLOBAL:
            remembered = _BY_ENGINE.get(self._engine)
            if remembered is None:
                remembered = _BY_ENGINE[self._engine] = _Remembered()
        if connection is not None:
            rows = VERSION.rows(connection)
        else:
            rows = hot_reads(self._engine).rows(VERSION)
        version = tuple(sorted((str(n), int(p)) for n, p in rows))
        self._version: Version = version
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
        self._opened = False

    @classmethod
    def open(cls, engine: Engine) -> BoardMemory:
        return cls(None, engine=engine)

    @property
    def connection(self) -> Connection:
        """The connection to read afresh on (opened on first use by an ``open`` memory)."""
        if self._connection is None:
            assert self._engine is not None
            self._connection = self._engine.connect()
            self._opened = True
        return self._connection

    def close(self) -> None:
        """Close the connection this memory opened (not one it was given)."""
        if self._opened and self._connection is not None:
            self._connection.close()
            self._connection = None
            self._opened = False

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

    @property
    def version(self) -> Version:
        """The read-model version everything this memory gives was read at (or after)."""
        return self._version

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``'s answer, computed once per version: ``key`` must name everything
        the answer depends on besides the read models, ``compute`` must read only the read
        models (on this memory's connection), and the caller must not change the answer.

        The version is read before ``compute`` runs, so an answer is never older than the
        version it is kept under; the next projector batch moves the version and forgets it."""
        found = self._other.get(key, _MISSING)
        if found is _MISSING:
            found = compute()
            if len(self._other) >= MAX_REMEMBERED:
                self._other.clear()
            self._other[key] = found
        return cast("T", found)

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
