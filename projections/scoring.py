"""Recompute agents' derived rows from their facts with the pure rules of the domain.

For each agent: its non-retracted recognitions received and kudos given become an
``AgentHistory``; :func:`domain.scoring.score_agent` scores it; the profile, badges,
period XP and the recognitions' points are then brought in line, writing only differences.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, Table, select

from domain.badges import BadgeStatus
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.periods import PeriodKey, period_totals
from domain.rulebook import Publication, Rulebook, RulebookHistory, parse_rulebook
from domain.scoring import AgentScore, XpLine, score_agent
from projections.bulk import bulk_delete, bulk_insert, bulk_update
from projections.prepared import Sized, each
from projections.tables import (
    XP_COLUMNS,
    agent_badges,
    agent_profiles,
    agents,
    period_xp,
    recognitions,
    rulebooks,
)

CHUNK = 200
FRESH_CHUNK = 1000


class RulebookCache:
    """Parsed rulebooks by version (a published version never changes)."""

    def __init__(self) -> None:
        self._parsed: dict[int, Rulebook] = {}

    def history(self, connection: Connection) -> RulebookHistory:
        rows = connection.execute(
            select(rulebooks.c.version, rulebooks.c.effective_from, rulebooks.c.rules)
        ).all()
        if not rows:
            return RulebookHistory.default()
        publications = [
            Publication(row.effective_from, self.rulebook(row.version, row.rules)) for row in rows
        ]
        return RulebookHistory(tuple(publications))

    def rulebook(self, version: int, rules: Any) -> Rulebook:
        """The stored ``rules`` of ``version``, parsed (once per version)."""
        found = self._parsed.get(version)
        if found is None:
            found = self._parsed[version] = parse_rulebook(rules)
        return found


_KINDS: dict[str, RecognitionKind] = {kind.value: kind for kind in RecognitionKind}
_FEEDBACK_KINDS: dict[str, FeedbackKind] = {kind.value: kind for kind in FeedbackKind}
_COMPETENCY_SETS: dict[str, tuple[Competency, ...]] = {}


def _competencies(stored: str) -> tuple[Competency, ...]:
    """The competencies of a stored ``a;b`` string (few distinct strings: cached)."""
    found = _COMPETENCY_SETS.get(stored)
    if found is None:
        found = tuple(Competency(c) for c in stored.split(";") if c)
        if len(_COMPETENCY_SETS) < 10_000:
            _COMPETENCY_SETS[stored] = found
    return found


def recognition_from_row(
    row: Row[Any] | tuple[Any, ...], agent_id: UUID | None = None
) -> Recognition:
    """A recognition from a row of :data:`FACT_COLUMNS` (positional, for speed).
    ``agent_id``: the agent's id, equal to the row's, to share instead of the row's own
    object (facts kept in memory hold one per agent rather than one per recognition)."""
    (recording_id, sequence, row_agent_id, kind, competencies, occurred_at, rating,
     feedback_kind, score, from_agent) = row[:10]  # fmt: skip
    return Recognition(
        recording_id=recording_id,
        agent_id=row_agent_id if agent_id is None else agent_id,
        kind=_KINDS[kind],
        competencies=_competencies(competencies),
        occurred_at=occurred_at,
        sequence=sequence,
        rating=rating,
        feedback_kind=_FEEDBACK_KINDS[feedback_kind] if feedback_kind else None,
        score=score,
        from_agent=from_agent,
    )


# What recognition_from_row reads, by position: every query it decodes starts with these.
RECOGNITION_COLUMNS = (
    recognitions.c.recording_id,
    recognitions.c.notification_id,
    recognitions.c.agent_id,
    recognitions.c.kind,
    recognitions.c.competencies,
    recognitions.c.occurred_at,
    recognitions.c.rating,
    recognitions.c.feedback_kind,
    recognitions.c.score,
    recognitions.c.from_agent,
)

# The order matters: recognition_from_row and _Facts unpack rows by position.
FACT_COLUMNS = (
    *RECOGNITION_COLUMNS,
    recognitions.c.retracted,
    recognitions.c.points,
    recognitions.c.rulebook_version,
    recognitions.c.rule,
    recognitions.c.capped,
)


# Positions in a row of FACT_COLUMNS.
RECORDING_ID, RETRACTED, _DERIVED = 0, 10, slice(11, 15)
_NOT_SCORED = (0, None, None, False)


@dataclass
class _Facts:
    received: list[Row[Any]]
    given: list[Recognition]


def chunks(ids: Iterable[UUID], size: int = CHUNK) -> Iterator[list[UUID]]:
    chunk: list[UUID] = []
    for agent_id in ids:
        chunk.append(agent_id)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def every_agent(connection: Connection, size: int = CHUNK) -> Iterator[list[UUID]]:
    """Every agent id, in chunks, by keyset pagination (memory stays bounded)."""
    last: UUID | None = None
    while True:
        query = select(agents.c.agent_id).order_by(agents.c.agent_id).limit(size)
        if last is not None:
            query = query.where(agents.c.agent_id > last)
        chunk = list(connection.execute(query).scalars())
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


def recompute_every_agent(
    connection: Connection, history: RulebookHistory, tz: tzinfo, *, fresh: bool = False
) -> int:
    """Recompute every agent. ``fresh``: no derived row has been written since the tables
    were created (the end of a rebuild), so nothing is read back or compared: every derived
    row is inserted."""
    done = 0
    for chunk in every_agent(connection, FRESH_CHUNK if fresh else CHUNK):
        done += _recompute_chunk(connection, chunk, history, tz, fresh=fresh)
    return done


def _load_facts(connection: Connection, chunk: Sequence[UUID]) -> dict[UUID, _Facts]:
    """The facts of ``chunk``'s agents, two queries in all."""
    facts = {agent_id: _Facts([], []) for agent_id in chunk}
    for row in connection.execute(select(*FACT_COLUMNS).where(recognitions.c.agent_id.in_(chunk))):
        facts[row[2]].received.append(row)
    for row in connection.execute(
        select(*FACT_COLUMNS).where(
            recognitions.c.from_agent.in_(chunk),
            recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
            recognitions.c.retracted.is_(False),
        )
    ):
        facts[row[9]].given.append(recognition_from_row(row))
    return facts


