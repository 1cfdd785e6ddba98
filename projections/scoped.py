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

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from domain.badges import MetricStep, comeback_steps, matches_count, status_from_steps
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import Recognition, RecognitionKind
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
    Thresholds,
)
from domain.scoring import AgentScore, local_day, score_lines
from domain.streaks import StreakSummary, next_working_day, streak_summary
from projections.bulk import bulk_delete, bulk_insert, bulk_update
from projections.context import ScoringGroup
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
    directory_of,
    point_changes,
    recognition_from_row,
    write_profiles,
)
from projections.tables import agent_badges, agent_profiles, period_xp, recognitions

r = recognitions.c
SPANS_PER_QUERY = 100  # SQLite refuses expressions deeper than 1,000: OR at most this many
_LIVE = r.retracted.is_(False)
_ORDER = (r.occurred_at, r.notification_id, r.recording_id)  # order_key, then the id
COMPETENCIES, POINTS = 4, 11  # in a row of FACT_COLUMNS
_KUDOS = RecognitionKind.KUDOS_GIVEN.value


def rescore_touched(
    connection: Connection,
    agent_ids: Iterable[UUID],
    groups: Iterable[ScoringGroup],
    history: RulebookHistory,
    tz: tzinfo,
) -> int:
    """Bring the derived rows of ``agent_ids`` in line, rescoring the points of ``groups``
    only (every other group's stored points are up to date). Returns the agents done."""
    by_agent: dict[UUID, set[ScoringGroup]] = {}
    for group in groups:
        by_agent.setdefault(group[0], set()).add(group)
    givers = _givers(connection, by_agent)
    done = 0
    for chunk in chunks(sorted(set(agent_ids) | set(by_agent))):
        touched = {g for agent_id in chunk for g in by_agent.get(agent_id, ())}
        done += _rescore_chunk(connection, chunk, touched, history, tz, givers)
    return done


def _givers(connection: Connection, by_agent: Mapping[UUID, set[ScoringGroup]]) -> dict[UUID, date]:
    """The agents who gave kudos of the touched kudos groups, with the first such day: their
    kudos metric's steps may have changed from that day on."""
    kudos = [g for groups in by_agent.values() for g in groups if g[2] == _KUDOS]
    givers: dict[UUID, date] = {}
    for first in range(0, len(kudos), SPANS_PER_QUERY):
        query = (
            select(r.from_agent, func.min(r.local_day))
            .where(
                r.kind == _KUDOS,
                r.from_agent.is_not(None),
                or_(
                    *(
                        and_(r.agent_id == agent_id, r.local_day == day)
                        for agent_id, day, _ in kudos[first : first + SPANS_PER_QUERY]
                    )
                ),
            )
            .group_by(r.from_agent)
        )
        for giver, day in connection.execute(query):
            givers[giver] = min(day, givers.get(giver, day))
    return givers


def _rescore_chunk(
    connection: Connection,
    chunk: Sequence[UUID],
    groups: set[ScoringGroup],
    history: RulebookHistory,
    tz: tzinfo,
    givers: Mapping[UUID, date],
) -> int:
    directory = directory_of(connection, chunk)
    present = [a for a in chunk if a in directory]
    if not present:
        return 0
    known = set(present)
    rescored = _rescore_groups(connection, {g for g in groups if g[0] in known}, history, tz)
    sums = _xp_sums(connection, present)
    latest = history.latest
    streaks = _streaks(connection, present, rescored, latest.streak_working_days)
    _write_badges(connection, present, latest.badges, rescored, givers, tz)
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
    write_profiles(connection, present, directory, scores)
    _write_periods(connection, rescored.deltas, sums)
    return len(present)


# ------------------------------------------------------------------------------ points

DayDeltas = dict[date, dict[str, int]]
"""Per local day, how much each competency's XP (and the total, under ``TOTAL``) changed."""


@dataclass
class Rescored:
    """What rescoring the touched groups changed, per agent."""

    deltas: dict[UUID, DayDeltas] = field(default_factory=dict)
    days: dict[UUID, set[date]] = field(default_factory=dict)  # the touched groups' days
    retracted: set[UUID] = field(default_factory=set)  # a touched group holds a retraction
    facts: dict[UUID, list[tuple[date, Recognition]]] = field(default_factory=dict)
    """Every recognition of the agent's touched groups (retracted or not), with its day."""


