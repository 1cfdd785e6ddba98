"""The directory as it stood at any position, from the append-only ``asof_agent_moves``.

Moves are facts: once the projector has written the moves up to a position, nothing at or
before it ever changes (a rebuild writes the same rows again). So each process reads them
once per read-model database and then only the moves it has not seen, and folds them in
memory: no request parses the whole directory again.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass
from uuid import UUID
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, select

from projections.asof_tables import asof_agent_moves
from projections.tables import agents

LOOK_UP_CHUNK = 500


@dataclass
class Member:
    """An agent as the directory stood at a position."""

    key: int  # the enrolment position
    team_id: UUID
    departed: bool = False


@dataclass(frozen=True)
class Person:
    handle: str
    name: str


@dataclass(frozen=True)
class Move:
    position: int
    agent_id: UUID
    team_id: UUID | None
    departed: bool


class DirectoryHistory:
    """Every move read so far, in log order, and the handle and name of every agent."""

    def __init__(self) -> None:
        self.moves: list[Move] = []
        self.positions: list[int] = []
        self.people: dict[UUID, Person] = {}
        self._lock = threading.Lock()

    def refresh(self, connection: Connection) -> None:
        """Read the moves after the last one seen (and the new agents' names)."""
        with self._lock:
            last = self.positions[-1] if self.positions else 0
            rows = connection.execute(
                select(
                    asof_agent_moves.c.position,
                    asof_agent_moves.c.agent_id,
                    asof_agent_moves.c.team_id,
                    asof_agent_moves.c.departed,
                )
                .where(asof_agent_moves.c.position > last)
                .order_by(asof_agent_moves.c.position)
            ).all()
            new = sorted({row.agent_id for row in rows} - set(self.people))
            for start in range(0, len(new), LOOK_UP_CHUNK):
                chunk = new[start : start + LOOK_UP_CHUNK]
                for row in connection.execute(
                    select(agents.c.agent_id, agents.c.handle, agents.c.name).where(
                        agents.c.agent_id.in_(chunk)
                    )
                ):
                    self.people[row.agent_id] = Person(row.handle, row.name)
            for row in rows:
                self.moves.append(Move(row.position, row.agent_id, row.team_id, row.departed))
                self.positions.append(row.position)

    def at(self, position: int) -> dict[UUID, Member]:
        """Every agent enrolled at or before ``position``, with its team and presence then."""
        members: dict[UUID, Member] = {}
        for move in self.moves[: bisect_right(self.positions, position)]:
            member = members.get(move.agent_id)
            if member is None:
                assert move.team_id is not None, "an agent's first move is its enrolment"
                members[move.agent_id] = Member(key=move.position, team_id=move.team_id)
            elif move.departed:
                member.departed = True
            elif move.team_id is not None:
                member.team_id = move.team_id
        return members


_HISTORIES: WeakKeyDictionary[Engine, DirectoryHistory] = WeakKeyDictionary()
_HISTORIES_LOCK = threading.Lock()


def directory_history(engine: Engine, connection: Connection) -> DirectoryHistory:
    """This process's directory history of ``engine``'s read models, brought up to date."""
    with _HISTORIES_LOCK:
        history = _HISTORIES.get(engine)
        if history is None:
            history = _HISTORIES[engine] = DirectoryHistory()
    history.refresh(connection)
    return history
