from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.streaks import (
    StreakSummary,
    current_streak,
    next_working_day,
    previous_working_day,
    streak_summary,
)

MON = date(2024, 3, 4)
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=n) for n in range(1, 7))
NEXT_MON = MON + timedelta(days=7)
WEEKDAYS = (1, 2, 3, 4, 5)

days = st.integers(0, 60).map(lambda n: MON + timedelta(days=n))
working_day_sets = st.sets(st.integers(1, 7), min_size=1).map(lambda s: tuple(sorted(s)))


def test_no_activity_means_no_streak() -> None:
    assert streak_summary([]) == StreakSummary(best=0, run=0, last_active_day=None)


def test_consecutive_working_days_form_a_streak() -> None:
    assert streak_summary([MON, TUE, WED]) == StreakSummary(best=3, run=3, last_active_day=WED)


def test_a_weekend_does_not_break_a_streak() -> None:
    assert streak_summary([THU, FRI, NEXT_MON]).run == 3


def test_activity_on_a_weekend_is_ignored_for_streaks() -> None:
    assert streak_summary([FRI, SAT, SUN, NEXT_MON]) == streak_summary([FRI, NEXT_MON])
    assert streak_summary([SAT]) == StreakSummary()


def test_a_missed_working_day_breaks_the_streak() -> None:
    summary = streak_summary([MON, TUE, WED, FRI])
    assert summary == StreakSummary(best=3, run=1, last_active_day=FRI)


def test_several_recognitions_on_one_day_count_once() -> None:
    assert streak_summary([MON, MON, TUE, TUE]).best == 2


def test_working_days_come_from_the_rulebook() -> None:
    six_day_week = (1, 2, 3, 4, 5, 6)
    assert streak_summary([FRI, NEXT_MON], six_day_week).run == 1
    assert streak_summary([FRI, SAT, NEXT_MON], six_day_week).run == 3


def test_the_streak_is_current_on_its_last_day_and_the_next_working_day() -> None:
    summary = streak_summary([WED, THU, FRI])
    assert current_streak(summary, FRI) == 3
    assert current_streak(summary, SAT) == 3
    assert current_streak(summary, SUN) == 3
    assert current_streak(summary, NEXT_MON) == 3
    assert current_streak(summary, NEXT_MON + timedelta(days=1)) == 0


def test_a_streak_that_ended_is_not_current() -> None:
    assert current_streak(streak_summary([MON, TUE]), THU) == 0
    assert current_streak(StreakSummary(), THU) == 0


def test_working_day_neighbours_skip_non_working_days() -> None:
    assert next_working_day(FRI) == NEXT_MON
    assert previous_working_day(NEXT_MON) == FRI
    assert previous_working_day(SUN) == FRI


def test_a_week_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one working day"):
        streak_summary([MON], ())


@given(st.lists(days), working_day_sets)
def test_the_run_is_never_longer_than_the_best_streak(
    active: list[date], working: tuple[int, ...]
) -> None:
    summary = streak_summary(active, working)
    assert 0 <= summary.run <= summary.best
    counted = {d for d in active if d.isoweekday() in working}
    assert summary.best <= len(counted)
    assert (summary.last_active_day is None) == (not counted)


@given(st.lists(days), days, working_day_sets)
def test_adding_an_active_day_never_lowers_the_best_streak(
    active: list[date], extra: date, working: tuple[int, ...]
) -> None:
    assert streak_summary([*active, extra], working).best >= streak_summary(active, working).best


@given(st.lists(days), st.randoms(use_true_random=False))
def test_the_order_of_active_days_does_not_matter(active: list[date], rng: object) -> None:
    shuffled = list(active)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert streak_summary(shuffled) == streak_summary(active)


@given(st.integers(0, 40), st.integers(1, 40))
def test_every_working_day_in_a_row_makes_a_streak_of_that_length(offset: int, length: int) -> None:
    day = next_working_day(MON + timedelta(days=offset - 1), WEEKDAYS)
    active = [day]
    for _ in range(length - 1):
        day = next_working_day(day, WEEKDAYS)
        active.append(day)
    summary = streak_summary(active, WEEKDAYS)
    assert summary == StreakSummary(best=length, run=length, last_active_day=active[-1])
    assert current_streak(summary, active[-1], WEEKDAYS) == length