def _rescore_groups(
    connection: Connection, groups: set[ScoringGroup], history: RulebookHistory, tz: tzinfo
) -> Rescored:
    """Score the touched groups again, and say by how much each day's XP changed."""
    outcome = Rescored()
    if not groups:
        return outcome
    for agent_id, day, _ in groups:
        outcome.days.setdefault(agent_id, set()).add(day)
    pairs = sorted({(g[0], g[1]) for g in groups})
    members: dict[ScoringGroup, list[Any]] = {}
    for first in range(0, len(pairs), SPANS_PER_QUERY):
        query = select(*FACT_COLUMNS, r.local_day).where(
            or_(
                *(
                    and_(r.agent_id == agent_id, r.local_day == day)
                    for agent_id, day in pairs[first : first + SPANS_PER_QUERY]
                )
            )
        )
        for row in connection.execute(query):
            group = (row[2], row[-1], row[3])  # agent, local day, kind
            if group in groups:
                members.setdefault(group, []).append(row)
    changes: list[dict[str, Any]] = []
    for (agent_id, day, _), rows in members.items():
        facts = [recognition_from_row(row) for row in rows]
        outcome.facts.setdefault(agent_id, []).extend((day, f) for f in facts)
        live = tuple(f for f, row in zip(facts, rows, strict=True) if not row[RETRACTED])
        if len(live) < len(rows):
            outcome.retracted.add(agent_id)
        found = point_changes(rows, score_lines(live, history, tz))
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


def _xp_sums(connection: Connection, present: Sequence[UUID]) -> dict[UUID, XpSums]:
    query = (
        select(r.agent_id, *_XP_COLUMNS).where(r.agent_id.in_(present), _LIVE).group_by(r.agent_id)
    )
    return {row[0]: _sums(row[1:]) for row in connection.execute(query)}


def _active_days(connection: Connection, present: Sequence[UUID]) -> dict[UUID, list[date]]:
    query = (
        select(r.agent_id, r.local_day)
        .where(r.agent_id.in_(present), _LIVE)
        .group_by(r.agent_id, r.local_day)
    )
    days: dict[UUID, list[date]] = {}
    for agent_id, day in connection.execute(query):
        days.setdefault(agent_id, []).append(day)
    return days


def _streaks(
    connection: Connection,
    present: Sequence[UUID],
    rescored: Rescored,
    working_days: Collection[int],
) -> dict[UUID, StreakSummary]:
    """Each agent's streak. An agent's active days change only on its touched days; when
    those only gained recognitions and none lies before the stored last active day (the
    live case: recognitions of today), the stored streak is extended by them; otherwise the
    agent's active days are read."""
    stored = {
        row[0]: StreakSummary(row[1], row[2], row[3])
        for row in connection.execute(
            select(
                agent_profiles.c.agent_id,
                agent_profiles.c.best_streak,
                agent_profiles.c.streak_run,
                agent_profiles.c.last_active_day,
            ).where(agent_profiles.c.agent_id.in_(present))
        )
    }
    streaks: dict[UUID, StreakSummary] = {}
    again: list[UUID] = []
    for agent_id in present:
        before = stored.get(agent_id)
        days = rescored.days.get(agent_id)
        if before is not None and not days:
            streaks[agent_id] = before
        elif (
            before is None
            or agent_id in rescored.retracted
            or (before.last_active_day is not None and min(days or ()) < before.last_active_day)
        ):
            again.append(agent_id)
        else:
            streaks[agent_id] = _extended(before, sorted(days or ()), working_days)
    if again:
        active = _active_days(connection, again)
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


def _write_periods(
    connection: Connection, deltas: Mapping[UUID, DayDeltas], sums: Mapping[UUID, XpSums]
) -> None:
    """Bring the ``period_xp`` rows of the periods whose points changed in line: the stored
    week and month rows plus the changes, and the "all" rows from the sums."""
    if not deltas:
        return
    touched: set[tuple[str, date, UUID]] = set()
    added: dict[PeriodRowKey, int] = {}
    for agent_id, days in deltas.items():
        touched.add(("all", ALL_TIME_START, agent_id))
        for day, columns in days.items():
            for window, first, _ in _periods_of(day):
                touched.add((window, first, agent_id))
                for column, delta in columns.items():
                    key = (window, first, column, agent_id)
                    added[key] = added.get(key, 0) + delta
    existing = _existing_periods(connection, touched)
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
    rows = {
        key: {**dict(zip(PERIOD_KEYS, key, strict=True)), "xp": xp}
        for key, xp in wanted.items()
        if xp
    }
    apply_differences(connection, period_xp, PERIOD_KEYS, existing, rows)