def directory_of(connection: Connection, chunk: Sequence[UUID]) -> dict[UUID, Row[Any]]:
    """The team and departure of each agent of ``chunk`` that exists."""
    query = select(agents.c.agent_id, agents.c.team_id, agents.c.departed_at).where(
        agents.c.agent_id.in_(chunk)
    )
    return {row.agent_id: row for row in connection.execute(query)}


def _recompute_chunk(
    connection: Connection,
    chunk: Sequence[UUID],
    history: RulebookHistory,
    tz: tzinfo,
    *,
    fresh: bool = False,
) -> int:
    directory = directory_of(connection, chunk)
    present = [a for a in chunk if a in directory]
    if not present:
        return 0
    facts = _load_facts(connection, present)
    scores: dict[UUID, AgentScore] = {}
    for agent_id in present:
        agent_facts = facts[agent_id]
        received = tuple(recognition_from_row(r) for r in agent_facts.received if not r[RETRACTED])
        scores[agent_id] = score_agent(
            AgentHistory(
                agent_id=agent_id, received=received, kudos_given=tuple(agent_facts.given)
            ),
            history,
            tz,
        )
    _write_points(connection, facts, scores)
    write_profiles(connection, present, directory, scores, fresh=fresh)
    write_badges(connection, present, scores, fresh=fresh)
    _write_period_xp(connection, present, scores, tz, fresh=fresh)
    return len(present)


# ------------------------------------------------------------------------------ writing


