"""Streaks: consecutive working days on which an agent received at least one recognition.

Working days are ISO weekday numbers (1 = Monday ... 7 = Sunday) taken from the rulebook,
Monday to Friday by default.

The rule, kept deliberately simple: **only working days count**. A recognition that happens
on a non-working day is ignored for streaks (it still earns XP and counts for badges). So a
weekend neither breaks a streak nor extends it: Friday followed by Monday is two days in a row,
and a Saturday recognition between them changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

DEFAULT_WORKING_DAYS: tuple[int, ...] = (1, 2, 3, 4, 5)

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StreakSummary:
    """``best``: the longest streak ever; ``run``: the length of the streak that ends at
    ``last_active_day`` (the latest active working day, ``None`` if there is none)."""

    best: int = 0
    run: int = 0
    last_active_day: date | None = None


def _check(working_days: Collection[int]) -> None:
    if not working_days:
        raise ValueError("at least one working day is needed")
    if any(not 1 <= d <= 7 for d in working_days):
        raise ValueError("working days are ISO weekday numbers from 1 to 7")


def is_working_day(day: date, working_days: Collection[int] = DEFAULT_WORKING_DAYS) -> bool:
    return day.isoweekday() in working_days


def next_working_day(day: date, working_days: Collection[int] = DEFAULT_WORKING_DAYS) -> date:
    """The first working day strictly after ``day``."""
    _check(working_days)
    day += _ONE_DAY
    while day.isoweekday() not in working_days:
        day += _ONE_DAY
    return day


def previous_working_day(day: date, working_days: Collection[int] = DEFAULT_WORKING_DAYS) -> date:
    """The last working day strictly before ``day``."""
    _check(working_days)
    day -= _ONE_DAY
    while day.isoweekday() not in working_days:
        day -= _ONE_DAY
    return day


def streak_summary(
    active_days: Iterable[date], working_days: Collection[int] = DEFAULT_WORKING_DAYS
) -> StreakSummary:
    """Summarise the streaks formed by ``active_days`` (any order, duplicates allowed).

    Days that are not working days are dropped first (see the module docstring).
    """
    _check(working_days)
    days = sorted({d for d in active_days if d.isoweekday() in working_days})
    if not days:
        return StreakSummary()
    best = run = 1
    for previous, day in pairwise(days):
        run = run + 1 if day == next_working_day(previous, working_days) else 1
        best = max(best, run)
    return StreakSummary(best=best, run=run, last_active_day=days[-1])


def current_streak(
    summary: StreakSummary, today: date, working_days: Collection[int] = DEFAULT_WORKING_DAYS
) -> int:
    """The streak still alive on ``today``.

    The run is alive if its last active day is ``today`` or the last working day before
    ``today`` (so on a weekend, Friday's run is still alive; on Monday morning too, until
    Monday ends without a recognition). Otherwise the streak is broken and this is 0.
    A last active day after ``today`` (a summary computed with later history) counts as alive.
    """
    if summary.last_active_day is None:
        return 0
    if summary.last_active_day >= previous_working_day(today, working_days):
        return summary.run
    return 0


@dataclass(frozen=True, slots=True)
class StreakRun:
    """Consecutive active working days, ``days`` of them, from ``first_day`` to ``last_day``."""

    first_day: date
    last_day: date
    days: int


def streak_runs(
    active_days: Iterable[date], working_days: Collection[int] = DEFAULT_WORKING_DAYS
) -> tuple[StreakRun, ...]:
    """The runs that make up the streaks, oldest first (non-working days dropped, as in
    :func:`streak_summary`): the best streak is the longest run, the run is the last one."""
    _check(working_days)
    days = sorted({d for d in active_days if d.isoweekday() in working_days})
    runs: list[StreakRun] = []
    for day in days:
        last = runs[-1] if runs else None
        if last is not None and day == next_working_day(last.last_day, working_days):
            runs[-1] = StreakRun(last.first_day, day, last.days + 1)
        else:
            runs.append(StreakRun(day, day, 1))
    return tuple(runs)