def _existing_periods(
    connection: Connection, touched: set[tuple[str, date, UUID]]
) -> dict[PeriodRowKey, dict[str, Any]]:
    agent_ids = sorted({t[2] for t in touched}, key=str)
    starts = sorted({t[1] for t in touched})
    existing: dict[PeriodRowKey, dict[str, Any]] = {}
    query = select(*PERIOD_COLUMNS).where(
        period_xp.c.agent_id.in_(agent_ids), period_xp.c.period_start.in_(starts)
    )
    for row in connection.execute(query):
        window, start, competency, agent_id, _ = row
        if (window, start, agent_id) in touched:
            existing[(window, start, competency, agent_id)] = dict(row._mapping)
    return existing


# ------------------------------------------------------------------------------- badges


def _write_badges(
    connection: Connection,
    present: Sequence[UUID],
    definitions: Sequence[BadgeDefinition],
    rescored: Rescored,
    givers: Mapping[UUID, date],
    tz: tzinfo,
) -> None:
    """Bring the ``agent_badges`` rows of ``present`` in line. A badge whose metric counts
    none of the recognitions of the agent's touched groups (nor, for kudos, a kudos it gave)
    keeps its row; one whose stored tiers no change can have moved gets its new value as
    progress; only the others read their steps."""
    light = (
        agent_badges.c.agent_id,
        agent_badges.c.badge_key,
        agent_badges.c.earned_at,
        agent_badges.c.next_threshold,
        agent_badges.c.progress,
    )
    existing = {
        (row[0], row[1]): row
        for row in connection.execute(select(*light).where(agent_badges.c.agent_id.in_(present)))
    }
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
    totals = _metric_totals(connection, since, definitions)
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
    for index, agents in again.items():
        definition = definitions[index]
        for agent_id, statuses in _badge_statuses(connection, agents, [definition], tz).items():
            row = badge_row(agent_id, statuses[0])
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


def _metric_totals(
    connection: Connection,
    wanted: Mapping[tuple[UUID, int], object],
    definitions: Sequence[BadgeDefinition],
) -> dict[tuple[UUID, int], int]:
    """The values of the ``wanted`` (agent, definition index) metrics (comebacks aside)."""
    if not wanted:
        return {}
    present = sorted({agent_id for agent_id, _ in wanted})
    indexes = {index for _, index in wanted}
    sums: list[tuple[int, ColumnElement[Any]]] = []
    kudos: list[int] = []
    for index, definition in enumerate(definitions):
        if index not in indexes:
            continue
        metric = definition.metric
        if isinstance(metric, KudosMetric):
            kudos.append(index)
            counted: ColumnElement[Any] = case((r.kind == _KUDOS, 1), else_=0)
        elif isinstance(metric, CompetencyXpMetric):
            counted = case((and_(r.points > 0, _credits(metric.competency)), r.points), else_=0)
        elif isinstance(metric, CountMetric):
            counted = case((and_(true(), *_count_filters(metric)), 1), else_=0)
        else:
            continue
        sums.append((index, func.sum(counted)))
    totals: dict[tuple[UUID, int], int] = {}
    if sums:
        query = (
            select(r.agent_id, *(column for _, column in sums))
            .where(r.agent_id.in_(present), _LIVE)
            .group_by(r.agent_id)
        )
        for agent_id, *values in connection.execute(query):
            for (index, _), value in zip(sums, values, strict=True):
                totals[(agent_id, index)] = int(value or 0)
    if kudos:
        query = (
            select(r.from_agent, func.count())
            .where(r.from_agent.in_(present), r.kind == _KUDOS, _LIVE)
            .group_by(r.from_agent)
        )
        for giver, given in connection.execute(query):
            for index in kudos:
                totals[(giver, index)] = totals.get((giver, index), 0) + int(given)
    return totals


def _badge_statuses(
    connection: Connection,
    present: Sequence[UUID],
    definitions: Sequence[BadgeDefinition],
    tz: tzinfo,
) -> dict[UUID, list[Any]]:
    statuses: dict[UUID, list[Any]] = {agent_id: [] for agent_id in present}
    feedback: dict[UUID, list[Any]] | None = None
    for definition in definitions:
        metric = definition.metric
        if isinstance(metric, ComebackMetric):
            if feedback is None:
                feedback = _feedback(connection, present)
            for agent_id in present:
                steps = comeback_steps(metric, feedback.get(agent_id, []), tz)
                statuses[agent_id].append(status_from_steps(definition, steps))
            continue
        prefixes = _first_steps(connection, present, metric, definition.thresholds)
        for agent_id in present:
            total, steps = prefixes.get(agent_id, (0, []))
            statuses[agent_id].append(status_from_steps(definition, steps, total))
    return statuses


