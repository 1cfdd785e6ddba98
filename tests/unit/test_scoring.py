from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.rulebook import RulebookHistory, load_default_rulebook, parse_rulebook, rulebook_to_data
from domain.scoring import AgentScore, local_day, score_agent
from tests.strategies import agent_histories, make_recognition, rulebook_histories, timezones

AGENT = UUID(int=1)
MONDAY = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
DEFAULT = RulebookHistory.default()
FEEDBACK = RecognitionKind.FEEDBACK_GIVEN
KUDOS = RecognitionKind.KUDOS_GIVEN
TRAINING = RecognitionKind.TRAINING_COMPLETED


def score(
    *received: Recognition, given: tuple[Recognition, ...] = (), tz: tzinfo = UTC
) -> AgentScore:
    history = AgentHistory(AGENT, received=received, kudos_given=given)
    return score_agent(history, DEFAULT, tz)


def test_an_agent_without_recognitions_has_no_xp_and_is_level_one() -> None:
    result = score()
    assert result.xp_total == 0
    assert dict(result.xp_by_competency) == dict.fromkeys(ALL_COMPETENCIES, 0)
    assert result.level.level == 1
    assert result.lines == ()
    assert len(result.badges) == len(load_default_rulebook().badges)


def test_each_kind_earns_its_base_xp() -> None:
    result = score(
        make_recognition(TRAINING, MONDAY, score=70),
        make_recognition(RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE, MONDAY),
        make_recognition(RecognitionKind.INITIATIVE_TAKEN, MONDAY),
        make_recognition(KUDOS, MONDAY),
    )
    assert [line.points for line in result.lines] == [40, 30, 25, 10]
    assert result.xp_total == 105


def test_feedback_xp_is_scaled_by_rating_multiplier() -> None:
    points = [
        score(make_recognition(FEEDBACK, MONDAY, rating=rating)).xp_total for rating in range(1, 6)
    ]
    assert points == [10, 15, 20, 25, 30]


def test_the_rule_of_a_line_says_how_the_points_were_reached() -> None:
    line = score(make_recognition(FEEDBACK, MONDAY, rating=5)).lines[0]
    assert line.rule == "Feedback given: 20 XP × rating 5 (150%) = 30 XP"
    assert line.rulebook_version == 1
    assert not line.capped


def test_every_credited_competency_gets_the_full_points_but_the_total_counts_them_once() -> None:
    both = (Competency.TEAMWORK, Competency.LEADERSHIP)
    result = score(make_recognition(TRAINING, MONDAY, competencies=both, score=80))
    assert result.xp_total == 40
    assert result.xp_by_competency[Competency.TEAMWORK] == 40
    assert result.xp_by_competency[Competency.LEADERSHIP] == 40
    assert result.xp_by_competency[Competency.COMMUNICATION] == 0


def test_kudos_beyond_the_daily_cap_earn_nothing_and_say_why() -> None:
    kudos = [make_recognition(KUDOS, MONDAY + timedelta(minutes=n)) for n in range(5)]
    result = score(*reversed(kudos))
    assert [line.points for line in result.lines] == [10, 10, 10, 0, 0]
    assert [line.recording_id for line in result.lines] == [k.recording_id for k in kudos]
    capped = result.lines[3]
    assert capped.capped
    assert capped.rule.startswith("Daily cap: only the best 3 of “Kudos given” a day earn XP")


def test_recognitions_at_the_same_moment_are_capped_in_sequence_order() -> None:
    kudos = [make_recognition(KUDOS, MONDAY, sequence=s) for s in (40, 10, 30, 20)]
    result = score(*kudos)
    capped = [line.recording_id for line in result.lines if line.capped]
    assert capped == [kudos[0].recording_id]


def test_the_daily_cap_is_per_kind() -> None:
    kudos = [make_recognition(KUDOS, MONDAY) for _ in range(3)]
    feedback = [make_recognition(FEEDBACK, MONDAY, rating=3) for _ in range(3)]
    assert score(*kudos, *feedback).xp_total == 3 * 10 + 3 * 20


