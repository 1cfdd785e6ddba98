"""The end of a rebuild: every agent's derived rows in one pass over its facts.

Once a rebuild has loaded the facts, each chunk of agents (in id order) is read ONCE — the
recognitions they received, with the position that retracted each, and the kudos they gave —
and from those rows, in memory, with the pure rules of the domain:

* :func:`domain.scoring.score_agent` gives the recognitions' points, the profile, the badges
  and the period XP (:mod:`projections.scoring` writes the same rows a batch would);
* :func:`domain.timeline.points_versions` gives the as-of points versions
  (:mod:`projections.asof_index` writes the same rows);
* the board entries are the positive period XP of the chunk's present agents with their team
  and name (what :func:`projections.boards.fill_boards` selects), written in key order.

Before, the same work read the facts twice (scoring, then the as-of points) and filled the
boards with a join over every ``period_xp`` row. Every derived table is written without its
secondary indexes, which are created once at the end (the whole pass is one transaction, so
a rebuild that dies here leaves the tables, indexes included, as they were).

Memory is bounded by the chunk, not by the length of the log nor the number of agents: agents
are listed :data:`CHUNK` at a time (keyset pagination), and each page is split, in id order,
into chunks whose facts (recognitions received, retracted ones included, and kudos given) add
up to at most :data:`CHUNK_FACTS` rows, counted first with one aggregate per side. Only an agent
with more facts than that on its own is scored alone, in a chunk of its own: scoring takes an
agent's whole history at once (:func:`domain.scoring.score_agent`). What is derived goes out
:data:`FLUSH_ROWS` rows a table at a time (:class:`Derived`), whatever the chunk: a sparse
history derives about 17 period and board rows a fact. ``tests/integration/
test_rebuild_memory.py`` holds the pass to its budget of facts in a store and in the same store
grown four times over, and finds the same working set (tracemalloc) in a store of four times
as many agents and recognitions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Index, bindparam, func, select

from domain.facts import AgentHistory, Recognition, RecognitionKind
from domain.rulebook import RulebookHistory
from domain.scoring import AgentScore, score_agent
from domain.timeline import Lifespan, RulebookTimeline, points_versions
from projections.asof_index import load_timeline, version_row
from projections.asof_tables import asof_agent_moves, asof_points, asof_retractions
from projections.boards import board_entry
from projections.bulk import bulk_insert, bulk_update
from projections.prepared import Prepared
from projections.scoring import (
    RECOGNITION_COLUMNS,
    badge_values,
    every_agent,
    period_values,
    profile_values,
    recognition_from_row,
)
from projections.tables import (
    agent_badges,
    agent_profiles,
    agents,
    board_entries,
    period_xp,
    recognitions,
)

CHUNK = 1000
"""Agents listed at once (their ids and fact counts)."""

CHUNK_FACTS = 5_000
"""Facts (rows read: recognitions received and kudos given) a chunk holds at most; an agent
with more is scored alone."""

FLUSH_ROWS = 2_000
"""Derived rows a table gathers before they are written (:class:`Derived`)."""

DEFERRED: tuple[Index, ...] = (
    *sorted(board_entries.indexes, key=lambda i: str(i.name)),
    *sorted(asof_points.indexes, key=lambda i: str(i.name)),
)
"""Indexes this pass drops and creates again once every row is in (the other derived
tables' deferred indexes are :data:`projections.schema.LOADED_BEFORE_INDEXED`)."""

# recognition_from_row reads the first ten by position; then retracted, the retraction's
# position.
_RECEIVED_COLUMNS = (*RECOGNITION_COLUMNS, recognitions.c.retracted, asof_retractions.c.position)
_RETRACTED, _RETRACTED_AT = 10, 11
_NOT_SCORED: tuple[Any, ...] = (0, None, None, False)


def score_everyone(connection: Connection, history: RulebookHistory, tz: tzinfo) -> int:
    """Write every derived row of every agent into empty derived tables (the end of a
    rebuild); return how many agents were scored."""
    for index in DEFERRED:
        index.drop(connection, checkfirst=True)
    timeline = load_timeline(connection)
    done = 0
    out = Derived(connection)
    for page in every_agent(connection, CHUNK):
        for chunk in split_by_facts(page, fact_counts(connection, page), CHUNK_FACTS):
            done += score_chunk(connection, chunk, history, timeline, tz, out)
    out.send(full_only=False)
    for index in DEFERRED:
        index.create(connection, checkfirst=True)
    return done


def fact_counts(connection: Connection, page: Sequence[UUID]) -> dict[UUID, int]:
    """How many rows :func:`score_chunk` reads for each agent of ``page`` that has any: the
    recognitions it received (retracted included) and, at most, the kudos it gave (counted
    retracted or not; only kudos name a ``from_agent``): both from an index alone."""
    counts: dict[UUID, int] = {}
    for column in (recognitions.c.agent_id, recognitions.c.from_agent):
        query = select(column, func.count()).where(column.in_(page)).group_by(column)
        for agent_id, count in connection.execute(query):
            counts[agent_id] = counts.get(agent_id, 0) + int(count)
    return counts


def split_by_facts(
    page: Sequence[UUID], counts: Mapping[UUID, int], limit: int
) -> Iterator[list[UUID]]:
    """``page`` in order, cut into chunks of at most ``limit`` facts (``counts``; an agent
    absent has none); an agent with more than ``limit`` alone."""
    chunk: list[UUID] = []
    held = 0
    for agent_id in page:
        count = counts.get(agent_id, 0)
        if chunk and held + count > limit:
            yield chunk
            chunk, held = [], 0
        chunk.append(agent_id)
        held += count
    if chunk:
        yield chunk


def _between(column: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``column`` from the bind ``first`` to the bind ``last`` (a chunk's first and last
    agents: a chunk is a run of consecutive agents in id order)."""
    return (
        column >= bindparam("first", type_=column.type),
        column <= bindparam("last", type_=column.type),
    )


# Compiled once and run on the driver's cursor, their rows converted by one generated
# function (projections.prepared): SQLAlchemy's result rows cost a quarter of the scoring.
_RECEIVED = Prepared(
    select(*_RECEIVED_COLUMNS)
    .select_from(
        recognitions.outerjoin(
            asof_retractions, asof_retractions.c.recording_id == recognitions.c.recording_id
        )
    )
    .where(*_between(recognitions.c.agent_id))
)
_GIVEN = Prepared(
    select(*RECOGNITION_COLUMNS).where(
        *_between(recognitions.c.from_agent),
        recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
        recognitions.c.retracted.is_(False),
    )
)


def _received(connection: Connection, chunk: Sequence[UUID]) -> list[tuple[Any, ...]]:
    wanted = set(chunk)  # a fact naming no agent of the directory is nobody's
    rows = _RECEIVED.rows(connection, first=chunk[0], last=chunk[-1])
    return [row for row in rows if row[2] in wanted]


def _given(connection: Connection, chunk: Sequence[UUID]) -> dict[UUID, list[Recognition]]:
    wanted = set(chunk)
    given: dict[UUID, list[Recognition]] = {}
    for row in _GIVEN.rows(connection, first=chunk[0], last=chunk[-1]):
        if row[9] in wanted:
            given.setdefault(row[9], []).append(recognition_from_row(row))
    return given


def score_chunk(
    connection: Connection,
    chunk: Sequence[UUID],
    history: RulebookHistory,
    timeline: RulebookTimeline,
    tz: tzinfo,
    out: Derived,
) -> int:
    """Every derived row of ``chunk``'s agents (sorted ids), from one read of their facts,
    sent to ``out`` (the pass's :class:`Derived`: some may be written later)."""
    directory = {
        row.agent_id: row
        for row in connection.execute(
            select(agents.c.agent_id, agents.c.team_id, agents.c.name, agents.c.departed_at).where(
                agents.c.agent_id.in_(chunk)
            )
        )
    }
    keys = {
        agent_id: int(key)
        for agent_id, key in connection.execute(
            select(asof_agent_moves.c.agent_id, func.min(asof_agent_moves.c.position))
            .where(asof_agent_moves.c.agent_id.in_(chunk))
            .group_by(asof_agent_moves.c.agent_id)
        )
    }
    received: dict[UUID, list[Recognition]] = {}
    lifespans: dict[UUID, list[Lifespan]] = {}
    for row in _received(connection, chunk):
        recognition = recognition_from_row(row)
        if not row[_RETRACTED]:
            received.setdefault(recognition.agent_id, []).append(recognition)
        if recognition.agent_id in keys:
            lifespans.setdefault(recognition.agent_id, []).append(
                Lifespan(recognition, recorded=row[1], retracted=row[_RETRACTED_AT])
            )
    given = _given(connection, chunk)

    scored = 0
    for agent_id in chunk:
        entry = directory.get(agent_id)
        if entry is not None:
            scored += 1
            score: AgentScore = score_agent(
                AgentHistory(
                    agent_id=agent_id,
                    received=tuple(received.pop(agent_id, ())),
                    kudos_given=tuple(given.pop(agent_id, ())),
                ),
                history,
                tz,
            )
            out.add_score(score, entry, tz)
        spans = lifespans.pop(agent_id, None)
        if spans:  # a version depends only on its agent's group: one agent at a time
            key = keys[agent_id]
            out.versions.extend(version_row(key, v) for v in points_versions(spans, timeline, tz))
        out.send(full_only=True)
    return scored


class Derived:
    """Derived rows on their way to their tables. A table's rows are written once
    :data:`FLUSH_ROWS` have gathered (looked at after each agent) and at the end, so what a
    chunk derives is never held whole; each table gets its rows in the order they were
    derived (agents in id order: the boards' key order)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.points: list[dict[str, Any]] = []
        self.profiles: list[dict[str, Any]] = []
        self.badges: list[dict[str, Any]] = []
        self.periods: list[dict[str, Any]] = []
        self.entries: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []

    def add_score(self, score: AgentScore, entry: Any, tz: tzinfo) -> None:
        """The rows of one agent's ``score``; ``entry``: its directory row."""
        agent_id = score.agent_id
        for line in score.lines:
            wanted: tuple[Any, ...] = (line.points, line.rulebook_version, line.rule, line.capped)
            if wanted != _NOT_SCORED:  # what a fresh row holds already
                self.points.append(
                    {
                        "b_recording_id": line.recording_id,
                        "points": line.points,
                        "rulebook_version": line.rulebook_version,
                        "rule": line.rule,
                        "capped": line.capped,
                    }
                )
        self.profiles.append(profile_values(score, entry.team_id, entry.departed_at is not None))
        self.badges.extend(badge_values(score).values())
        on_board = entry.departed_at is None
        for (window, start, competency), xp in sorted(period_values(score, tz).items()):
            self.periods.append(
                {
                    "window": window,
                    "period_start": start,
                    "competency": competency,
                    "agent_id": agent_id,
                    "xp": xp,
                }
            )
            if on_board and xp > 0:
                self.entries.append(
                    board_entry(
                        agent_id, (window, start, competency), entry.team_id, entry.name, xp
                    )
                )

    def send(self, *, full_only: bool) -> None:
        """Write the rows gathered (``full_only``: only a table's that reached
        :data:`FLUSH_ROWS`)."""
        least = FLUSH_ROWS if full_only else 1
        connection = self.connection
        if len(self.points) >= least:
            bulk_update(connection, recognitions, ("recording_id",), self.points)
            self.points = []
        for table, name in _INSERTED:
            rows: list[dict[str, Any]] = getattr(self, name)
            if len(rows) >= least:
                bulk_insert(connection, table, rows)
                setattr(self, name, [])


_INSERTED = (
    (agent_profiles, "profiles"),
    (agent_badges, "badges"),
    (period_xp, "periods"),
    (board_entries, "entries"),
    (asof_points, "versions"),
)
