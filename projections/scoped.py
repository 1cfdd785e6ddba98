"""Rescore the agents a live batch touched, with work that grows with what changed rather
than with the agents' histories.

A recognition's points depend only on the other recognitions of its *group* — the same agent,
local day and kind — and on the rulebooks (a daily cap ranks within a group). So only the
groups a batch touched are scored again, by the same pure :func:`domain.scoring.score_lines`.
What else an agent's rows hold follows from the stored points and facts, and is computed by
set-based SQL over the agent's rows, in the database:

* XP per competency and in total: sums (the profile, and the "all" period);
* week and month XP: the stored rows plus the points the rescored groups gained or lost;
* the streak: the stored one, extended by the touched days when they only gained
  recognitions and none lies before its last active day (the live case); otherwise from
  the distinct local days with a recognition;
* badges, per definition of the newest rulebook: the metric's value and its first steps in
  ``order_key`` order, up to the one that reaches the highest threshold it reaches — all that
  decides the tiers, their dates and their evidence — handed to the domain's own
  :func:`domain.badges.status_from_steps`. Only the comeback metric pairs feedback one by one,
  so it reads the agent's feedback (and nothing else).

  Most badges need none of that: a tier is decided by the steps up to the one that reached it,
  so when every step the batch could have changed (the touched groups' days, and for kudos the
  days of the kudos an agent gave) lies on a later local day than the highest tier's
  ``earned_at``, and the metric's new value (one aggregate per agent) reaches no further tier,
  the stored row stands with the new value as its progress. Only the others read steps.

A rulebook publication changes every point: that batch rescores everyone in full instead
(:func:`projections.scoring.recompute_every_agent`). Property tests hold both paths, a rebuild
and the pure reference model to the same rows.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)

from domain.badges import BadgeStatus, OrderedReceived, evaluate_badge, matches_count
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import AgentHistory, Recognition, RecognitionKind
from domain.levels import level_for
from domain.periods import ALL_TIME_START, TOTAL, month_start, week_start
from domain.rulebook import (
    BadgeDefinition,
    ComebackMetric,
    CompetencyXpMetric,
    CountMetric,
    FrozenMap,
    KudosMetric,
    RulebookHistory,
)
from domain.scoring import AgentScore, XpLine, local_day, score_lines
from domain.streaks import StreakSummary, next_working_day, streak_summary
from projections.boards import board_entry, refresh_boards
from projections.bulk import bulk_delete, bulk_insert, bulk_update
from projections.context import AgentInfo, BatchChanges, ScoringGroup
from projections.prepared import Sized, each, item_binds
from projections.scoring import (
    FACT_COLUMNS,
    PERIOD_COLUMNS,
    PERIOD_KEYS,
    RECORDING_ID,
    RETRACTED,
    PeriodRowKey,
    apply_differences,
    badge_row,
    chunks,
    every_agent,
    point_changes,
    recognition_from_row,
    stored_profiles,
    write_profiles,
)
from projections.tables import (
    XP_COLUMNS,
    agent_badges,
    agents,
    board_entries,
    period_xp,
    recognitions,
)

r = recognitions.c
Found = TypeVar("Found")
SPANS_PER_QUERY = 100  # SQLite refuses expressions deeper than 1,000: OR at most this many
_LIVE = r.retracted.is_(False)
COMPETENCIES, POINTS, RULEBOOK_VERSION, RULE, CAPPED = 4, 11, 12, 13, 14  # of FACT_COLUMNS
_KUDOS = RecognitionKind.KUDOS_GIVEN.value


def rescore_touched(
    connection: Connection,
    agent_ids: Iterable[UUID],
    groups: Iterable[ScoringGroup],
    history: RulebookHistory,
    tz: tzinfo,
    changes: BatchChanges,
    kept: LiveFacts | None = None,
    looked_up: Mapping[UUID, AgentInfo | None] | None = None,
) -> int:
    """Bring the derived rows of ``agent_ids`` in line, rescoring the points of ``groups``
    only (every other group's stored points are up to date). Returns the agents done.

    ``changes`` says what the batch recorded and retracted (and whose directory entry it
    wrote): the badges' values and the active days follow from the stored rows and the
    touched groups, without reading the agents' other facts, and the agents' board entries
    are brought in line too (:func:`projections.boards.refresh_boards` need not be called
    for them). ``kept``: the live facts kept between batches (:class:`LiveFacts`,
    valid at the position this batch starts from), brought in line with this batch.
    ``looked_up``: the directory entries the batch read already, as its handlers left them
    (:meth:`projections.context.BatchContext.cached_agents`): not read again."""
    by_agent: dict[UUID, set[ScoringGroup]] = {}
    for group in groups:
        by_agent.setdefault(group[0], set()).add(group)
    givers = _givers(connection, by_agent)
    done = 0
    for chunk in chunks(sorted(set(agent_ids) | set(by_agent))):
        touched = {g for agent_id in chunk for g in by_agent.get(agent_id, ())}
        done += _rescore_chunk(
            connection, chunk, touched, history, tz, givers, changes, kept, looked_up or {}
        )
    return done


def _givers(connection: Connection, by_agent: Mapping[UUID, set[ScoringGroup]]) -> dict[UUID, date]:
    """The agents who gave kudos of the touched kudos groups, with the first such day: their
    kudos metric's steps may have changed from that day on."""
    kudos = [(g[0], g[1]) for groups in by_agent.values() for g in groups if g[2] == _KUDOS]
    givers: dict[UUID, date] = {}
    for first in range(0, len(kudos), SPANS_PER_QUERY):
        for giver, day in _GIVERS.rows(connection, kudos[first : first + SPANS_PER_QUERY]):
            givers[giver] = min(day, givers.get(giver, day))
    return givers


def _on_days(count: int) -> ColumnElement[bool]:
    """The recognitions of ``count`` (agent, local day) items."""
    pairs = item_binds(count, r.agent_id, r.local_day)
    return or_(*(and_(r.agent_id == a, r.local_day == d) for a, d in pairs))


_GIVERS = Sized(
    lambda n: (
        select(r.from_agent, func.min(r.local_day))
        .where(r.kind == _KUDOS, r.from_agent.is_not(None), _on_days(n))
        .group_by(r.from_agent)
    )
)
_LIVE_COLUMNS = (*FACT_COLUMNS, r.local_day)
"""A recognition's facts, derived columns and local day (what a group's rescore reads)."""
LOCAL_DAY = len(FACT_COLUMNS)  # in a row of _LIVE_COLUMNS
_ON_DAYS = Sized(lambda n: select(*_LIVE_COLUMNS).where(_on_days(n)))
_DIRECTORY = Sized(
    lambda n: select(
        agents.c.agent_id, agents.c.handle, agents.c.name, agents.c.team_id, agents.c.departed_at
    ).where(agents.c.agent_id.in_(each(n, agents.c.agent_id)))
)


def _agents_in(chunk: Sequence[UUID]) -> list[tuple[UUID]]:
    return [(agent_id,) for agent_id in chunk]


def _directory_of(connection: Connection, chunk: Sequence[UUID]) -> dict[UUID, AgentInfo]:
    """The directory entry of each agent of ``chunk`` that exists (as
    :func:`projections.scoring.directory_of`, prepared)."""
    return {
        row[0]: AgentInfo(row[1], row[2], row[3], row[4])
        for row in _DIRECTORY.rows(connection, _agents_in(chunk))
    }


def _directory(
    connection: Connection, chunk: Sequence[UUID], looked_up: Mapping[UUID, AgentInfo | None]
) -> dict[UUID, Any]:
    """The directory entries of ``chunk``'s agents that exist: the ones the batch looked up
    already (as its handlers left them), and the others read."""
    directory: dict[UUID, Any] = {}
    unread: list[UUID] = []
    for agent_id in chunk:
        if agent_id not in looked_up:
            unread.append(agent_id)
        elif (info := looked_up[agent_id]) is not None:
            directory[agent_id] = info
    directory.update(_directory_of(connection, unread))
    return directory


def _rescore_chunk(
    connection: Connection,
    chunk: Sequence[UUID],
    groups: set[ScoringGroup],
    history: RulebookHistory,
    tz: tzinfo,
    givers: Mapping[UUID, date],
    changes: BatchChanges,
    kept: LiveFacts | None,
    looked_up: Mapping[UUID, AgentInfo | None],
) -> int:
    directory = _directory(connection, chunk, looked_up)
    present = [a for a in chunk if a in directory]
    if not present:
        return 0
    known = set(present)
    touched = {g for g in groups if g[0] in known}
    rescored = _rescore_groups(connection, touched, history, tz, changes, keep=kept is not None)
    if kept is not None:
        kept.follow(rescored)
    profiles = _stored_profiles(connection, present, kept)
    sums = _xp_sums(connection, present, profiles, rescored)
    latest = history.latest
    streaks = _streaks(connection, present, profiles, rescored, latest.streak_working_days, kept)
    _write_badges(connection, present, latest.badges, rescored, givers, tz, sums, kept)
    scores: dict[UUID, AgentScore] = {}
    for agent_id in present:
        total, by_competency = sums.get(agent_id, (0, dict.fromkeys(ALL_COMPETENCIES, 0)))
        scores[agent_id] = AgentScore(
            agent_id=agent_id,
            xp_total=total,
            xp_by_competency=FrozenMap(by_competency),
            level=level_for(total, latest.level_curve),
            streak=streaks[agent_id],
            badges=(),  # written above
            lines=(),
        )
    written = write_profiles(connection, present, directory, scores, existing=profiles)
    if kept is not None:
        for agent_id, profile in written.items():
            kept.put_profile(agent_id, profile)
    moved = _write_periods(connection, rescored.deltas, sums, kept)
    _write_boards(connection, present, directory, changes, moved)
    return len(present)


def _stored_profiles(
    connection: Connection, present: Sequence[UUID], kept: LiveFacts | None
) -> dict[UUID, dict[str, Any]]:
    """The stored profiles of ``present``: the kept ones, and the others read."""
    profiles, unknown = _kept_or_unread(present, None if kept is None else kept.profile_of)
    profiles.update(stored_profiles(connection, unknown))
    return profiles


def _kept_or_unread(
    present: Sequence[UUID], kept: Callable[[UUID], Found | None] | None
) -> tuple[dict[UUID, Found], list[UUID]]:
    """What ``kept`` (a :class:`LiveFacts` look-up; None: nothing is kept) holds of the
    agents of ``present``, and the agents it does not: theirs must be read."""
    found: dict[UUID, Found] = {}
    unread: list[UUID] = []
    for agent_id in present:
        value = None if kept is None else kept(agent_id)
        if value is None:
            unread.append(agent_id)
        else:
            found[agent_id] = value
    return found, unread


# ------------------------------------------------------------------------------ points

DayDeltas = dict[date, dict[str, int]]
"""Per local day, how much each competency's XP (and the total, under ``TOTAL``) changed."""


@dataclass
class Rescored:
    """What rescoring the touched groups changed, per agent."""

    deltas: dict[UUID, DayDeltas] = field(default_factory=dict)
    facts: dict[UUID, list[tuple[date, Recognition]]] = field(default_factory=dict)
    """Every recognition of the agent's touched groups (retracted or not), with its day."""
    counted: dict[UUID, list[tuple[Recognition, int]]] = field(default_factory=dict)
    """The recognitions of the touched groups that the batch made count (+1: recorded) or
    stop counting (-1: retracted)."""
    fresh: dict[UUID, dict[tuple[date, str], list[KeptFact]]] = field(default_factory=dict)
    """Per agent and touched (day, kind): the group's live recognitions with their XP lines
    as rescored (what the rows hold once written), as :class:`LiveFacts` keeps them."""
    active: dict[UUID, tuple[set[date], set[date]]] = field(default_factory=dict)
    """Per agent, the touched days that became active (a first live recognition) and the
    ones that stopped being active."""


def _rescore_groups(
    connection: Connection,
    groups: set[ScoringGroup],
    history: RulebookHistory,
    tz: tzinfo,
    batch: BatchChanges,
    *,
    keep: bool = False,
) -> Rescored:
    """Score the touched groups again, and say by how much each day's XP changed;
    ``keep``: also give each group's live rows now (``fresh``, for :class:`LiveFacts`)."""
    outcome = Rescored()
    if not groups:
        return outcome
    pairs = sorted({(g[0], g[1]) for g in groups})
    members: dict[ScoringGroup, list[Any]] = {}
    live_on: dict[tuple[UUID, date], tuple[bool, bool]] = {}  # (before, now) per touched day
    for first in range(0, len(pairs), SPANS_PER_QUERY):
        for row in _ON_DAYS.rows(connection, pairs[first : first + SPANS_PER_QUERY]):
            group = (row[2], row[-1], row[3])  # agent, local day, kind
            if group in groups:
                members.setdefault(group, []).append(row)
            before, now = live_on.get((row[2], row[-1]), (False, False))
            live_on[(row[2], row[-1])] = (
                before or _counted_before(row, batch),
                now or not row[RETRACTED],
            )
    for (agent_id, day), (before, now) in live_on.items():
        if before != now:
            added, removed = outcome.active.setdefault(agent_id, (set(), set()))
            (added if now else removed).add(day)
    changes: list[dict[str, Any]] = []
    if keep:
        for group in groups:
            if group not in members:  # nothing of it is stored (an agent not enrolled)
                outcome.fresh.setdefault(group[0], {})[(group[1], group[2])] = []
    for (agent_id, day, kind), rows in members.items():
        facts = [recognition_from_row(row, agent_id) for row in rows]
        outcome.facts.setdefault(agent_id, []).extend((day, f) for f in facts)
        for fact, row in zip(facts, rows, strict=True):
            moved = int(not row[RETRACTED]) - int(_counted_before(row, batch))
            if moved:
                outcome.counted.setdefault(agent_id, []).append((fact, moved))
        live = tuple(f for f, row in zip(facts, rows, strict=True) if not row[RETRACTED])
        lines = score_lines(live, history, tz)
        found = point_changes(rows, lines)
        if keep:  # the lines are what the rows hold once ``found`` is written
            shared, by_recording = _shared_day(day), {f.recording_id: f for f in live}
            outcome.fresh.setdefault(agent_id, {})[(day, kind)] = [
                KeptFact(shared, by_recording[line.recording_id], line) for line in lines
            ]
        if not found:
            continue
        changes += found
        by_id = {row[RECORDING_ID]: row for row in rows}
        deltas = outcome.deltas.setdefault(agent_id, {}).setdefault(day, {})
        for change in found:
            row = by_id[change["b_recording_id"]]
            delta = change["points"] - int(row[POINTS] or 0)
            if delta:
                for column in (TOTAL, *row[COMPETENCIES].split(";")):
                    deltas[column] = deltas.get(column, 0) + delta
    bulk_update(connection, recognitions, ("recording_id",), changes)
    return outcome


class KeptFact(NamedTuple):
    """A live recognition as :class:`LiveFacts` keeps it: its local day, the recognition and
    the XP line its stored points make. The SQL row is not kept, and the values most facts
    share (the agent's id, the day, the rule's name) are one object each: 488 bytes a fact
    where the row, the recognition and the line each with their own objects took 1,031
    (``tracemalloc``, 50,000 facts of the full-size store)."""

    day: date
    fact: Recognition
    line: XpLine


_DAYS: dict[date, date] = {}


def _shared_day(day: date) -> date:
    """One ``date`` object per day for the kept facts (few distinct days: cached)."""
    found = _DAYS.get(day)
    if found is None:
        found = day
        if len(_DAYS) < 100_000:
            _DAYS[day] = day
    return found


def live_entry(row: tuple[Any, ...], agent_id: UUID | None = None) -> KeptFact:
    """A live recognition's row (of :data:`_LIVE_COLUMNS`), as the rules see it: the
    recognition (made with ``agent_id``, the agent's id object to share) and the XP line
    its stored points make."""
    fact = recognition_from_row(row, agent_id)
    line = XpLine(
        recording_id=fact.recording_id,
        kind=fact.kind,
        occurred_at=fact.occurred_at,
        competencies=fact.competencies,
        rulebook_version=int(row[RULEBOOK_VERSION] or 0),
        rule=sys.intern(row[RULE] or ""),
        points=int(row[POINTS] or 0),
        capped=bool(row[CAPPED]),
    )
    return KeptFact(_shared_day(row[LOCAL_DAY]), fact, line)


class LiveFacts:
    """Each agent's live recognitions received (:class:`KeptFact`, with their stored
    points), kept between the batches of one projector so that the agents whose
    badges must be evaluated again are not read again.

    The rows are a function of the log position alone: they are used only while
    :attr:`position` is the position the batch starts from (any other — another projector
    applied a batch, a rebuild ran — empties them), and a batch brings them in line with
    what it changed (an agent's rows change only in its touched groups) or empties them
    (a batch that scores everyone, or only writes facts). At most ``max_rows`` rows are
    kept, the agents used longest ago dropped first.

    Beside them, under the same rule, the ``period_xp`` rows of the periods the batches
    wrote (:meth:`periods_of`, :meth:`put_periods`): every row of one (window, period start,
    agent), as stored (kept as XP by competency column), so that the next batch touching
    that period does not read it again. At most ``max_periods`` periods are kept, the ones
    used longest ago dropped first; as many directory entries of the agents the batches
    named (:meth:`directory_of`), so that a batch does not read them again either."""

    def __init__(self, max_rows: int = 1_000_000, max_periods: int = 250_000) -> None:
        self.position: int | None = None
        self.max_rows = max_rows
        self.max_periods = max_periods
        self._rows: OrderedDict[UUID, list[KeptFact]] = OrderedDict()
        self._count = 0
        # Per period, its rows' XP by competency column (the rest of a row is the key).
        self._periods: OrderedDict[PeriodKey, dict[str, int]] = OrderedDict()
        # Of the agents whose facts are kept: their badge rows (by badge key, as _LIGHT
        # reads them) and their profile rows, as the batches wrote them.
        self._badges: dict[UUID, dict[str, tuple[Any, ...]]] = {}
        self._profiles: dict[UUID, dict[str, Any]] = {}
        # The directory entries the batches looked up (None: no such agent then), as they
        # left them; at most max_periods, the ones used longest ago dropped first.
        self._directory: OrderedDict[UUID, AgentInfo | None] = OrderedDict()

    def starting_at(self, position: int) -> None:
        """A batch starts from ``position``: forget everything unless it is ours."""
        if self.position != position:
            self.clear()

    def clear(self) -> None:
        self.position = None
        self.forget_scores()
        self._directory.clear()

    def forget_scores(self) -> None:
        """Forget the facts with their points and what was derived from them, keeping the
        directory entries (a batch that only writes facts leaves the points unscored; the
        directory it wrote is still true)."""
        self._rows.clear()
        self._count = 0
        self._periods.clear()
        self._badges.clear()
        self._profiles.clear()

    def periods_of(self, period: PeriodKey) -> dict[PeriodRowKey, dict[str, Any]] | None:
        """The stored ``period_xp`` rows of ``period`` (window, start, agent), by key, if
        kept (an empty dict: it has none)."""
        found = self._periods.get(period)
        if found is None:
            return None
        self._periods.move_to_end(period)
        window, start, agent_id = period
        return {
            (window, start, competency, agent_id): {
                "window": window,
                "period_start": start,
                "competency": competency,
                "agent_id": agent_id,
                "xp": xp,
            }
            for competency, xp in found.items()
        }

    def put_periods(
        self, period: PeriodKey, rows: Mapping[PeriodRowKey, Mapping[str, Any]]
    ) -> None:
        """``rows`` are the stored ``period_xp`` rows of ``period`` now (all of them); beyond
        ``max_periods``, the period used longest ago is forgotten."""
        self._periods[period] = {sys.intern(key[2]): int(row["xp"]) for key, row in rows.items()}
        self._periods.move_to_end(period)
        while len(self._periods) > self.max_periods:
            self._periods.popitem(last=False)

    def directory_of(self, agent_ids: Iterable[UUID]) -> dict[UUID, AgentInfo | None]:
        """The kept directory entries of ``agent_ids`` (the others are not kept)."""
        found: dict[UUID, AgentInfo | None] = {}
        for agent_id in agent_ids:
            if agent_id in self._directory:
                found[agent_id] = self._directory[agent_id]
                self._directory.move_to_end(agent_id)
        return found

    def put_directory(self, entries: Mapping[UUID, AgentInfo | None]) -> None:
        """The directory entries a batch looked up, as it left them (its handlers write an
        enrolment, transfer or departure into them as into the table)."""
        for agent_id, info in entries.items():
            self._directory[agent_id] = info
            self._directory.move_to_end(agent_id)
        while len(self._directory) > self.max_periods:
            self._directory.popitem(last=False)

    @property
    def directory_kept(self) -> Mapping[UUID, AgentInfo | None]:
        return self._directory

    @property
    def rows_kept(self) -> int:
        return self._count

    @property
    def periods_kept(self) -> int:
        return len(self._periods)

    def get(self, agent_id: UUID) -> list[KeptFact] | None:
        found = self._rows.get(agent_id)
        if found is not None:
            self._rows.move_to_end(agent_id)
        return found

    def put(self, agent_id: UUID, rows: list[KeptFact]) -> None:
        self._count -= len(self._rows.pop(agent_id, ()))
        if len(rows) > self.max_rows:
            self._forget(agent_id)
            return
        self._rows[agent_id] = rows
        self._count += len(rows)
        while self._count > self.max_rows:
            dropped_id, dropped = self._rows.popitem(last=False)
            self._count -= len(dropped)
            self._forget(dropped_id)

    def _forget(self, agent_id: UUID) -> None:
        self._badges.pop(agent_id, None)
        self._profiles.pop(agent_id, None)

    def agents(self) -> list[UUID]:
        """The agents whose facts are kept."""
        return list(self._rows)

    def badges_of(self, agent_id: UUID) -> dict[str, tuple[Any, ...]] | None:
        """The stored ``agent_badges`` rows of an agent whose facts are kept, by badge key,
        as (agent, key, earned at, next threshold, progress); None if not kept."""
        return self._badges.get(agent_id)

    def put_badges(self, agent_id: UUID, rows: dict[str, tuple[Any, ...]]) -> None:
        """``rows`` are the agent's badge rows now (all of them); kept while its facts are."""
        if agent_id in self._rows:
            self._badges[agent_id] = rows

    def profile_of(self, agent_id: UUID) -> dict[str, Any] | None:
        """The stored ``agent_profiles`` row of an agent whose facts are kept, column by
        column; None if not kept."""
        return self._profiles.get(agent_id)

    def put_profile(self, agent_id: UUID, profile: dict[str, Any]) -> None:
        """``profile`` is the agent's profile row now; kept while its facts are."""
        if agent_id in self._rows:
            self._profiles[agent_id] = profile

    def follow(self, rescored: Rescored) -> None:
        """Bring the kept rows of the agents ``rescored`` touched in line: each touched
        group's rows replaced by its rows now."""
        for agent_id, groups in rescored.fresh.items():
            kept = self._rows.get(agent_id)
            if kept is None:
                continue
            rows = [e for e in kept if (e.day, e.fact.kind) not in groups]  # a StrEnum: str
            for fresh in groups.values():
                rows += fresh
            self.put(agent_id, rows)


WARM_CHUNK = 1000
"""Agents read at a time while warming: what is held beyond the kept facts stays small."""


def warm_live_facts(connection: Connection, kept: LiveFacts) -> None:
    """Fill ``kept`` with every agent's live recognitions, directory entry and every period's
    ``period_xp`` rows as stored (as the batches would keep them; at most its bounds: whole
    agents and whole periods only), so that a projector that just started reads none of them again
    one agent at a time. The agents are read ``WARM_CHUNK`` at a time, in the order of their
    ids: the process never holds more than one chunk's rows beside what it keeps (reading
    every row at once left a full-size store's projector 2 GB resident for 0.5 GB kept).
    The caller makes sure ``connection`` sees the read models at the position it then gives
    ``kept``."""
    kept.clear()
    facts_full = kept.max_rows == 0
    periods_full = kept.max_periods == 0
    for chunk in every_agent(connection, WARM_CHUNK):
        if not facts_full:
            for agent_id, facts in read_live_facts(connection, chunk).items():
                if kept.rows_kept + len(facts) > kept.max_rows:
                    facts_full = True
                    break
                kept.put(agent_id, facts)
            _warm_badges_and_profiles(connection, chunk, kept)
        if not periods_full:
            kept.put_directory(_directory_of(connection, chunk))
            for period, rows in _stored_periods(connection, chunk).items():
                if kept.periods_kept >= kept.max_periods:
                    periods_full = True
                    break
                kept.put_periods(period, rows)
        if facts_full and periods_full:
            return


def _warm_badges_and_profiles(
    connection: Connection, chunk: Sequence[UUID], kept: LiveFacts
) -> None:
    """Keep the badge and profile rows of ``chunk``'s agents whose facts are kept."""
    badges: dict[UUID, dict[str, tuple[Any, ...]]] = {agent_id: {} for agent_id in chunk}
    for part in chunks(chunk):
        for light in _LIGHT.rows(connection, _agents_in(part)):
            badges[light[0]][light[1]] = light
    for agent_id, rows in badges.items():
        kept.put_badges(agent_id, rows)
    for agent_id, profile in stored_profiles(connection, chunk).items():
        kept.put_profile(agent_id, profile)


def _stored_periods(
    connection: Connection, agent_ids: Sequence[UUID]
) -> dict[PeriodKey, dict[PeriodRowKey, dict[str, Any]]]:
    """Every ``period_xp`` row of ``agent_ids``, by period (window, start, agent)."""
    periods: dict[PeriodKey, dict[PeriodRowKey, dict[str, Any]]] = {}
    for chunk in chunks(agent_ids):
        for row in _PERIODS_OF_AGENTS.rows(connection, _agents_in(chunk)):
            window, start, competency, agent_id, _ = row
            periods.setdefault((window, start, agent_id), {})[
                (window, start, competency, agent_id)
            ] = dict(zip(PERIOD_NAMES, row, strict=True))
    return periods


_PERIODS_OF_AGENTS = Sized(
    lambda n: select(*PERIOD_COLUMNS).where(period_xp.c.agent_id.in_(each(n, period_xp.c.agent_id)))
)


def _counted_before(row: Sequence[Any], batch: BatchChanges) -> bool:
    """Whether the recognition of ``row`` (of :data:`FACT_COLUMNS`) counted before the batch:
    it was recorded before it, and not retracted, or retracted by it."""
    recording_id = row[RECORDING_ID]
    if recording_id in batch.recorded:
        return False
    return not row[RETRACTED] or recording_id in batch.retracted


# ------------------------------------------------------------------------ XP and streaks


def _credits(competency: Competency) -> ColumnElement[bool]:
    """The recognition credits ``competency`` (stored as ``a;b;c``)."""
    return (literal(";") + r.competencies + literal(";")).contains(
        f";{competency.value};", autoescape=True
    )


_XP_COLUMNS = (
    func.sum(r.points),
    *(func.sum(case((_credits(c), r.points), else_=0)) for c in ALL_COMPETENCIES),
)

XpSums = tuple[int, dict[Competency, int]]


def _sums(row: Sequence[Any]) -> XpSums:
    return int(row[0] or 0), {
        c: int(value or 0) for c, value in zip(ALL_COMPETENCIES, row[1:], strict=True)
    }


_XP_SUMS = Sized(
    lambda n: (
        select(r.agent_id, *_XP_COLUMNS)
        .where(r.agent_id.in_(each(n, r.agent_id)), _LIVE)
        .group_by(r.agent_id)
    )
)
_ACTIVE_DAYS = Sized(
    lambda n: (
        select(r.agent_id, r.local_day)
        .where(r.agent_id.in_(each(n, r.agent_id)), _LIVE)
        .group_by(r.agent_id, r.local_day)
    )
)


def _xp_sums(
    connection: Connection,
    present: Sequence[UUID],
    profiles: Mapping[UUID, Mapping[str, Any]],
    rescored: Rescored,
) -> dict[UUID, XpSums]:
    """Each agent's XP in total and per competency: its stored profile's, moved by the
    changes of the rescored groups (only they changed a point); summed from the facts for an
    agent without a profile yet."""
    sums: dict[UUID, XpSums] = {}
    missing: list[UUID] = []
    for agent_id in present:
        profile = profiles.get(agent_id)
        if profile is None:
            missing.append(agent_id)
            continue
        total = int(profile["xp_total"])
        by_competency = {
            c: int(profile[column]) for c, column in zip(ALL_COMPETENCIES, XP_COLUMNS, strict=True)
        }
        for columns in rescored.deltas.get(agent_id, {}).values():
            for column, delta in columns.items():
                if column == TOTAL:
                    total += delta
                else:
                    competency = Competency(column)
                    by_competency[competency] += delta
        sums[agent_id] = (total, by_competency)
    for row in _XP_SUMS.rows(connection, _agents_in(missing)):
        sums[row[0]] = _sums(row[1:])
    return sums


def _active_days(connection: Connection, present: Sequence[UUID]) -> dict[UUID, list[date]]:
    days: dict[UUID, list[date]] = {}
    for agent_id, day in _ACTIVE_DAYS.rows(connection, _agents_in(present)):
        days.setdefault(agent_id, []).append(day)
    return days


def _streaks(
    connection: Connection,
    present: Sequence[UUID],
    profiles: Mapping[UUID, Mapping[str, Any]],
    rescored: Rescored,
    working_days: Collection[int],
    kept: LiveFacts | None = None,
) -> dict[UUID, StreakSummary]:
    """Each agent's streak. An agent's active days change only on the touched days that
    became (or stopped being) active: when they only gained days and none lies before the
    stored last active day (the live case: recognitions of today), the stored streak is
    extended by them (none: it stands); otherwise, or without a stored streak, the agent's
    active days are read."""
    stored = {
        agent_id: StreakSummary(p["best_streak"], p["streak_run"], p["last_active_day"])
        for agent_id, p in profiles.items()
    }
    streaks: dict[UUID, StreakSummary] = {}
    again: list[UUID] = []
    for agent_id in present:
        before = stored.get(agent_id)
        if before is None:
            again.append(agent_id)
            continue
        added, removed = rescored.active.get(agent_id, (set(), set()))
        added = {d for d in added if d.isoweekday() in working_days}
        if any(d.isoweekday() in working_days for d in removed) or (
            added and before.last_active_day is not None and min(added) < before.last_active_day
        ):
            again.append(agent_id)
        else:
            streaks[agent_id] = _extended(before, sorted(added), working_days)
    if again:
        active: dict[UUID, list[date]] = {}
        if kept is not None:
            for agent_id in again:
                entries = kept.get(agent_id)
                if entries is not None:
                    active[agent_id] = [entry.day for entry in entries]
        unread = [agent_id for agent_id in again if agent_id not in active]
        active.update(_active_days(connection, unread))
        for agent_id in again:
            streaks[agent_id] = streak_summary(active.get(agent_id, ()), working_days)
    return streaks


def _extended(
    summary: StreakSummary, days: Sequence[date], working_days: Collection[int]
) -> StreakSummary:
    """:func:`domain.streaks.streak_summary` of the days ``summary`` summarises and ``days``
    (sorted, none before ``summary.last_active_day``)."""
    best, run, last = summary.best, summary.run, summary.last_active_day
    for day in days:
        if day.isoweekday() not in working_days or day == last:
            continue
        run = run + 1 if last is not None and day == next_working_day(last, working_days) else 1
        best = max(best, run)
        last = day
    return StreakSummary(best=best, run=run, last_active_day=last)


# ------------------------------------------------------------------------------ periods


def _periods_of(day: date) -> tuple[tuple[str, date, date], ...]:
    """The week and the month ``day`` falls in: (window, first day, day after the last)."""
    week = week_start(day)
    month = month_start(day)
    following = (month + timedelta(days=32)).replace(day=1)
    return (("week", week, week + timedelta(days=7)), ("month", month, following))


PeriodKey = tuple[str, date, UUID]
"""A period of one agent: (window, first day, agent), its ``period_xp`` rows' key but the
competency."""

PeriodChanges = dict[UUID, list[tuple[PeriodRowKey, int, int]]]
"""Per agent, the ``period_xp`` rows written: (key, XP before, XP now), 0 for no row."""


def _write_periods(
    connection: Connection,
    deltas: Mapping[UUID, DayDeltas],
    sums: Mapping[UUID, XpSums],
    kept: LiveFacts | None = None,
) -> PeriodChanges:
    """Bring the ``period_xp`` rows of the periods whose points changed in line: the stored
    week and month rows plus the changes, and the "all" rows from the sums. Returns what
    changed. ``kept``: the periods' stored rows kept between batches, read for the others
    and brought in line with what this batch writes."""
    if not deltas:
        return {}
    touched: set[PeriodKey] = set()
    added: dict[PeriodRowKey, int] = {}
    for agent_id, days in deltas.items():
        touched.add(("all", ALL_TIME_START, agent_id))
        for day, columns in days.items():
            for window, first, _ in _periods_of(day):
                touched.add((window, first, agent_id))
                for column, delta in columns.items():
                    key = (window, first, column, agent_id)
                    added[key] = added.get(key, 0) + delta
    existing: dict[PeriodRowKey, dict[str, Any]] = {}
    unknown: set[PeriodKey] = set()
    for period in touched:
        found = None if kept is None else kept.periods_of(period)
        if found is None:
            unknown.add(period)
        else:
            existing.update(found)
    existing.update(_existing_periods(connection, unknown))
    wanted: dict[PeriodRowKey, int] = {}
    for key, values in existing.items():
        if key[0] != "all":
            wanted[key] = int(values["xp"])
    for key, delta in added.items():
        wanted[key] = wanted.get(key, 0) + delta
    for agent_id in deltas:
        total, by_competency = sums.get(agent_id, (0, {}))
        for column, xp in ((TOTAL, total), *((c.value, v) for c, v in by_competency.items())):
            wanted[("all", ALL_TIME_START, column, agent_id)] = xp
    rows: dict[PeriodRowKey, dict[str, Any]] = {
        key: {**dict(zip(PERIOD_KEYS, key, strict=True)), "xp": xp}
        for key, xp in wanted.items()
        if xp
    }
    apply_differences(connection, period_xp, PERIOD_KEYS, existing, rows)
    if kept is not None:
        stored_now: dict[PeriodKey, dict[PeriodRowKey, dict[str, Any]]] = {p: {} for p in touched}
        for key, row in rows.items():
            stored_now[(key[0], key[1], key[3])][key] = row
        for period, stored in stored_now.items():
            kept.put_periods(period, stored)
    changed: PeriodChanges = {}
    for key in existing.keys() | rows.keys():
        before = int(existing[key]["xp"]) if key in existing else 0
        now = int(rows[key]["xp"]) if key in rows else 0
        if before != now:
            changed.setdefault(key[3], []).append((key, before, now))
    return changed


def _write_boards(
    connection: Connection,
    present: Sequence[UUID],
    directory: Mapping[UUID, AgentInfo],
    batch: BatchChanges,
    changed: PeriodChanges,
) -> None:
    """Bring the ``board_entries`` of ``present`` in line (the positive period XP of present
    agents, :mod:`projections.boards`): an agent whose directory entry the batch wrote is
    refreshed from the tables; for the others, only their period XP can have changed, and the
    changes of ``changed`` are the changes of their entries."""
    moved = [agent_id for agent_id in present if agent_id in batch.moved]
    refresh_boards(connection, moved)
    gone: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for agent_id in present:
        entry = directory[agent_id]
        if agent_id in batch.moved or entry.departed_at is not None:
            continue  # refreshed above; a departed agent has no entries
        for (window, start, competency, _), before, now in changed.get(agent_id, ()):
            key = {
                "b_agent_id": agent_id,
                "b_window": window,
                "b_period_start": start,
                "b_competency": competency,
            }
            if before > 0 and now > 0:
                updated.append({**key, "xp": now})
            elif before > 0:
                gone.append(key)
            elif now > 0:
                new.append(
                    board_entry(
                        agent_id, (window, start, competency), entry.team_id, entry.name, now
                    )
                )
    keys = ("agent_id", "window", "period_start", "competency")
    bulk_delete(connection, board_entries, keys, gone)
    bulk_insert(connection, board_entries, new)
    bulk_update(connection, board_entries, keys, updated)


def _existing_periods(
    connection: Connection, touched: set[PeriodKey]
) -> dict[PeriodRowKey, dict[str, Any]]:
    existing: dict[PeriodRowKey, dict[str, Any]] = {}
    ordered = sorted(touched, key=lambda t: (t[0], t[1], str(t[2])))
    for first in range(0, len(ordered), SPANS_PER_QUERY):
        for row in _PERIODS.rows(connection, ordered[first : first + SPANS_PER_QUERY]):
            window, start, competency, agent_id, _ = row
            existing[(window, start, competency, agent_id)] = dict(
                zip(PERIOD_NAMES, row, strict=True)
            )
    return existing


PERIOD_NAMES = tuple(column.key for column in PERIOD_COLUMNS)
_PERIODS = Sized(
    lambda n: select(*PERIOD_COLUMNS).where(
        or_(
            *(
                and_(
                    period_xp.c.agent_id == a,
                    period_xp.c.window == w,
                    period_xp.c.period_start == p,
                )
                for w, p, a in item_binds(
                    n, period_xp.c.window, period_xp.c.period_start, period_xp.c.agent_id
                )
            )
        )
    )
)
"""The rows of periods (window, start, agent): each a range of ``period_xp``'s key, which
starts with (agent, window, start). Not with ``competency IN (every value)`` beside it, which
made each an exact lookup of the earlier key (window, start, competency, agent): on a
``WITHOUT ROWID`` table measured by ``ANALYZE``, SQLite 3.40.1 (Debian 12's) left rows out of
such an ``OR`` of ``IN`` lists (12 of 14 in a property test's case; reproduced in the ``sqlite3``
module alone)."""


# ------------------------------------------------------------------------------- badges


def _write_badges(
    connection: Connection,
    present: Sequence[UUID],
    definitions: Sequence[BadgeDefinition],
    rescored: Rescored,
    givers: Mapping[UUID, date],
    tz: tzinfo,
    sums: Mapping[UUID, XpSums],
    kept: LiveFacts | None = None,
) -> None:
    """Bring the ``agent_badges`` rows of ``present`` in line. A badge whose metric counts
    none of the recognitions of the agent's touched groups (nor, for kudos, a kudos it gave)
    keeps its row; one whose stored tiers no change can have moved gets its new value as
    progress; only the others read their steps."""
    known, unknown = _kept_or_unread(present, None if kept is None else kept.badges_of)
    existing: dict[tuple[UUID, str], tuple[Any, ...]] = {
        (agent_id, key): light for agent_id, rows in known.items() for key, light in rows.items()
    }
    for light in _LIGHT.rows(connection, _agents_in(unknown)):
        existing[(light[0], light[1])] = light
    since: dict[tuple[UUID, int], date] = {}  # the first day a metric's steps may have changed
    for agent_id in present:
        facts = rescored.facts.get(agent_id, ())
        given = givers.get(agent_id)
        if not facts and given is None:
            continue
        for index, definition in enumerate(definitions):
            first = _first_counted(definition.metric, facts, given)
            if first is not None:
                since[(agent_id, index)] = first
    totals = _totals_by_change(connection, since, definitions, existing, rescored, sums)
    progress: list[dict[str, Any]] = []
    again: dict[int, list[UUID]] = {}  # definition (by index) -> agents whose steps to read
    for agent_id in present:
        for index, definition in enumerate(definitions):
            stored = existing.get((agent_id, definition.key))
            first = since.get((agent_id, index))
            total = totals.get((agent_id, index), 0)
            if stored is None:
                again.setdefault(index, []).append(agent_id)
            elif first is None:
                continue
            elif isinstance(definition.metric, ComebackMetric) or not _still_standing(
                stored, total, first, tz
            ):
                again.setdefault(index, []).append(agent_id)
            elif stored[4] != total:
                progress.append(
                    {"b_agent_id": agent_id, "b_badge_key": definition.key, "progress": total}
                )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for (agent_id, index), status in _statuses(connection, again, definitions, tz, kept).items():
        definition = definitions[index]
        row = badge_row(agent_id, status)
        if (agent_id, definition.key) in existing:
            updates.append(
                {
                    "b_agent_id": agent_id,
                    "b_badge_key": definition.key,
                    **{k: v for k, v in row.items() if k not in ("agent_id", "badge_key")},
                }
            )
        else:
            inserts.append(row)
    keys = {definition.key for definition in definitions}
    gone = [{"b_agent_id": a, "b_badge_key": k} for a, k in existing if k not in keys]
    badge_keys = ("agent_id", "badge_key")
    bulk_delete(connection, agent_badges, badge_keys, gone)
    bulk_insert(connection, agent_badges, inserts)
    bulk_update(connection, agent_badges, badge_keys, updates)
    bulk_update(connection, agent_badges, badge_keys, progress)
    if kept is not None:
        _keep_badges(kept, present, keys, existing, inserts, updates, progress)


def _keep_badges(
    kept: LiveFacts,
    present: Sequence[UUID],
    keys: Collection[str],
    existing: Mapping[tuple[UUID, str], tuple[Any, ...]],
    inserts: Sequence[Mapping[str, Any]],
    updates: Sequence[Mapping[str, Any]],
    progress: Sequence[Mapping[str, Any]],
) -> None:
    """Keep the badge rows of ``present`` as :func:`_write_badges` just left them."""
    now: dict[UUID, dict[str, tuple[Any, ...]]] = {agent_id: {} for agent_id in present}
    for (agent_id, key), stored in existing.items():
        if key in keys:
            now[agent_id][key] = stored
    written = [(row["agent_id"], row["badge_key"], row) for row in inserts]
    written += [(row["b_agent_id"], row["b_badge_key"], row) for row in updates]
    for agent_id, key, row in written:
        now[agent_id][key] = (
            agent_id,
            key,
            row["earned_at"],
            row["next_threshold"],
            row["progress"],
        )
    for change in progress:
        agent_id, key = change["b_agent_id"], change["b_badge_key"]
        now[agent_id][key] = (*now[agent_id][key][:4], change["progress"])
    for agent_id, rows in now.items():
        kept.put_badges(agent_id, rows)


def _first_counted(
    metric: Any, facts: Sequence[tuple[date, Recognition]], given: date | None
) -> date | None:
    """The first day of ``facts`` (received, retracted or not) that ``metric`` counts — and
    for kudos ``given``, the first day of the batch's kudos the agent gave —, None if none:
    the metric's steps did not change before that day (or at all)."""
    if isinstance(metric, KudosMetric):
        days = [d for d, f in facts if f.kind is RecognitionKind.KUDOS_GIVEN]
        if given is not None:
            days.append(given)
    elif isinstance(metric, ComebackMetric):
        days = [d for d, f in facts if f.kind is RecognitionKind.FEEDBACK_GIVEN]
    elif isinstance(metric, CompetencyXpMetric):
        days = [d for d, f in facts if metric.competency in f.competencies]
    else:
        assert isinstance(metric, CountMetric)
        days = [d for d, f in facts if matches_count(metric, f)]
    return min(days) if days else None


def _still_standing(stored: Sequence[Any], total: int, since: date, tz: tzinfo) -> bool:
    """Whether no change can have moved the stored row's tiers (only its progress, now
    ``total``): every changed step lies on a later day than the highest tier's, and
    ``total`` reaches no further tier. ``stored``: (agent, key, earned_at, next threshold,
    progress)."""
    earned_at, following = stored[2], stored[3]
    if earned_at is not None and local_day(earned_at, tz) >= since:
        return False
    return following is None or total < following


def _totals_by_change(
    connection: Connection,
    wanted: Mapping[tuple[UUID, int], object],
    definitions: Sequence[BadgeDefinition],
    existing: Mapping[tuple[UUID, str], Sequence[Any]],
    rescored: Rescored,
    sums: Mapping[UUID, XpSums],
) -> dict[tuple[UUID, int], int]:
    """The values of the ``wanted`` (agent, definition index) metrics (comebacks aside),
    without summing the agents' facts: a count is the stored
    row's value moved by the recognitions the batch made count or stop counting, XP in a
    competency is the agent's XP there; only kudos (given ones lie in other agents' groups)
    are counted in the database. A wanted value without a stored row is left out: its
    steps are read anyway."""
    counted = rescored.counted
    totals: dict[tuple[UUID, int], int] = {}
    kudos: list[tuple[UUID, int]] = []
    for agent_id, index in wanted:
        definition = definitions[index]
        metric = definition.metric
        if isinstance(metric, CompetencyXpMetric):
            _, by_competency = sums.get(agent_id, (0, {}))
            totals[(agent_id, index)] = by_competency.get(metric.competency, 0)
        elif isinstance(metric, KudosMetric):
            kudos.append((agent_id, index))
        elif isinstance(metric, CountMetric):
            stored = existing.get((agent_id, definition.key))
            if stored is not None:
                moved = sum(c for f, c in counted.get(agent_id, ()) if matches_count(metric, f))
                totals[(agent_id, index)] = int(stored[4]) + moved
    if kudos:
        present = sorted({agent_id for agent_id, _ in kudos})
        given: dict[UUID, int] = {}
        for chunk in chunks(present):
            items = _agents_in(chunk)
            for query in (_KUDOS_RECEIVED, _KUDOS_GIVEN):
                for agent_id, count in query.rows(connection, items):
                    given[agent_id] = given.get(agent_id, 0) + int(count)
        for agent_id, index in kudos:
            totals[(agent_id, index)] = given.get(agent_id, 0)
    return totals


def _kudos_per(column: ColumnElement[Any]) -> Sized:
    """Live kudos per agent in ``column``: received (``agent_id``) or given (``from_agent``)."""
    return Sized(
        lambda n: (
            select(column, func.count())
            .where(column.in_(each(n, column)), r.kind == _KUDOS, _LIVE)
            .group_by(column)
        )
    )


_KUDOS_RECEIVED = _kudos_per(r.agent_id)
_KUDOS_GIVEN = _kudos_per(r.from_agent)


_LIGHT = Sized(
    lambda n: select(
        agent_badges.c.agent_id,
        agent_badges.c.badge_key,
        agent_badges.c.earned_at,
        agent_badges.c.next_threshold,
        agent_badges.c.progress,
    ).where(agent_badges.c.agent_id.in_(each(n, agent_badges.c.agent_id)))
)


def _statuses(
    connection: Connection,
    again: Mapping[int, Sequence[UUID]],
    definitions: Sequence[BadgeDefinition],
    tz: tzinfo,
    kept: LiveFacts | None = None,
) -> dict[tuple[UUID, int], BadgeStatus]:
    """The status of each badge (by definition index) of the agents ``again`` names, by the
    domain's own rules (:func:`domain.badges.evaluate_badge`) over the agent's live
    recognitions received — whose stored points are the XP lines — and kudos given: one
    read of each agent's facts for every badge it needs."""
    needed = sorted({agent_id for agents_of in again.values() for agent_id in agents_of})
    if not needed:
        return {}
    received, unknown = _kept_or_unread(needed, None if kept is None else kept.get)
    read = read_live_facts(connection, unknown)
    received.update(read)
    if kept is not None:
        for agent_id, rows in read.items():
            kept.put(agent_id, rows)
    kudos = {
        agent_id
        for index, agents_of in again.items()
        if isinstance(definitions[index].metric, KudosMetric)
        for agent_id in agents_of
    }
    given: dict[UUID, list[Recognition]] = {}
    for chunk in chunks(sorted(kudos)):
        for row in _KUDOS_GIVEN_FACTS.rows(connection, _agents_in(chunk)):
            given.setdefault(row[9], []).append(recognition_from_row(row))
    histories: dict[UUID, tuple[AgentHistory, list[XpLine], OrderedReceived]] = {}
    for agent_id in needed:
        entries = received.get(agent_id, [])
        facts = tuple(entry.fact for entry in entries)
        lines = [entry.line for entry in entries]
        history = AgentHistory(agent_id, facts, tuple(given.get(agent_id, ())))
        histories[agent_id] = (history, lines, OrderedReceived.of(history))
    statuses: dict[tuple[UUID, int], BadgeStatus] = {}
    for index, agents_of in again.items():
        definition = definitions[index]
        for agent_id in agents_of:
            history, lines, ordered = histories[agent_id]
            statuses[(agent_id, index)] = evaluate_badge(definition, history, lines, tz, ordered)
    return statuses


def read_live_facts(
    connection: Connection, agent_ids: Sequence[UUID]
) -> dict[UUID, list[KeptFact]]:
    """Each agent's live recognitions received, as :class:`LiveFacts` keeps them."""
    read: dict[UUID, list[KeptFact]] = {agent_id: [] for agent_id in agent_ids}
    shared = {agent_id: agent_id for agent_id in agent_ids}
    for chunk in chunks(agent_ids):
        for row in _LIVE_FACTS.rows(connection, _agents_in(chunk)):
            agent_id = shared[row[2]]
            read[agent_id].append(live_entry(row, agent_id))
    return read


_LIVE_FACTS = Sized(
    lambda n: select(*_LIVE_COLUMNS).where(r.agent_id.in_(each(n, r.agent_id)), _LIVE)
)
_KUDOS_GIVEN_FACTS = Sized(
    lambda n: select(*FACT_COLUMNS).where(
        r.from_agent.in_(each(n, r.from_agent)), r.kind == _KUDOS, _LIVE
    )
)