def test_the_daily_cap_resets_on_the_next_local_day() -> None:
    late = datetime(2024, 3, 4, 22, 30, tzinfo=UTC)
    kudos = [make_recognition(KUDOS, late + timedelta(minutes=10 * n)) for n in range(4)]
    assert score(*kudos, tz=UTC).xp_total == 30
    # In Tokyo those four are all on Tuesday morning: still capped at three.
    assert score(*kudos, tz=ZoneInfo("Asia/Tokyo")).xp_total == 30
    # 22:30..23:00 UTC straddles midnight in Paris (UTC+1): two days, none capped.
    assert score(*kudos, tz=ZoneInfo("Europe/Paris")).xp_total == 40


def test_kudos_given_earn_the_giver_nothing() -> None:
    given_away = make_recognition(KUDOS, MONDAY, agent_id=UUID(int=2), from_agent=AGENT)
    result = score(given=(given_away,))
    assert result.xp_total == 0
    assert result.lines == ()
    assert result.badge("gratitude").progress == 1


def test_xp_comes_from_the_rulebook_in_force_when_the_recognition_occurred() -> None:
    doubled = parse_rulebook(
        {
            **rulebook_to_data(load_default_rulebook()),
            "version": 2,
            "xp": {k.value: 2 * v for k, v in load_default_rulebook().xp.items()},
            "levels": {"curve": "linear", "step": 10, "max_level": 100},
        }
    )
    rules = DEFAULT.with_publication(MONDAY + timedelta(days=1), doubled)
    before = make_recognition(TRAINING, MONDAY, score=60)
    after = make_recognition(TRAINING, MONDAY + timedelta(days=2), score=60)
    result = score_agent(AgentHistory(AGENT, received=(before, after)), rules, UTC)
    assert [(line.points, line.rulebook_version) for line in result.lines] == [(40, 1), (80, 2)]
    # The newest rulebook's level curve applies to everyone.
    assert result.level.level == 13


def test_the_streak_counts_local_working_days_with_a_recognition() -> None:
    days = [MONDAY + timedelta(days=n) for n in (0, 1, 2, 5, 7)]  # Mon Tue Wed Sat Mon
    result = score(*(make_recognition(KUDOS, d) for d in days))
    assert result.streak.best == 3
    assert result.streak.run == 1
    assert result.streak.last_active_day == date(2024, 3, 11)


# ---------------------------------------------------------------------------- properties


def daily_xp(result: AgentScore, tz: tzinfo) -> Counter[date]:
    totals: Counter[date] = Counter()
    for line in result.lines:
        totals[local_day(line.occurred_at, tz)] += line.points
    return totals


@given(agent_histories(), rulebook_histories(), timezones())
def test_the_lines_explain_every_point(
    history: AgentHistory, rules: RulebookHistory, tz: tzinfo
) -> None:
    result = score_agent(history, rules, tz)
    assert sum(line.points for line in result.lines) == result.xp_total
    assert set(result.xp_by_competency) == set(ALL_COMPETENCIES)
    for competency in ALL_COMPETENCIES:
        credited = sum(line.points for line in result.lines if competency in line.competencies)
        assert credited == result.xp_by_competency[competency]
    assert len(result.lines) == len(history.received)
    assert all(line.points == 0 for line in result.lines if line.capped)


@given(agent_histories(), rulebook_histories(), timezones(), st.randoms(use_true_random=False))
def test_the_order_of_the_history_does_not_matter(
    history: AgentHistory, rules: RulebookHistory, tz: tzinfo, rng: object
) -> None:
    received = list(history.received)
    given_away = list(history.kudos_given)
    rng.shuffle(received)  # type: ignore[attr-defined]
    rng.shuffle(given_away)  # type: ignore[attr-defined]
    shuffled = AgentHistory(history.agent_id, tuple(received), tuple(given_away))
    assert score_agent(shuffled, rules, tz) == score_agent(history, rules, tz)


