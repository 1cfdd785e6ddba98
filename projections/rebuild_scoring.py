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
agent's whole history at once (:func:`domain.scoring.score_agent`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Index, func, select

from domain.facts import AgentHistory, Recognition, RecognitionKind
from domain.rulebook import RulebookHistory
from domain.scoring import AgentScore, score_agent
from domain.timeline import Lifespan, RulebookTimeline, points_versions
from projections.asof_index import load_timeline, version_row
from projections.asof_tables import asof_agent_moves, asof_points, asof_retractions
from projections.boards import board_entry
from projections.bulk import bulk_insert, bulk_update
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

CHUNK_FACTS = 10_000
"""Facts (rows read: recognitions received and kudos given) a chunk holds at most, with what
is derived from them; an agent with more is scored alone. About 1.5 KB of Python objects per
fact at the chunk's peak, so ~15 MiB."""

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
    for page in every_agent(connection, CHUNK):
        for chunk in split_by_facts(page, fact_counts(connection, page), CHUNK_FACTS):
            done += score_chunk(connection, chunk, history, timeline, tz)
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


def _received(connection: Connection, chunk: Sequence[UUID]) -> Iterator[Any]:
    query = (
        select(*_RECEIVED_COLUMNS)
        .select_from(
            recognitions.outerjoin(
                asof_retractions, asof_retractions.c.recording_id == recognitions.c.recording_id
            )
        )
        .where(recognitions.c.agent_id.in_(chunk))
    )
    return iter(connection.execute(query))


def _given(connection: Connection, chunk: Sequence[UUID]) -> dict[UUID, list[Recognition]]:
    given: dict[UUID, list[Recognition]] = {}
    query = select(*RECOGNITION_COLUMNS).where(
        recognitions.c.from_agent.in_(chunk),
        recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
        recognitions.c.retracted.is_(False),
    )
    for row in connection.execute(query):
        given.setdefault(row[9], []).append(recognition_from_row(row))
    return given


def score_chunk(
    connection: Connection,
    chunk: Sequence[UUID],
    history: RulebookHistory,
    timeline: RulebookTimeline,
    tz: tzinfo,
) -> int:
    """Every derived row of ``chunk``'s agents (sorted ids), from one read of their facts."""
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
    lifespans: list[Lifespan] = []
    for row in _received(connection, chunk):
        recognition = recognition_from_row(row)
        if not row[_RETRACTED]:
            received.setdefault(recognition.agent_id, []).append(recognition)
        if recognition.agent_id in keys:
            lifespans.append(Lifespan(recognition, recorded=row[1], retracted=row[_RETRACTED_AT]))
    given = _given(connection, chunk)

    points: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    badges: list[dict[str, Any]] = []
    periods: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    present = [agent_id for agent_id in chunk if agent_id in directory]
    for agent_id in present:
        entry = directory[agent_id]
        score: AgentScore = score_agent(
            AgentHistory(
                agent_id=agent_id,
                received=tuple(received.get(agent_id, ())),
                kudos_given=tuple(given.get(agent_id, ())),
            ),
            history,
            tz,
        )
        for line in score.lines:
            wanted: tuple[Any, ...] = (line.points, line.rulebook_version, line.rule, line.capped)
            if wanted != _NOT_SCORED:  # what a fresh row holds already
                points.append(
                    {
                        "b_recording_id": line.recording_id,
                        "points": line.points,
                        "rulebook_version": line.rulebook_version,
                        "rule": line.rule,
                        "capped": line.capped,
                    }
                )
        profiles.append(profile_values(score, entry.team_id, entry.departed_at is not None))
        badges.extend(badge_values(score).values())
        on_board = entry.departed_at is None
        for (window, start, competency), xp in sorted(period_values(score, tz).items()):
            periods.append(
                {
                    "window": window,
                    "period_start": start,
                    "competency": competency,
                    "agent_id": agent_id,
                    "xp": xp,
                }
            )
            if on_board and xp > 0:
                entries.append(
                    board_entry(
                        agent_id, (window, start, competency), entry.team_id, entry.name, xp
                    )
                )
    bulk_update(connection, recognitions, ("recording_id",), points)
    bulk_insert(connection, agent_profiles, profiles)
    bulk_insert(connection, agent_badges, badges)
    bulk_insert(connection, period_xp, periods)
    bulk_insert(connection, board_entries, entries)
    if lifespans:
        bulk_insert(
            connection,
            asof_points,
            [
                version_row(keys[v.recognition.agent_id], v)
                for v in points_versions(lifespans, timeline, tz)
            ],
        )
    return len(present)
