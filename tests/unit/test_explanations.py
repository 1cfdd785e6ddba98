"""The pure explanation functions: figure names, streak runs, and lines that add up."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.competencies import Competency
from domain.exceptions import InvalidInput
from domain.explanations import Figure, explain, figure_choices, parse_figure
from domain.facts import AgentHistory
from domain.rulebook import RulebookHistory, load_default_rulebook
from domain.scoring import score_agent
from domain.streaks import StreakRun, streak_runs, streak_summary
from tests.strategies import agent_histories, rulebook_histories, timezones

AGENT = UUID(int=1)
MON = date(2024, 3, 4)
days = st.integers(0, 60).map(lambda n: MON + timedelta(days=n))
working_day_sets = st.sets(st.integers(1, 7), min_size=1).map(lambda s: tuple(sorted(s)))


def test_streak_runs_name_the_days_of_each_run_and_skip_the_weekend() -> None:
    fri, next_mon, next_wed = MON + timedelta(4), MON + timedelta(7), MON + timedelta(9)
    assert streak_runs([MON, MON + timedelta(1), fri, MON + timedelta(5), next_mon, next_wed]) == (
        StreakRun(MON, MON + timedelta(1), 2),
        StreakRun(fri, next_mon, 2),
        StreakRun(next_wed, next_wed, 1),
    )


@given(active=st.lists(days, max_size=30), working_days=working_day_sets)
def test_the_runs_give_the_same_best_and_last_run_as_the_streak_summary(
    active: list[date], working_days: tuple[int, ...]
) -> None:
    runs = streak_runs(active, working_days)
    summary = streak_summary(active, working_days)
    assert max((r.days for r in runs), default=0) == summary.best
    assert (runs[-1].days if runs else 0) == summary.run
    assert (runs[-1].last_day if runs else None) == summary.last_active_day


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        ("xp", Figure("xp")),
        ("streak", Figure("streak")),
        ("competency:customer_service", Figure("competency", "customer_service")),
        ("competency:Customer service", Figure("competency", "customer_service")),
        ("badge:empathy_first", Figure("badge", "empathy_first")),
    ],
)
def test_figure_names_are_read_leniently_and_written_canonically(text: str, figure: Figure) -> None:
    assert parse_figure(text, load_default_rulebook()) == figure


@pytest.mark.parametrize(
    "text", ["", "xp:5", "level", "competency:", "competency:charm", "badge:nope", "streak:best"]
)
def test_a_bad_figure_is_refused_naming_the_figure_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_figure(text, load_default_rulebook())
    assert refused.value.field == "figure"


def test_every_figure_offered_can_be_explained() -> None:
    rulebook = load_default_rulebook()
    for figure, _words in figure_choices(rulebook):
        assert str(parse_figure(figure, rulebook)) == figure


@given(
    history=agent_histories(agent_id=AGENT),
    rulebooks=rulebook_histories(),
    tz=timezones(),
    today=days,
)
def test_the_lines_of_every_figure_add_up_to_the_score(
    history: AgentHistory, rulebooks: RulebookHistory, tz: tzinfo, today: date
) -> None:
    score = score_agent(history, rulebooks, tz)
    xp = explain(Figure("xp"), history, rulebooks, tz, today)
    assert sum(line.points for line in xp.lines) == xp.value == score.xp_total
    for competency in Competency:
        mine = explain(Figure("competency", competency.value), history, rulebooks, tz, today)
        assert sum(line.points for line in mine.lines) == score.xp_by_competency[competency]
    for status in score.badges:
        badge = explain(Figure("badge", status.key), history, rulebooks, tz, today)
        assert sum(line.points for line in badge.lines) == badge.progress == status.progress
        assert badge.tier == status.tier
    streak = explain(Figure("streak"), history, rulebooks, tz, today)
    assert streak.best_streak == score.streak.best