@given(agent_histories(max_received=25).filter(lambda h: h.received), timezones(), st.data())
def test_retracting_a_recognition_never_changes_the_xp_of_another_day(
    history: AgentHistory, tz: tzinfo, data: st.DataObject
) -> None:
    gone = data.draw(st.sampled_from(history.received))
    remaining = tuple(r for r in history.received if r != gone)
    before = daily_xp(score_agent(history, DEFAULT, tz), tz)
    after = daily_xp(score_agent(AgentHistory(history.agent_id, remaining), DEFAULT, tz), tz)
    gone_day = local_day(gone.occurred_at, tz)
    for day in set(before) | set(after):
        if day != gone_day:
            assert after[day] == before[day]
    assert score_agent(AgentHistory(history.agent_id, remaining), DEFAULT, tz).xp_total <= sum(
        before.values()
    )


@given(agent_histories(min_received=10, max_received=40, days=4), rulebook_histories(), timezones())
def test_caps_bound_what_a_day_can_earn(
    history: AgentHistory, rules: RulebookHistory, tz: tzinfo
) -> None:
    result = score_agent(history, rules, tz)
    earning: dict[tuple[date, RecognitionKind], int] = defaultdict(int)
    for line in result.lines:
        if not line.capped:
            earning[(local_day(line.occurred_at, tz), line.kind)] += 1
    for (day, kind), count in earning.items():
        caps = [rb.daily_cap(kind) for rb in (p.rulebook for p in rules)]
        if all(cap is not None for cap in caps):
            assert count <= max(cap for cap in caps if cap is not None), (day, kind)


@given(agent_histories(min_received=10, max_received=40, days=4), timezones())
def test_with_the_default_rules_no_day_earns_more_than_the_caps_allow(
    history: AgentHistory, tz: tzinfo
) -> None:
    rulebook = load_default_rulebook()
    most_per_day = sum(
        (rulebook.daily_cap(k) or 0) * rulebook.xp_for(k) * (150 if k is FEEDBACK else 100) // 100
        for k in RecognitionKind
    )
    for total in daily_xp(score_agent(history, DEFAULT, tz), tz).values():
        assert total <= most_per_day


@given(agent_histories(max_received=15), timezones())
def test_a_higher_rating_never_earns_less(history: AgentHistory, tz: tzinfo) -> None:
    raised = tuple(
        r if r.rating is None else replace(r, rating=min(5, r.rating + 1)) for r in history.received
    )
    base = score_agent(history, DEFAULT, tz).xp_total
    assert score_agent(AgentHistory(history.agent_id, raised), DEFAULT, tz).xp_total >= base


def test_coaching_feedback_still_earns_xp() -> None:
    coaching = make_recognition(FEEDBACK, MONDAY, rating=2, feedback_kind=FeedbackKind.COACHING)
    assert score(coaching).xp_total == 15


@given(
    agent_histories(
        min_received=1, max_received=30, days=3, kinds=(RecognitionKind.FEEDBACK_GIVEN,)
    ),
    timezones(),
)
def test_recording_one_more_recognition_never_lowers_xp(history: AgentHistory, tz: tzinfo) -> None:
    *earlier, _latest = history.received
    before = score_agent(replace(history, received=tuple(earlier)), DEFAULT, tz)
    after = score_agent(history, DEFAULT, tz)
    assert after.xp_total >= before.xp_total


def test_a_backdated_better_recognition_takes_a_capped_place_from_a_weaker_one() -> None:
    five_stars = [
        make_recognition(FEEDBACK, MONDAY + timedelta(hours=h), rating=5, sequence=h)
        for h in range(1, 6)
    ]
    weak = make_recognition(FEEDBACK, MONDAY, rating=1, sequence=99)
    result = score(weak, *five_stars)
    assert result.xp_total == 5 * 30
    (weak_line,) = [line for line in result.lines if line.recording_id == weak.recording_id]
    assert weak_line.capped
    assert "only the best 5" in weak_line.rule
