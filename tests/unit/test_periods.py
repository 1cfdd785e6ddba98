from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

from domain.competencies import Competency
from domain.facts import AgentHistory, RecognitionKind
from domain.periods import (
    ALL_TIME_START,
    month_start,
    period_totals,
    week_start,
    window_start,
)
from domain.rulebook import RulebookHistory
from domain.scoring import score_agent
from tests.strategies import agent_histories, make_recognition, timezones

DEFAULT = RulebookHistory.default()
TRAINING = RecognitionKind.TRAINING_COMPLETED


def test_weeks_start_on_monday() -> None:
    assert week_start(date(2024, 3, 6)) == date(2024, 3, 4)
    assert week_start(date(2024, 3, 4)) == date(2024, 3, 4)
    assert week_start(date(2024, 3, 10)) == date(2024, 3, 4)


def test_months_start_on_the_first() -> None:
    assert month_start(date(2024, 2, 29)) == date(2024, 2, 1)


def test_window_start_names_the_period_containing_today() -> None:
    today = date(2024, 3, 6)
    assert window_start("week", today) == date(2024, 3, 4)
    assert window_start("month", today) == date(2024, 3, 1)
    assert window_start("all", today) == ALL_TIME_START == date(1970, 1, 1)
    with pytest.raises(ValueError, match="unknown window"):
        window_start("year", today)


def test_period_totals_split_xp_by_window_and_competency() -> None:
    both = (Competency.TEAMWORK, Competency.LEADERSHIP)
    history = AgentHistory(
        UUID(int=1),
        received=(
            make_recognition(TRAINING, datetime(2024, 2, 29, 12, tzinfo=UTC), competencies=both),
            make_recognition(TRAINING, datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ),
    )
    totals = period_totals(score_agent(history, DEFAULT, UTC), UTC)
    monday = date(2024, 2, 26)
    assert totals == {
        ("week", monday, "*"): 80,
        ("week", monday, "teamwork"): 40,
        ("week", monday, "leadership"): 40,
        ("week", monday, "communication"): 40,
        ("month", date(2024, 2, 1), "*"): 40,
        ("month", date(2024, 2, 1), "teamwork"): 40,
        ("month", date(2024, 2, 1), "leadership"): 40,
        ("month", date(2024, 3, 1), "*"): 40,
        ("month", date(2024, 3, 1), "communication"): 40,
        ("all", ALL_TIME_START, "*"): 80,
        ("all", ALL_TIME_START, "teamwork"): 40,
        ("all", ALL_TIME_START, "leadership"): 40,
        ("all", ALL_TIME_START, "communication"): 40,
    }


def test_periods_use_the_local_day() -> None:
    sunday_night_utc = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)  # Monday morning in Tokyo
    history = AgentHistory(UUID(int=1), received=(make_recognition(TRAINING, sunday_night_utc),))
    score = score_agent(history, DEFAULT, UTC)
    assert ("week", date(2024, 3, 4), "*") in period_totals(score, UTC)
    assert ("week", date(2024, 3, 11), "*") in period_totals(score, ZoneInfo("Asia/Tokyo"))


@given(agent_histories(), timezones())
def test_every_window_adds_up_to_the_total_xp(history: AgentHistory, tz: tzinfo) -> None:
    score = score_agent(history, DEFAULT, tz)
    totals = period_totals(score, tz)
    assert all(value > 0 for value in totals.values())
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for (window, start, column), value in totals.items():
        sums[(window, column)] += value
        assert start == window_start(window, start)
    for window in ("week", "month", "all"):
        assert sums[(window, "*")] == score.xp_total
        for competency in Competency:
            assert sums[(window, competency.value)] == score.xp_by_competency[competency]


@given(agent_histories(), timezones())
def test_every_period_starts_on_or_before_its_xp(history: AgentHistory, tz: tzinfo) -> None:
    score = score_agent(history, DEFAULT, tz)
    for (window, start, _), _value in period_totals(score, tz).items():
        assert start <= max(line.occurred_at.astimezone(tz).date() for line in score.lines)
        if window == "week":
            assert start.isoweekday() == 1
            assert any(
                start <= line.occurred_at.astimezone(tz).date() < start + timedelta(days=7)
                for line in score.lines
            )