def _steps_source(present: Sequence[UUID], metric: Any) -> Select[Any]:
    """(owner, recording, occurred_at, notification id, amount) of every step of ``metric``."""
    columns = (r.recording_id, r.occurred_at, r.notification_id)
    if isinstance(metric, KudosMetric):
        kudos = r.kind == RecognitionKind.KUDOS_GIVEN.value
        received = select(r.agent_id.label("owner"), *columns, literal(1).label("amount"))
        given = select(r.from_agent.label("owner"), *columns, literal(1).label("amount"))
        union = union_all(
            received.where(kudos, _LIVE, r.agent_id.in_(present)),
            given.where(kudos, _LIVE, r.from_agent.in_(present)),
        ).subquery()
        return select(*union.c)
    if isinstance(metric, CompetencyXpMetric):
        return select(r.agent_id.label("owner"), *columns, r.points.label("amount")).where(
            r.agent_id.in_(present), _LIVE, r.points > 0, _credits(metric.competency)
        )
    assert isinstance(metric, CountMetric)
    return select(r.agent_id.label("owner"), *columns, literal(1).label("amount")).where(
        r.agent_id.in_(present), _LIVE, *_count_filters(metric)
    )


def _count_filters(metric: CountMetric) -> list[ColumnElement[bool]]:
    """:func:`domain.badges.matches_count` in SQL."""
    filters: list[ColumnElement[bool]] = []
    if metric.kinds:
        filters.append(r.kind.in_([k.value for k in metric.kinds]))
    if metric.competencies:
        filters.append(or_(*(_credits(c) for c in metric.competencies)))
    if metric.feedback_kind is not None:
        filters.append(r.feedback_kind == metric.feedback_kind.value)
    if metric.min_rating is not None:
        filters.append(r.rating >= metric.min_rating)
    if metric.min_score is not None:
        filters.append(r.score >= metric.min_score)
    return filters


def _first_steps(
    connection: Connection, present: Sequence[UUID], metric: Any, thresholds: Thresholds
) -> dict[UUID, tuple[int, list[MetricStep]]]:
    """Per agent: the metric's value, and its steps in order up to the one that reaches the
    highest threshold the value reaches (the tiers, dates and evidence are decided by then);
    at least the first step, which carries the value."""
    source = _steps_source(present, metric).subquery()
    order = (source.c.occurred_at, source.c.notification_id, source.c.recording_id)
    running = func.sum(source.c.amount).over(
        partition_by=source.c.owner, order_by=order, rows=(None, 0)
    )
    total = func.sum(source.c.amount).over(partition_by=source.c.owner)
    ranked = select(
        source.c.owner,
        source.c.recording_id,
        source.c.occurred_at,
        source.c.notification_id,
        source.c.amount,
        (running - source.c.amount).label("before"),
        total.label("total"),
    ).subquery()
    highest_reached = case(
        *((ranked.c.total >= value, value) for _, value in reversed(thresholds.items())),
        else_=1,
    )
    query = (
        select(ranked)
        .where(ranked.c.before < highest_reached)
        .order_by(
            ranked.c.owner, ranked.c.occurred_at, ranked.c.notification_id, ranked.c.recording_id
        )
    )
    found: dict[UUID, tuple[int, list[MetricStep]]] = {}
    for owner, recording_id, occurred_at, sequence, amount, _, value in connection.execute(query):
        _, steps = found.setdefault(owner, (int(value), []))
        steps.append(MetricStep((occurred_at, sequence), int(amount), (recording_id,)))
    return found


def _feedback(connection: Connection, present: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """Each agent's feedback received, in ``order_key`` order (what comebacks pair)."""
    query = (
        select(*FACT_COLUMNS)
        .where(r.agent_id.in_(present), _LIVE, r.kind == RecognitionKind.FEEDBACK_GIVEN.value)
        .order_by(r.agent_id, *_ORDER)
    )
    found: dict[UUID, list[Any]] = {}
    for row in connection.execute(query):
        found.setdefault(row[2], []).append(recognition_from_row(row))
    for feedback in found.values():
        feedback.sort(key=lambda f: (*f.order_key, f.recording_id))
    return found
