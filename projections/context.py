"""What a batch of event handlers writes through: one connection, buffered inserts, the
agents whose scores must be recomputed, and a small per-batch directory cache.

Inserts are buffered and sent with one driver ``executemany`` per table (fast rebuilds); any
other statement flushes them first, so reads and updates always see every earlier event of
the batch. The agents a batch names are looked up in one query before it is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Executable, Result, Row, Table, select

from projections.bulk import bulk_insert
from projections.tables import agents, teams

LOOK_UP_CHUNK = 500

ScoringGroup = tuple[UUID, date, str]
"""(agent, local day, recognition kind): a recognition's points depend only on its group."""


@dataclass
class BatchChanges:
    """What a batch changed in the facts, beyond which groups it touched: the recordings it
    recorded, the ones it retracted that were not retracted before, and the agents whose
    directory entry (team, name, departure) it wrote. With these, a scoped rescore knows each
    touched recognition's state before the batch without reading it."""

    recorded: set[UUID] = field(default_factory=set)
    retracted: set[UUID] = field(default_factory=set)
    moved: set[UUID] = field(default_factory=set)


@dataclass
class AgentInfo:
    handle: str
    name: str
    team_id: UUID
    departed_at: datetime | None = None


_DIRECTORY_COLUMNS = (agents.c.handle, agents.c.name, agents.c.team_id, agents.c.departed_at)


def _info(row: Row[Any]) -> AgentInfo:
    return AgentInfo(row.handle, row.name, row.team_id, row.departed_at)


class BatchContext:
    """The state of one transaction that applies a batch of events."""

    def __init__(self, connection: Connection, timezone: tzinfo = UTC) -> None:
        self.connection = connection
        self.timezone = timezone
        self.dirty_agents: set[UUID] = set()
        self.touched_groups: set[ScoringGroup] = set()
        self.every_agent_dirty = False
        self.changes = BatchChanges()
        self.rulebooks_changed = False
        self._inserts: dict[Table, list[dict[str, Any]]] = {}
        self._agents: dict[UUID, AgentInfo | None] = {}
        self._team_names: dict[UUID, str | None] = {}

    # --- writing ---------------------------------------------------------------------

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self._inserts.setdefault(table, []).append(row)

    def execute(self, statement: Executable) -> Result[Any]:
        self.flush()
        return self.connection.execute(statement)

    def flush(self) -> None:
        for table, rows in self._inserts.items():
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                by_columns.setdefault(tuple(row), []).append(row)
            for same in by_columns.values():
                bulk_insert(self.connection, table, same)
        self._inserts.clear()

    # --- what must be recomputed ------------------------------------------------------

    def mark_dirty(self, *agent_ids: UUID | None) -> None:
        self.dirty_agents.update(a for a in agent_ids if a is not None)

    def mark_group(self, agent_id: UUID, day: date, kind: str) -> None:
        """A recognition of ``agent_id``'s on local ``day`` of ``kind`` came or went: the
        points of that group (daily caps rank within it) must be recomputed."""
        self.touched_groups.add((agent_id, day, kind))

    # --- the directory, cached for this batch -----------------------------------------

    def agent(self, agent_id: UUID) -> AgentInfo | None:
        if agent_id not in self._agents:
            # Agents enrolled in this batch are in the cache already, so no flush is needed.
            row = self.connection.execute(
                select(*_DIRECTORY_COLUMNS).where(agents.c.agent_id == agent_id)
            ).first()
            self._agents[agent_id] = _info(row) if row else None
        return self._agents[agent_id]

    def know_agents(self, entries: Mapping[UUID, AgentInfo | None]) -> None:
        """Take directory entries known already (as the last batches left them) as looked
        up: :meth:`look_up_agents` does not read them."""
        self._agents.update(entries)

    def look_up_agents(self, agent_ids: Iterable[UUID]) -> None:
        """Fetch the directory entries of ``agent_ids`` not cached yet, in few queries
        (call before applying the batch: nothing of it is in the tables yet)."""
        wanted = sorted({a for a in agent_ids if a not in self._agents})
        for start in range(0, len(wanted), LOOK_UP_CHUNK):
            chunk = wanted[start : start + LOOK_UP_CHUNK]
            found = {
                row.agent_id: _info(row)
                for row in self.connection.execute(
                    select(agents.c.agent_id, *_DIRECTORY_COLUMNS).where(
                        agents.c.agent_id.in_(chunk)
                    )
                )
            }
            for agent_id in chunk:
                self._agents[agent_id] = found.get(agent_id)

    def remember_agent(self, agent_id: UUID, info: AgentInfo) -> None:
        self._agents[agent_id] = info

    def cached_agents(self) -> Mapping[UUID, AgentInfo | None]:
        """The directory entries this batch looked up (None: not enrolled when looked up),
        as its handlers left them: an agent's enrolment, transfer and departure write its
        entry here as in the table."""
        return self._agents

    def team_name(self, team_id: UUID) -> str | None:
        if team_id not in self._team_names:
            self._team_names[team_id] = self.connection.execute(
                select(teams.c.name).where(teams.c.team_id == team_id)
            ).scalar_one_or_none()
        return self._team_names[team_id]

    def remember_team(self, team_id: UUID, name: str) -> None:
        self._team_names[team_id] = name
