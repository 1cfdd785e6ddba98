from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given

from domain.badges import BadgeStatus, OrderedReceived, evaluate_badge, tier_rank
from domain.competencies import Competency
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.rulebook import (
    CompetencyXpMetric,
    CountMetric,
    RulebookHistory,
    load_default_rulebook,
    parse_rulebook,
    rulebook_to_data,
)
from domain.scoring import AgentScore, score_agent
from tests.strategies import agent_histories, make_recognition, rulebook_histories

AGENT = UUID(int=1)
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
DEFAULT = RulebookHistory.default()
FEEDBACK = RecognitionKind.FEEDBACK_GIVEN
KUDOS = RecognitionKind.KUDOS_GIVEN
TOUGH_CALL = RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE
TRAINING = RecognitionKind.TRAINING_COMPLETED
PRAISE, COACHING = FeedbackKind.PRAISE, FeedbackKind.COACHING


def score(
    received: list[Recognition],
    given: list[Recognition] | None = None,
    rules: RulebookHistory = DEFAULT,
) -> AgentScore:
    return score_agent(AgentHistory(AGENT, tuple(received), tuple(given or ())), rules, UTC)


def badge(key: str, received: list[Recognition], **kwargs: Any) -> BadgeStatus:
    return score(received, **kwargs).badge(key)


def day(n: int, minutes: int = 0) -> datetime:
    return T0 + timedelta(days=n, minutes=minutes)


def feedback(at: datetime, rating: int, kind: FeedbackKind = PRAISE, **kw: Any) -> Recognition:
    return make_recognition(FEEDBACK, at, rating=rating, feedback_kind=kind, **kw)


def test_a_badge_without_progress_shows_bronze_as_the_next_tier() -> None:
    status = badge("empathy_first", [])
    assert status.tier is None
    assert status.progress == 0
    assert (status.next_tier, status.next_threshold) == ("bronze", 3)
    assert status.earned == ()
    assert status.family == "life_skill"
    assert status.name == "Empathy first"


def test_a_tier_is_earned_by_the_recognition_that_reaches_its_threshold() -> None:
    calls = [make_recognition(TOUGH_CALL, day(n)) for n in range(4)]
    status = badge("empathy_first", calls)
    assert status.tier == "bronze"
    assert status.progress == 4
    assert (status.next_tier, status.next_threshold) == ("silver", 12)
    (award,) = status.earned
    assert award.earned_at == calls[2].occurred_at
    assert award.evidence == tuple(c.recording_id for c in calls[:3])


def test_recognitions_beyond_the_daily_cap_still_count_for_badges() -> None:
    calls = [make_recognition(TOUGH_CALL, day(0, n)) for n in range(12)]
    result = score(calls)
    assert result.xp_total == 5 * 30
    status = result.badge("empathy_first")
    assert status.tier == "silver"
    assert [a.tier for a in status.earned] == ["bronze", "silver"]


def test_count_filters_must_all_match() -> None:
    heard = [
        feedback(day(0), 4),  # counts
        feedback(day(1), 5),  # counts
        feedback(day(2), 5, COACHING),  # coaching: no
        feedback(day(3), 3),  # rating too low: no
        feedback(day(4), 5, competencies=(Competency.TEAMWORK,)),  # other competency: no
        make_recognition(TOUGH_CALL, day(5)),  # other kind: no
    ]
    status = badge("listen_to_understand", heard)
    assert status.progress == 2
    assert status.earned == ()


def test_choose_to_excel_counts_training_scored_ninety_or_more() -> None:
    courses = [make_recognition(TRAINING, day(n), score=s) for n, s in enumerate([89, 90, 100])]
    status = badge("choose_to_excel", courses)
    assert status.progress == 2
    assert status.tier == "bronze"
    assert status.earned[0].evidence == (courses[1].recording_id, courses[2].recording_id)


def test_praise_within_two_weeks_of_coaching_is_a_comeback() -> None:
    coaching = feedback(day(0), 3, COACHING)
    praise = feedback(day(10), 4)
    status = badge("failure_is_a_teacher", [praise, coaching])
    assert status.progress == 1
    assert status.tier == "bronze"
    assert status.earned[0].earned_at == praise.occurred_at
    assert set(status.earned[0].evidence) == {coaching.recording_id, praise.recording_id}


def test_praise_after_more_than_two_weeks_is_not_a_comeback() -> None:
    late = [feedback(day(0), 2, COACHING), feedback(day(15), 5)]
    assert badge("failure_is_a_teacher", late).progress == 0


def test_a_low_rating_counts_as_coaching_even_when_called_praise() -> None:
    assert badge("failure_is_a_teacher", [feedback(day(0), 1), feedback(day(1), 4)]).progress == 1


def test_one_praise_closes_only_one_comeback() -> None:
    history = [
        feedback(day(0), 2, COACHING),
        feedback(day(1), 2, COACHING),
        feedback(day(2), 5),
    ]
    assert badge("failure_is_a_teacher", history).progress == 1
    assert badge("failure_is_a_teacher", [*history, feedback(day(3), 4)]).progress == 2


def test_praise_before_the_coaching_does_not_count() -> None:
    assert badge("failure_is_a_teacher", [feedback(day(0), 5), feedback(day(1), 1)]).progress == 0


def test_gratitude_counts_kudos_given_and_received() -> None:
    received = [make_recognition(KUDOS, day(n)) for n in range(3)]
    given = [
        make_recognition(KUDOS, day(n, 30), agent_id=UUID(int=7), from_agent=AGENT)
        for n in range(2)
    ]
    status = badge("gratitude", received, given=given)
    assert status.progress == 5
    assert status.tier == "bronze"
    assert status.earned[0].earned_at == received[2].occurred_at  # the fifth, in order