def point_changes(rows: Iterable[Row[Any]], lines: Iterable[XpLine]) -> list[dict[str, Any]]:
    """The updates that bring the derived columns of ``rows`` (of :data:`FACT_COLUMNS`) in
    line with ``lines``; a row without a line (retracted) earns nothing."""
    by_recording = {line.recording_id: line for line in lines}
    changes: list[dict[str, Any]] = []
    for row in rows:
        line = by_recording.get(row[RECORDING_ID])
        wanted = (
            (line.points, line.rulebook_version, line.rule, line.capped)
            if line is not None
            else _NOT_SCORED
        )
        points, version, rule, capped = row[_DERIVED]
        if (points, version, rule, bool(capped)) != wanted:
            changes.append(
                {
                    "b_recording_id": row[RECORDING_ID],
                    "points": wanted[0],
                    "rulebook_version": wanted[1],
                    "rule": wanted[2],
                    "capped": wanted[3],
                }
            )
    return changes


def _write_points(
    connection: Connection, facts: Mapping[UUID, _Facts], scores: Mapping[UUID, AgentScore]
) -> None:
    changes: list[dict[str, Any]] = []
    for agent_id, agent_facts in facts.items():
        changes += point_changes(agent_facts.received, scores[agent_id].lines)
    bulk_update(connection, recognitions, ("recording_id",), changes)


def profile_values(score: AgentScore, team_id: UUID, departed: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "agent_id": score.agent_id,
        "team_id": team_id,
        "departed": departed,
        "xp_total": score.xp_total,
        "level": score.level.level,
        "xp_into_level": score.level.xp_into_level,
        "xp_for_next_level": score.level.xp_for_next_level,
        "best_streak": score.streak.best,
        "streak_run": score.streak.run,
        "last_active_day": score.streak.last_active_day,
    }
    for competency, column in zip(ALL_COMPETENCIES, XP_COLUMNS, strict=True):
        values[column] = score.xp_by_competency[competency]
    return values


_PROFILES = Sized(
    lambda n: select(agent_profiles).where(
        agent_profiles.c.agent_id.in_(each(n, agent_profiles.c.agent_id))
    )
)
_PROFILE_NAMES = tuple(agent_profiles.c.keys())


