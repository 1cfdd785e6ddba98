"""Leaderboard windows: XP per week (from Monday), per calendar month, and of all time.

Days are local days in the contact centre's time zone. The "all" window has a single period
starting on :data:`ALL_TIME_START`.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Literal, get_args

from domain.scoring import AgentScore, local_day

Window = Literal["week", "month", "all"]
WINDOWS: tuple[Window, ...] = get_args(Window)
ALL_TIME_START = date(1970, 1, 1)
TOTAL = "*"

PeriodKey = tuple[str, date, str]
"""(window, period start, competency value or ``"*"`` for the total)."""


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def window_start(window: str, today: date) -> date:
    """The first day of the period of ``window`` that contains ``today``."""
    if window == "week":
        return week_start(today)
    if window == "month":
        return month_start(today)
    if window == "all":
        return ALL_TIME_START
    raise ValueError(f"unknown window {window!r}; expected one of {list(WINDOWS)}")


def period_totals(score: AgentScore, tz: tzinfo) -> dict[PeriodKey, int]:
    """XP per (window, period start, competency or "*"), leaving out zero entries."""
    totals: dict[PeriodKey, int] = {}
    starts: dict[date, list[tuple[str, date]]] = {}  # the same few days recur: once each
    for line in score.lines:
        if line.points == 0:
            continue
        day = local_day(line.occurred_at, tz)
        periods = starts.get(day)
        if periods is None:
            periods = starts[day] = [(window, window_start(window, day)) for window in WINDOWS]
        columns = (TOTAL, *(c.value for c in line.competencies))
        for window, start in periods:
            for column in columns:
                key = (window, start, column)
                totals[key] = totals.get(key, 0) + line.points
    return totals