def test_mastery_follows_the_xp_earned_in_the_competency() -> None:
    courses = [
        make_recognition(TRAINING, day(n), competencies=(Competency.LEADERSHIP,), score=50)
        for n in range(9)
    ]
    status = badge("mastery_leadership", courses)
    assert status.progress == 360
    assert status.family == "mastery"
    assert status.tier == "bronze"
    (award,) = status.earned
    assert award.earned_at == courses[7].occurred_at  # 8 x 40 = 320 >= 300
    assert award.evidence == tuple(c.recording_id for c in courses[:8])
    assert badge("mastery_teamwork", courses).progress == 0


def test_capped_recognitions_bring_no_mastery_xp() -> None:
    kudos = [
        make_recognition(KUDOS, day(0, n), competencies=(Competency.TEAMWORK,)) for n in range(5)
    ]
    status = badge("mastery_teamwork", kudos)
    assert status.progress == 30


def test_one_recognition_can_earn_several_tiers_at_once() -> None:
    data = rulebook_to_data(load_default_rulebook())
    data["version"] = 2
    for definition in data["badges"]:
        if definition["key"] == "mastery_communication":
            definition["thresholds"] = {"bronze": 10, "silver": 20, "gold": 30}
    rules = DEFAULT.with_publication(T0 - timedelta(days=1), parse_rulebook(data))
    course = make_recognition(TRAINING, day(0), score=10)
    status = badge("mastery_communication", [course], rules=rules)
    assert [a.tier for a in status.earned] == ["bronze", "silver", "gold"]
    assert [a.evidence for a in status.earned] == [(course.recording_id,)] * 3
    assert status.tier == "gold"
    assert status.next_tier is None
    assert status.next_threshold is None


def test_tiers_rank_in_order() -> None:
    assert [tier_rank(t) for t in (None, "bronze", "silver", "gold")] == [0, 1, 2, 3]


# ---------------------------------------------------------------------------- properties


@given(agent_histories(), rulebook_histories())
def test_earned_tiers_agree_with_progress_and_thresholds(
    history: AgentHistory, rules: RulebookHistory
) -> None:
    result = score_agent(history, rules, UTC)
    known = {r.recording_id for r in (*history.received, *history.kudos_given)}
    definitions = {d.key: d for d in rules.latest.badges}
    assert [s.key for s in result.badges] == list(definitions)
    for status in result.badges:
        thresholds = dict(definitions[status.key].thresholds.items())
        earned = [a.tier for a in status.earned]
        assert earned == [t for t, v in thresholds.items() if status.progress >= v]
        assert status.tier == (earned[-1] if earned else None)
        moments = [a.earned_at for a in status.earned]
        assert moments == sorted(moments)
        for award in status.earned:
            assert set(award.evidence) <= known
            if isinstance(definitions[status.key].metric, CountMetric):
                assert len(award.evidence) == thresholds[award.tier]
        if status.next_tier is not None:
            assert status.next_threshold == thresholds[status.next_tier] > status.progress


@given(agent_histories(), rulebook_histories())
def test_one_sort_of_the_history_shared_by_every_badge_changes_no_status(
    history: AgentHistory, rules: RulebookHistory
) -> None:
    lines = score_agent(history, rules, UTC).lines
    shared = OrderedReceived.of(history)
    for definition in rules.latest.badges:
        alone = evaluate_badge(definition, history, lines, UTC)
        assert evaluate_badge(definition, history, lines, UTC, shared) == alone


@given(agent_histories(), agent_histories(max_given=0))
def test_more_history_never_lowers_a_life_skill_badge(
    history: AgentHistory, more: AgentHistory
) -> None:
    extra = tuple(
        replace(
            r,
            agent_id=history.agent_id,
            recording_id=UUID(int=r.recording_id.int ^ 1 << 127),
            sequence=r.sequence + 10_000,
        )
        for r in more.received
    )
    bigger = AgentHistory(history.agent_id, history.received + extra, history.kudos_given)
    rulebook = load_default_rulebook()
    before = score_agent(history, DEFAULT, UTC)
    after = score_agent(bigger, DEFAULT, UTC)
    for definition in rulebook.badges:
        if isinstance(definition.metric, CompetencyXpMetric):
            continue  # a new recognition may push a later one past a daily cap
        old = evaluate_badge(definition, history, before.lines)
        new = evaluate_badge(definition, bigger, after.lines)
        assert new.progress >= old.progress
        assert tier_rank(new.tier) >= tier_rank(old.tier)


def test_the_comeback_window_counts_calendar_days_in_the_organisations_time_zone() -> None:
    london = ZoneInfo("Europe/London")
    # 14 local days apart across the end of summer time (25 hours more than 13 days in UTC).
    coaching = make_recognition(
        RecognitionKind.FEEDBACK_GIVEN,
        datetime(2024, 10, 15, 10, tzinfo=london),
        agent_id=UUID(int=7),
        rating=2,
        feedback_kind=FeedbackKind.COACHING,
    )
    praise = make_recognition(
        RecognitionKind.FEEDBACK_GIVEN,
        datetime(2024, 10, 29, 11, tzinfo=london),
        agent_id=UUID(int=7),
        rating=5,
        feedback_kind=FeedbackKind.PRAISE,
    )
    history = AgentHistory(UUID(int=7), received=(coaching, praise))
    definition = load_default_rulebook().badge("failure_is_a_teacher")
    assert evaluate_badge(definition, history, (), london).progress == 1
