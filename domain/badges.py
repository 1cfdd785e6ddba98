"""Badges: bronze, silver and gold tiers of metrics over an agent's history.

The definitions are data in the rulebook (see :mod:`domain.rulebook`); the thresholds of the
newest rulebook apply to everyone. Every metric is a pure function of the agent's history and
of the XP lines scored from it, expressed as a series of *steps* in ``order_key`` order. A tier
is earned at the step where the running total first reaches its threshold: ``earned_at`` is that
recognition's ``occurred_at`` and the evidence is every recording that counted up to then.

Metrics:

* ``count`` — recognitions received matching the filters (XP does not matter, so a capped
  recognition still counts).
* ``comeback`` — coaching feedback followed within ``within_days`` by praise; each praise
  closes the oldest open coaching still within reach, so it closes at most one comeback.
  Evidence: the coaching and the praise recordings.
* ``kudos`` — kudos given plus kudos received.
* ``competency_xp`` — XP in one competency; evidence: the recordings whose XP brought it there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.rulebook import (
    TIERS,
    BadgeDefinition,
    BadgeFamily,
    BadgeMetric,
    ComebackMetric,
    CompetencyXpMetric,
    CountMetric,
    KudosMetric,
    Tier,
)

if TYPE_CHECKING:
    from domain.scoring import XpLine


@dataclass(frozen=True, slots=True)
class TierAward:
    tier: Tier
    earned_at: datetime
    evidence: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class BadgeStatus:
    """Where an agent stands on one badge.

    ``tier`` is the highest tier earned (``None`` before bronze); ``progress`` is the metric's
    value; ``next_tier``/``next_threshold`` name the next tier to reach (``None`` after gold);
    ``earned`` lists the tiers earned so far, in order.
    """

    key: str
    name: str
    family: BadgeFamily
    tier: Tier | None
    progress: int
    next_tier: Tier | None
    next_threshold: int | None
    earned: tuple[TierAward, ...]
    description: str = ""


class MetricStep(NamedTuple):
    """The metric grew by ``amount`` with the recognition at ``order_key``. (A named tuple:
    a badge's evaluation makes one per recognition it counts, in half the time a frozen
    dataclass takes.)"""

    order_key: tuple[datetime, int]
    amount: int
    evidence: tuple[UUID, ...]


def _ordered(recognitions: Iterable[Recognition]) -> list[Recognition]:
    return sorted(recognitions, key=lambda r: (r.occurred_at, r.sequence, r.recording_id))


def matches_count(metric: CountMetric, recognition: Recognition) -> bool:
    """Whether ``recognition`` counts for a ``count`` metric."""
    if metric.kinds and recognition.kind not in metric.kinds:
        return False
    if metric.competencies and not set(metric.competencies) & set(recognition.competencies):
        return False
    if metric.feedback_kind is not None and recognition.feedback_kind != metric.feedback_kind:
        return False
    if metric.min_rating is not None and (
        recognition.rating is None or recognition.rating < metric.min_rating
    ):
        return False
    return metric.min_score is None or (
        recognition.score is not None and recognition.score >= metric.min_score
    )


def _count_steps(metric: CountMetric, received: Sequence[Recognition]) -> list[MetricStep]:
    return [
        MetricStep((r.occurred_at, r.sequence), 1, (r.recording_id,))
        for r in received
        if matches_count(metric, r)
    ]


def _kudos_steps(history: AgentHistory, received: Sequence[Recognition]) -> list[MetricStep]:
    kudos = [r for r in received if r.kind is RecognitionKind.KUDOS_GIVEN]
    kudos += [r for r in history.kudos_given if r.kind is RecognitionKind.KUDOS_GIVEN]
    return [MetricStep(r.order_key, 1, (r.recording_id,)) for r in _ordered(kudos)]


def is_coaching(metric: ComebackMetric, recognition: Recognition) -> bool:
    if recognition.kind is not RecognitionKind.FEEDBACK_GIVEN:
        return False
    if recognition.feedback_kind is FeedbackKind.COACHING:
        return True
    return recognition.rating is not None and recognition.rating <= metric.max_rating


def is_praise(metric: ComebackMetric, recognition: Recognition) -> bool:
    return (
        recognition.kind is RecognitionKind.FEEDBACK_GIVEN
        and recognition.feedback_kind is not FeedbackKind.COACHING
        and recognition.rating is not None
        and recognition.rating >= metric.min_rating
    )


def comeback_steps(
    metric: ComebackMetric, received: Sequence[Recognition], tz: tzinfo
) -> list[MetricStep]:
    """The window is counted in the organisation's calendar days (not in hours), so a change
    of clocks or the time of day never moves a comeback in or out of it."""

    def day(recognition: Recognition) -> date:
        return recognition.occurred_at.astimezone(tz).date()

    open_coaching: deque[Recognition] = deque()
    steps: list[MetricStep] = []
    for feedback in received:
        if is_coaching(metric, feedback):
            open_coaching.append(feedback)
        elif is_praise(metric, feedback):
            while (
                open_coaching and (day(feedback) - day(open_coaching[0])).days > metric.within_days
            ):
                open_coaching.popleft()
            if open_coaching:
                coaching = open_coaching.popleft()
                steps.append(
                    MetricStep(
                        feedback.order_key, 1, (coaching.recording_id, feedback.recording_id)
                    )
                )
    return steps


def _competency_xp_steps(
    metric: CompetencyXpMetric,
    received: Sequence[Recognition],
    lines: Sequence[XpLine],
    order: dict[UUID, tuple[datetime, int]] | None = None,
) -> list[MetricStep]:
    if order is None:
        order = order_keys(received)
    credited = [
        line for line in lines if line.points > 0 and metric.competency in line.competencies
    ]
    steps = [
        MetricStep(
            order.get(line.recording_id, (line.occurred_at, 0)), line.points, (line.recording_id,)
        )
        for line in credited
    ]
    return sorted(steps, key=lambda s: (*s.order_key, s.evidence))


def order_keys(received: Iterable[Recognition]) -> dict[UUID, tuple[datetime, int]]:
    return {r.recording_id: (r.occurred_at, r.sequence) for r in received}  # each order_key


@dataclass
class OrderedReceived:
    """One agent's recognitions received, sorted once for every badge of a rulebook
    (:meth:`of`), to pass to each :func:`evaluate_badge` of that agent."""

    received: list[Recognition]
    _order: dict[UUID, tuple[datetime, int]] | None = None

    @classmethod
    def of(cls, history: AgentHistory) -> OrderedReceived:
        return cls(_ordered(history.received))

    @property
    def order(self) -> dict[UUID, tuple[datetime, int]]:
        if self._order is None:
            self._order = order_keys(self.received)
        return self._order


def metric_steps(
    metric: BadgeMetric,
    history: AgentHistory,
    lines: Sequence[XpLine],
    tz: tzinfo = UTC,
    ordered: OrderedReceived | None = None,
) -> list[MetricStep]:
    """The growth of ``metric`` over the history, in ``order_key`` order."""
    if ordered is None:
        ordered = OrderedReceived.of(history)
    if isinstance(metric, CountMetric):
        return _count_steps(metric, ordered.received)
    if isinstance(metric, ComebackMetric):
        return comeback_steps(metric, ordered.received, tz)
    if isinstance(metric, KudosMetric):
        return _kudos_steps(history, ordered.received)
    return _competency_xp_steps(metric, ordered.received, lines, ordered.order)


def evaluate_badge(
    definition: BadgeDefinition,
    history: AgentHistory,
    lines: Sequence[XpLine],
    tz: tzinfo = UTC,
    ordered: OrderedReceived | None = None,
) -> BadgeStatus:
    return status_from_steps(
        definition, metric_steps(definition.metric, history, lines, tz, ordered)
    )


def status_from_steps(
    definition: BadgeDefinition, steps: Iterable[MetricStep], progress_total: int | None = None
) -> BadgeStatus:
    """The status the metric's ``steps`` (in order) reach. ``progress_total``: the metric's
    value when ``steps`` are only its first steps, up to the one that reached the highest
    threshold (the tiers and their evidence are all decided by then)."""
    pending = list(definition.thresholds.items())
    ordered = steps if isinstance(steps, list) else list(steps)
    reached: list[tuple[Tier, int]] = []  # each tier earned, at the index of its step
    progress = 0
    for index, step in enumerate(ordered):
        progress += step.amount
        while pending and progress >= pending[0][1]:
            reached.append((pending.pop(0)[0], index))
    earned: list[TierAward] = []
    evidence: list[UUID] = []
    seen: set[UUID] = set()
    start = 0
    for tier, index in reached:  # the evidence: every recording that counted up to then
        for step in ordered[start : index + 1]:
            for recording_id in step.evidence:
                if recording_id not in seen:
                    seen.add(recording_id)
                    evidence.append(recording_id)
        start = index + 1
        earned.append(TierAward(tier, ordered[index].order_key[0], tuple(evidence)))
    if progress_total is not None:
        progress = progress_total
    next_tier, next_threshold = pending[0] if pending else (None, None)
    return BadgeStatus(
        key=definition.key,
        name=definition.name,
        family=definition.family,
        tier=earned[-1].tier if earned else None,
        progress=progress,
        next_tier=next_tier,
        next_threshold=next_threshold,
        earned=tuple(earned),
        description=definition.description,
    )


def evaluate_badges(
    definitions: Iterable[BadgeDefinition],
    history: AgentHistory,
    lines: Sequence[XpLine],
    tz: tzinfo = UTC,
) -> tuple[BadgeStatus, ...]:
    """The status of every badge defined, in the rulebook's order."""
    ordered = OrderedReceived.of(history)
    return tuple(evaluate_badge(d, history, lines, tz, ordered) for d in definitions)


def tier_rank(tier: Tier | None) -> int:
    """0 for no tier, 1 bronze, 2 silver, 3 gold (for sorting and comparisons)."""
    return 0 if tier is None else TIERS.index(tier) + 1
