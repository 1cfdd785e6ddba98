"""Explanations: for one agent and one figure, the events and the rules that produced it.

Figures: ``xp`` (total XP), ``competency:<name>`` (XP of one competency), ``badge:<key>`` (a
badge's tier and progress) and ``streak`` (the current and the best streak). An explanation is
computed by the same pure rules that score the agent (:mod:`domain.scoring`,
:mod:`domain.badges`, :mod:`domain.streaks`) over the same facts, so its lines add up to the
figure the read models show. Every line names its event in the log (the notification id),
says the rule in words and gives the version of the rulebook that applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal
from uuid import UUID

from domain.badges import metric_steps
from domain.competencies import Competency, parse_competency
from domain.exceptions import InvalidCompetency, InvalidInput
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.rulebook import (
    BadgeDefinition,
    BadgeMetric,
    ComebackMetric,
    CompetencyXpMetric,
    CountMetric,
    Rulebook,
    RulebookHistory,
    Tier,
)
from domain.scoring import AgentScore, XpLine, local_day, score_agent
from domain.streaks import StreakSummary, current_streak, next_working_day, streak_runs

FigureKind = Literal["xp", "competency", "badge", "streak"]


class InvalidFigure(InvalidInput):
    field = "figure"


@dataclass(frozen=True, slots=True)
class Figure:
    kind: FigureKind
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


@dataclass(frozen=True, slots=True)
class ExplanationLine:
    """One event of the log and what it did to the figure.

    ``points`` is what it added (XP; for a badge, progress; for a streak, 1 when it made a
    working day active); ``total`` is the figure after it (for a streak: the day's place in
    its run). ``related`` names other events the rule looked at (a comeback's coaching).
    """

    notification_id: int
    recording_id: UUID
    kind: RecognitionKind
    occurred_at: datetime
    competencies: tuple[Competency, ...]
    rulebook_version: int
    rule: str
    points: int
    total: int
    note: str = ""
    related: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RunView:
    first_day: date
    last_day: date
    days: int


@dataclass(frozen=True, slots=True)
class Explanation:
    """A figure, the sentence that sums it up, and the lines that produced it, oldest first.

    Badges also give ``tier``, ``progress`` and ``next_threshold``; streaks give
    ``current_streak``, ``best_streak`` and the ``runs`` of active working days.
    """

    figure: str
    title: str
    value: int
    unit: str
    summary: str
    rulebook_version: int
    lines: tuple[ExplanationLine, ...]
    tier: Tier | None = None
    progress: int | None = None
    next_threshold: int | None = None
    current_streak: int | None = None
    best_streak: int | None = None
    runs: tuple[RunView, ...] = ()


# ------------------------------------------------------------------------------- figures


def figure_choices(rulebook: Rulebook) -> tuple[tuple[str, str], ...]:
    """Every figure that can be explained, as (figure, its name in words)."""
    return (
        ("xp", "Total XP"),
        *((f"competency:{c.value}", f"XP in {c.label}") for c in Competency),
        *((f"badge:{b.key}", f"Badge: {b.name}") for b in rulebook.badges),
        ("streak", "Streak"),
    )


def parse_figure(text: str, rulebook: Rulebook) -> Figure:
    """``xp``, ``competency:<name>``, ``badge:<key>`` (a badge of ``rulebook``) or ``streak``."""
    kind, _, name = text.strip().partition(":")
    if kind in ("xp", "streak") and not name:
        return Figure("xp" if kind == "xp" else "streak")
    if kind == "competency" and name:
        try:
            return Figure("competency", parse_competency(name).value)
        except InvalidCompetency as error:
            raise InvalidFigure(str(error)) from None
    if kind == "badge" and name:
        keys = [b.key for b in rulebook.badges]
        if name in keys:
            return Figure("badge", name)
        raise InvalidFigure(f"unknown badge {name!r}; expected one of: {', '.join(keys)}")
    raise InvalidFigure(
        f"unknown figure {text!r}; expected xp, competency:<name>, badge:<key> or streak"
    )


def explain(
    figure: Figure,
    history: AgentHistory,
    rulebooks: RulebookHistory,
    tz: tzinfo,
    today: date,
) -> Explanation:
    """The explanation of ``figure`` for the agent of ``history`` (``today``: a local day in
    ``tz``, which decides whether the current streak is still alive)."""
    score = score_agent(history, rulebooks, tz)
    if figure.kind == "xp":
        return explain_xp(score, history, rulebooks)
    if figure.kind == "competency":
        return explain_competency(Competency(figure.name), score, history, rulebooks)
    if figure.kind == "badge":
        latest = rulebooks.latest
        return explain_badge(latest.badge(figure.name), score, history, tz, latest.version)
    return explain_streak(history, rulebooks.latest, tz, today)


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _recognitions(history: AgentHistory) -> dict[UUID, Recognition]:
    return {r.recording_id: r for r in (*history.received, *history.kudos_given)}


# ------------------------------------------------------------------------------------- XP


def xp_rule_words(line: XpLine, recognition: Recognition, rulebook: Rulebook) -> str:
    """The rule that priced one recognition, in words."""
    label = line.kind.label
    if line.capped:
        return line.rule  # the daily cap, already in words
    base = rulebook.xp_for(line.kind)
    if line.kind is not RecognitionKind.FEEDBACK_GIVEN:
        return f"{label} earns {base} XP"
    percent = rulebook.multiplier_percent(recognition.rating)
    rated = "without a rating" if recognition.rating is None else f"rated {recognition.rating} of 5"
    return f"{label} earns {base} XP; {rated}, it counts {percent}%: {line.points} XP"


def _xp_lines(
    lines: tuple[XpLine, ...], history: AgentHistory, rulebooks: RulebookHistory
) -> tuple[ExplanationLine, ...]:
    recognitions = _recognitions(history)
    total = 0
    out: list[ExplanationLine] = []
    for line in lines:
        recognition = recognitions[line.recording_id]
        total += line.points
        out.append(
            ExplanationLine(
                notification_id=recognition.sequence,
                recording_id=line.recording_id,
                kind=line.kind,
                occurred_at=line.occurred_at,
                competencies=line.competencies,
                rulebook_version=line.rulebook_version,
                rule=xp_rule_words(line, recognition, rulebooks.in_force_at(line.occurred_at)),
                points=line.points,
                total=total,
                note="capped" if line.capped else "",
            )
        )
    return tuple(out)


def explain_xp(score: AgentScore, history: AgentHistory, rulebooks: RulebookHistory) -> Explanation:
    lines = _xp_lines(score.lines, history, rulebooks)
    return Explanation(
        figure="xp",
        title="Total XP",
        value=score.xp_total,
        unit="XP",
        summary=(
            f"{score.xp_total:,} XP from {_plural(len(lines), 'recognition')} received "
            "(retracted ones excluded). Each earns the XP of the rulebook in force when it "
            "happened; beyond a daily cap, a recognition earns nothing."
        ),
        rulebook_version=rulebooks.latest.version,
        lines=lines,
    )


def explain_competency(
    competency: Competency, score: AgentScore, history: AgentHistory, rulebooks: RulebookHistory
) -> Explanation:
    credited = tuple(line for line in score.lines if competency in line.competencies)
    lines = _xp_lines(credited, history, rulebooks)
    value = score.xp_by_competency[competency]
    return Explanation(
        figure=f"competency:{competency.value}",
        title=f"XP in {competency.label}",
        value=value,
        unit="XP",
        summary=(
            f"{value:,} XP from {_plural(len(lines), 'recognition')} crediting "
            f"{competency.label.lower()}: every competency a recognition credits gets all of "
            "its XP."
        ),
        rulebook_version=rulebooks.latest.version,
        lines=lines,
    )


# --------------------------------------------------------------------------------- badges


def metric_words(metric: BadgeMetric) -> str:
    """What a badge counts, in words."""
    if isinstance(metric, CountMetric):
        kinds = " or ".join(k.label.lower() for k in metric.kinds) or "any recognition"
        words = [kinds[0].upper() + kinds[1:]]
        if metric.competencies:
            words.append("crediting " + " or ".join(c.label.lower() for c in metric.competencies))
        if metric.feedback_kind is not None:
            words.append(f"given as {metric.feedback_kind.value}")
        if metric.min_rating is not None:
            words.append(f"rated {metric.min_rating} or more")
        if metric.min_score is not None:
            words.append(f"with a score of {metric.min_score} or more")
        return ", ".join(words) + ": each one counts 1"
    if isinstance(metric, ComebackMetric):
        return (
            f"A comeback: coaching (or feedback rated {metric.max_rating} or less) followed "
            f"within {metric.within_days} days by praise rated {metric.min_rating} or more"
        )
    if isinstance(metric, CompetencyXpMetric):
        return f"XP earned in {metric.competency.label.lower()}"
    return "Kudos given to colleagues and kudos received: each one counts 1"


def _step_rule(metric: BadgeMetric, recognition: Recognition, agent_id: UUID, amount: int) -> str:
    if isinstance(metric, ComebackMetric):
        return "Praise that closes a comeback after coaching: +1"
    if isinstance(metric, CompetencyXpMetric):
        return f"{amount:,} XP in {metric.competency.label.lower()}"
    if recognition.kind is RecognitionKind.KUDOS_GIVEN and recognition.agent_id != agent_id:
        return "Kudos given to a colleague: +1"
    label = recognition.kind.label
    if recognition.kind is RecognitionKind.KUDOS_GIVEN:
        label = "Kudos from a colleague"
    if recognition.feedback_kind is FeedbackKind.COACHING:
        label += " (coaching)"
    elif recognition.rating is not None:
        label += f" (rated {recognition.rating})"
    return f"{label}: +1"


def explain_badge(
    definition: BadgeDefinition,
    score: AgentScore,
    history: AgentHistory,
    tz: tzinfo,
    rulebook_version: int,
) -> Explanation:
    """Every step of the badge's metric, with the tiers reached on the way. The newest
    rulebook (``rulebook_version``) defines the badge; XP steps keep the XP's own version."""
    status = score.badge(definition.key)
    recognitions = _recognitions(history)
    by_xp = isinstance(definition.metric, CompetencyXpMetric)
    version = {line.recording_id: line.rulebook_version for line in score.lines} if by_xp else {}
    pending = list(definition.thresholds.items())
    progress = 0
    lines: list[ExplanationLine] = []
    for step in metric_steps(definition.metric, history, score.lines, tz):
        progress += step.amount
        reached: list[str] = []
        while pending and progress >= pending[0][1]:
            tier, threshold = pending.pop(0)
            reached.append(f"{tier.capitalize()} reached ({threshold:,})")
        recognition = recognitions[step.evidence[-1]]
        lines.append(
            ExplanationLine(
                notification_id=recognition.sequence,
                recording_id=recognition.recording_id,
                kind=recognition.kind,
                occurred_at=recognition.occurred_at,
                competencies=recognition.competencies,
                rulebook_version=version.get(recognition.recording_id, rulebook_version),
                rule=_step_rule(definition.metric, recognition, history.agent_id, step.amount),
                points=step.amount,
                total=progress,
                note="; ".join(reached),
                related=tuple(recognitions[e].sequence for e in step.evidence[:-1]),
            )
        )
    thresholds = ", ".join(f"{t} {n:,}" for t, n in definition.thresholds.items())
    standing = f"{status.tier.capitalize()} earned" if status.tier else "No tier yet"
    to_go = (
        f"; {status.next_threshold - status.progress:,} more for {status.next_tier}"
        if status.next_tier is not None and status.next_threshold is not None
        else ""
    )
    return Explanation(
        figure=f"badge:{definition.key}",
        title=f"Badge: {definition.name}",
        value=status.progress,
        unit="XP" if by_xp else "counted",
        summary=(
            f"{standing}: progress {status.progress:,}{to_go}. {definition.description} "
            f"What counts: {metric_words(definition.metric)}. Tiers: {thresholds}."
        ),
        rulebook_version=rulebook_version,
        lines=tuple(lines),
        tier=status.tier,
        progress=status.progress,
        next_threshold=status.next_threshold,
    )


# -------------------------------------------------------------------------------- streaks


def explain_streak(
    history: AgentHistory, rulebook: Rulebook, tz: tzinfo, today: date
) -> Explanation:
    """Which recognitions made which working days active, and the runs those days form."""
    working = rulebook.streak_working_days
    runs = streak_runs((local_day(r.occurred_at, tz) for r in history.received), working)
    place: dict[date, tuple[int, int]] = {}  # day -> (its place in its run, the run's length)
    for run in runs:
        day, k = run.first_day, 1
        while True:
            place[day] = (k, run.days)
            if day == run.last_day:
                break
            day, k = next_working_day(day, working), k + 1
    best = max((run.days for run in runs), default=0)
    last = runs[-1] if runs else None
    summary = StreakSummary(
        best=best, run=last.days if last else 0, last_active_day=last.last_day if last else None
    )
    current = current_streak(summary, today, working)
    seen: set[date] = set()
    lines: list[ExplanationLine] = []
    for recognition in sorted(history.received, key=lambda r: (*r.order_key, r.recording_id)):
        day = local_day(recognition.occurred_at, tz)
        if day not in place:
            rule, points, total = f"{_day(day)} is not a working day: streaks ignore it", 0, 0
        elif day in seen:
            k, length = place[day]
            rule, points, total = f"{_day(day)} already counts (an earlier recognition)", 0, k
        else:
            seen.add(day)
            k, length = place[day]
            rule, points, total = (
                f"{_day(day)} becomes an active working day: day {k} of a run of {length}",
                1,
                k,
            )
        lines.append(
            ExplanationLine(
                notification_id=recognition.sequence,
                recording_id=recognition.recording_id,
                kind=recognition.kind,
                occurred_at=recognition.occurred_at,
                competencies=recognition.competencies,
                rulebook_version=rulebook.version,
                rule=rule,
                points=points,
                total=total,
            )
        )
    alive = (
        "still alive"
        if current
        else ("broken: no recognition on the last working day" if last else "not started")
    )
    return Explanation(
        figure="streak",
        title="Streak",
        value=current,
        unit="working days",
        summary=(
            f"Current streak {_plural(current, 'working day')} ({alive}); best "
            f"{_plural(best, 'working day')}. A working day with at least one recognition is "
            "active; consecutive active working days make a run, and days off neither break "
            "nor extend it."
        ),
        rulebook_version=rulebook.version,
        lines=tuple(lines),
        current_streak=current,
        best_streak=best,
        runs=tuple(RunView(r.first_day, r.last_day, r.days) for r in runs),
    )