def stored_profiles(connection: Connection, present: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    """The ``agent_profiles`` rows of ``present`` that exist, by agent, column by column."""
    existing: dict[UUID, dict[str, Any]] = {}
    for chunk in chunks(present):
        for row in _PROFILES.rows(connection, [(agent_id,) for agent_id in chunk]):
            existing[row[0]] = dict(zip(_PROFILE_NAMES, row, strict=True))
    return existing


def write_profiles(
    connection: Connection,
    present: Sequence[UUID],
    directory: Mapping[UUID, Row[Any]],
    scores: Mapping[UUID, AgentScore],
    *,
    fresh: bool = False,
    existing: Mapping[UUID, Mapping[str, Any]] | None = None,
) -> dict[UUID, dict[str, Any]]:
    """``existing``: the stored profiles of ``present`` (:func:`stored_profiles`), when the
    caller read them already. Returns the profiles of ``present`` as now stored."""
    if existing is None:
        existing = {} if fresh else stored_profiles(connection, present)
    inserts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    stored: dict[UUID, dict[str, Any]] = {}
    for agent_id in present:
        entry = directory[agent_id]
        wanted = profile_values(scores[agent_id], entry.team_id, entry.departed_at is not None)
        stored[agent_id] = wanted
        current = existing.get(agent_id)
        if current is None:
            inserts.append(wanted)
        elif current != wanted:
            changes.append({("b_agent_id" if k == "agent_id" else k): v for k, v in wanted.items()})
    bulk_insert(connection, agent_profiles, inserts)
    bulk_update(connection, agent_profiles, ("agent_id",), changes)
    return stored


def badge_values(score: AgentScore) -> dict[str, dict[str, Any]]:
    return {status.key: badge_row(score.agent_id, status) for status in score.badges}


def badge_row(agent_id: UUID, status: BadgeStatus) -> dict[str, Any]:
    """The ``agent_badges`` row of ``agent_id``'s ``status``."""
    last = status.earned[-1] if status.earned else None
    return {
        "agent_id": agent_id,
        "badge_key": status.key,
        "tier": status.tier,
        "progress": status.progress,
        "next_threshold": status.next_threshold,
        "earned_at": last.earned_at if last else None,
        "evidence": [str(r) for r in last.evidence] if last else [],
    }


def write_badges(
    connection: Connection,
    present: Sequence[UUID],
    scores: Mapping[UUID, AgentScore],
    *,
    fresh: bool = False,
) -> None:
    existing: dict[tuple[UUID, str], dict[str, Any]] = (
        {}
        if fresh
        else {
            (row.agent_id, row.badge_key): dict(row._mapping)
            for row in connection.execute(
                select(agent_badges).where(agent_badges.c.agent_id.in_(present))
            )
        }
    )
    wanted: dict[tuple[UUID, str], dict[str, Any]] = {}
    for agent_id in present:
        for key, values in badge_values(scores[agent_id]).items():
            wanted[(agent_id, key)] = values
    apply_differences(connection, agent_badges, ("agent_id", "badge_key"), existing, wanted)


def period_values(score: AgentScore, tz: tzinfo) -> dict[PeriodKey, int]:
    return period_totals(score, tz)


PeriodRowKey = tuple[str, date, str, UUID]
PERIOD_KEYS = ("window", "period_start", "competency", "agent_id")
PERIOD_COLUMNS = (*(period_xp.c[k] for k in PERIOD_KEYS), period_xp.c.xp)


def _write_period_xp(
    connection: Connection,
    present: Sequence[UUID],
    scores: Mapping[UUID, AgentScore],
    tz: tzinfo,
    *,
    fresh: bool = False,
) -> None:
    """Bring ``period_xp`` in line, comparing XP by key (the only non-key column)."""
    existing: dict[PeriodRowKey, int] = {}
    if not fresh:
        query = select(*PERIOD_COLUMNS).where(period_xp.c.agent_id.in_(present))
        existing = {(w, s, c, a): xp for w, s, c, a, xp in connection.execute(query)}
    inserts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    seen: set[PeriodRowKey] = set()
    for agent_id in present:
        for (window, start, competency), xp in period_values(scores[agent_id], tz).items():
            key = (window, start, competency, agent_id)
            seen.add(key)
            current = existing.get(key)
            if current == xp:
                continue
            row = {"window": window, "period_start": start, "competency": competency}
            if current is None:
                inserts.append({**row, "agent_id": agent_id, "xp": xp})
            else:
                changes.append(
                    {
                        "b_window": window,
                        "b_period_start": start,
                        "b_competency": competency,
                        "b_agent_id": agent_id,
                        "xp": xp,
                    }
                )
    keys = PERIOD_KEYS
    gone = [
        {"b_window": w, "b_period_start": s, "b_competency": c, "b_agent_id": a}
        for (w, s, c, a) in existing
        if (w, s, c, a) not in seen
    ]
    bulk_delete(connection, period_xp, keys, gone)
    bulk_insert(connection, period_xp, inserts)
    bulk_update(connection, period_xp, keys, changes)


def apply_differences(
    connection: Connection,
    table: Table,
    keys: tuple[str, ...],
    existing: Mapping[Any, dict[str, Any]],
    wanted: Mapping[Any, dict[str, Any]],
) -> None:
    """Insert the new rows, update the changed ones, delete the ones no longer wanted."""
    gone = [{f"b_{k}": existing[key][k] for k in keys} for key in existing if key not in wanted]
    new = [values for key, values in wanted.items() if key not in existing]
    changed = [
        {
            **{f"b_{k}": values[k] for k in keys},
            **{k: v for k, v in values.items() if k not in keys},
        }
        for key, values in wanted.items()
        if key in existing and existing[key] != values
    ]
    bulk_delete(connection, table, keys, gone)
    bulk_insert(connection, table, new)
    bulk_update(connection, table, keys, changed)
