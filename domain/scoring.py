"""Scoring: an agent's XP, level, streak and badges, every point explained.

The rules, as pure functions of (rulebooks, history, time zone):

* A recognition received earns the base XP of its kind from the rulebook **in force when it
  occurred**; FeedbackGiven is scaled by its rating's percentage (``base * pct // 100``). What
  was earned under an older rulebook stays earned.
* Daily caps: per agent, local day (``occurred_at`` in ``tz``) and kind, recognitions are taken
  in ``order_key`` order; the ``n``-th earns only while ``n`` is within the cap of the rulebook
  in force at it. The rest earn 0 with a line saying the cap applied. Input order never matters.
* Every competency a recognition credits gets the recognition's full points; the total is the
  sum of recognitions' points (not of competencies' points).
* Kudos given earn the giver no XP (they count towards the Gratitude badge).
* The **newest** rulebook's level curve, streak days and badge thresholds apply to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from uuid import UUID

from domain.badges import BadgeStatus, evaluate_badges
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import AgentHistory, Recognition, RecognitionKind
from domain.levels import LevelProgress, level_for
from domain.rulebook import FrozenMap, Rulebook, RulebookHistory
from domain.streaks import StreakSummary, streak_summary


@dataclass(frozen=True, slots=True)
class XpLine:
    """One recognition's contribution, with the rule that produced it."""

    recording_id: UUID
    kind: RecognitionKind
    occurred_at: datetime
    competencies: tuple[Competency, ...]
    rulebook_version: int
    rule: str
    points: int
    capped: bool


@dataclass(frozen=True, slots=True)
class AgentScore:
    agent_id: UUID
    xp_total: int
    xp_by_competency: FrozenMap[Competency, int]
    level: LevelProgress
    streak: StreakSummary
    badges: tuple[BadgeStatus, ...]
    lines: tuple[XpLine, ...]

    def badge(self, key: str) -> BadgeStatus:
        for status in self.badges:
            if status.key == key:
                return status
        raise KeyError(key)


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of ``moment`` in the contact centre's time zone."""
    return moment.astimezone(tz).date()


def recognition_points(recognition: Recognition, rulebook: Rulebook) -> tuple[int, str]:
    """Uncapped XP of one recognition under ``rulebook``, and the sentence explaining it."""
    kind = recognition.kind
    base = rulebook.xp_for(kind)
    if kind is not RecognitionKind.FEEDBACK_GIVEN:
        return base, f"{kind.label}: {base} XP"
    pct = rulebook.multiplier_percent(recognition.rating)
    points = base * pct // 100
    if recognition.rating is None:
        return points, f"{kind.label}: {base} XP (no rating, {pct}%) = {points} XP"
    return (
        points,
        f"{kind.label}: {base} XP × rating {recognition.rating} ({pct}%) = {points} XP",
    )


def _ordered(recognitions: tuple[Recognition, ...]) -> list[Recognition]:
    return sorted(recognitions, key=lambda r: (*r.order_key, r.recording_id))


def score_lines(
    received: tuple[Recognition, ...], rulebooks: RulebookHistory, tz: tzinfo
) -> tuple[XpLine, ...]:
    """One line per recognition received, in ``order_key`` order.

    Daily caps: within one local day and kind, the recognitions worth the most earn first
    (ties in ``order_key`` order); a recognition earns while its rank is within the cap of
    the rulebook in force at it. So recording one more recognition never lowers anyone's
    XP, and the order in which recordings arrive never matters.
    """
    ordered = _ordered(received)
    priced: dict[UUID, tuple[Rulebook, int, str]] = {}
    groups: dict[tuple[date, RecognitionKind], list[Recognition]] = {}
    for recognition in ordered:
        rulebook = rulebooks.in_force_at(recognition.occurred_at)
        points, rule = recognition_points(recognition, rulebook)
        priced[recognition.recording_id] = (rulebook, points, rule)
        groups.setdefault((local_day(recognition.occurred_at, tz), recognition.kind), []).append(
            recognition
        )
    rank: dict[UUID, int] = {}
    for group in groups.values():
        best_first = sorted(group, key=lambda r: -priced[r.recording_id][1])  # stable
        for position, recognition in enumerate(best_first, start=1):
            rank[recognition.recording_id] = position
    lines: list[XpLine] = []
    for recognition in ordered:
        rulebook, points, rule = priced[recognition.recording_id]
        position = rank[recognition.recording_id]
        cap = rulebook.daily_cap(recognition.kind)
        capped = cap is not None and position > cap
        if capped:
            day = local_day(recognition.occurred_at, tz)
            rule = (
                f"Daily cap: only the best {cap} of “{recognition.kind.label}” a day earn XP "
                f"(this one ranked {position} on {day.isoformat()})"
            )
            points = 0
        lines.append(
            XpLine(
                recording_id=recognition.recording_id,
                kind=recognition.kind,
                occurred_at=recognition.occurred_at,
                competencies=recognition.competencies,
                rulebook_version=rulebook.version,
                rule=rule,
                points=points,
                capped=capped,
            )
        )
    return tuple(lines)


def score_agent(history: AgentHistory, rulebooks: RulebookHistory, tz: tzinfo) -> AgentScore:
    """XP, level, streak and badges of one agent, from its (non-retracted) history."""
    lines = score_lines(history.received, rulebooks, tz)
    by_competency = dict.fromkeys(ALL_COMPETENCIES, 0)
    for line in lines:
        for competency in line.competencies:
            by_competency[competency] += line.points
    xp_total = sum(line.points for line in lines)
    latest = rulebooks.latest
    return AgentScore(
        agent_id=history.agent_id,
        xp_total=xp_total,
        xp_by_competency=FrozenMap(by_competency),
        level=level_for(xp_total, latest.level_curve),
        streak=streak_summary(
            (local_day(r.occurred_at, tz) for r in history.received), latest.streak_working_days
        ),
        badges=evaluate_badges(latest.badges, history, lines, tz),
        lines=lines,
    )
