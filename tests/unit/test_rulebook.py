from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.competencies import ALL_COMPETENCIES
from domain.exceptions import InvalidRulebook
from domain.facts import RecognitionKind
from domain.rulebook import (
    CompetencyXpMetric,
    Rulebook,
    RulebookHistory,
    load_default_rulebook,
    parse_rulebook,
    parse_rulebook_toml,
    rulebook_to_data,
)
from tests.strategies import rulebook_data, rulebooks

LIFE_SKILLS = {
    "Empathy first",
    "Efficiency is a form of respect",
    "Managing expectations",
    "Listen to understand",
    "Failure is a teacher",
    "Gratitude",
    "Choose to excel",
}


def default_data() -> dict[str, Any]:
    return rulebook_to_data(load_default_rulebook())


def test_the_default_rulebook_is_version_one_with_the_documented_figures() -> None:
    rulebook = load_default_rulebook()
    assert rulebook.version == 1
    assert rulebook.xp_for(RecognitionKind.FEEDBACK_GIVEN) == 20
    assert rulebook.xp_for(RecognitionKind.TRAINING_COMPLETED) == 40
    assert rulebook.xp_for(RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE) == 30
    assert rulebook.xp_for(RecognitionKind.INITIATIVE_TAKEN) == 25
    assert rulebook.xp_for(RecognitionKind.KUDOS_GIVEN) == 10
    assert [rulebook.multiplier_percent(r) for r in range(1, 6)] == [50, 75, 100, 125, 150]
    assert rulebook.daily_cap(RecognitionKind.KUDOS_GIVEN) == 3
    assert rulebook.kudos_cap_per_giver_per_day == 3
    assert rulebook.level_curve.step == 100
    assert rulebook.streak_working_days == (1, 2, 3, 4, 5)


def test_the_default_rulebook_has_every_life_skill_and_a_mastery_badge_per_competency() -> None:
    badges = load_default_rulebook().badges
    assert {b.name for b in badges if b.family == "life_skill"} == LIFE_SKILLS
    mastered = [b.metric.competency for b in badges if isinstance(b.metric, CompetencyXpMetric)]
    assert sorted(mastered) == sorted(ALL_COMPETENCIES)
    assert all(b.family == "mastery" for b in badges if isinstance(b.metric, CompetencyXpMetric))


def test_the_default_rulebook_round_trips_through_json() -> None:
    rulebook = load_default_rulebook()
    data = json.loads(json.dumps(rulebook_to_data(rulebook)))
    assert parse_rulebook(data) == rulebook


def test_rulebooks_are_hashable_values() -> None:
    assert hash(load_default_rulebook()) == hash(parse_rulebook(default_data()))


@given(rulebooks())
def test_any_rulebook_round_trips_through_its_data(rulebook: Rulebook) -> None:
    assert parse_rulebook(rulebook_to_data(rulebook)) == rulebook


@given(rulebook_data())
def test_rulebook_data_is_plain_json(data: dict[str, Any]) -> None:
    rendered = rulebook_to_data(parse_rulebook(data))
    assert json.loads(json.dumps(rendered)) == rendered


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _delete(data: dict[str, Any], path: list[Any]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return changed


INVALID_CHANGES = [
    (["version"], 0, "version"),
    (["version"], "1", "version"),
    (["version"], True, "version"),
    (["name"], "  ", "name"),
    (["xp", "FeedbackGiven"], -5, "xp.FeedbackGiven"),
    (["xp", "Compliment"], 5, "xp.Compliment"),
    (["xp"], [1, 2], "xp"),
    (["feedback_rating_multiplier_percent", "3"], 1.5, "feedback_rating_multiplier_percent.3"),
    (["feedback_rating_multiplier_percent", "6"], 100, "feedback_rating_multiplier_percent.6"),
    (["daily_caps", "KudosGiven"], 0, "daily_caps.KudosGiven"),
    (["kudos", "cap_per_giver_per_day"], 0, "kudos.cap_per_giver_per_day"),
    (["levels", "curve"], "exponential", "levels.curve"),
    (["levels", "step"], 0, "levels.step"),
    (["levels", "max_level"], 0, "levels.max_level"),
    (["streaks", "working_days"], [], "streaks.working_days"),
    (["streaks", "working_days"], [1, 8], "streaks.working_days[1]"),
    (["streaks", "working_days"], [1, 1], "streaks.working_days"),
    (["badges", 0, "family"], "hobby", "badges[0].family"),
    (["badges", 0, "key"], "Empathy First", "badges[0].key"),
    (["badges", 0, "thresholds", "silver"], 3, "badges[0].thresholds.silver"),
    (["badges", 0, "thresholds", "gold"], 2, "badges[0].thresholds.gold"),
    (["badges", 0, "metric", "type"], "vibes", "badges[0].metric.type"),
    (["badges", 0, "metric", "kinds"], ["Hug"], "badges[0].metric.kinds[0]"),
    (["badges", 1, "metric", "competencies"], ["charm"], "badges[1].metric.competencies[0]"),
    (["badges", 3, "metric", "min_rating"], 6, "badges[3].metric.min_rating"),
    (["badges", 3, "metric", "feedback_kind"], "scolding", "badges[3].metric.feedback_kind"),
    (["badges", 4, "metric", "min_rating"], 2, "badges[4].metric.min_rating"),
    (["badges", 6, "metric", "min_score"], 101, "badges[6].metric.min_score"),
    (["badges", 7, "metric", "competency"], "juggling", "badges[7].metric.competency"),
    (["badges", 1, "key"], "empathy_first", "badges[1].key"),
    (["extra"], 1, "extra"),
]


@pytest.mark.parametrize(("path", "value", "field"), INVALID_CHANGES)
def test_an_invalid_rulebook_is_refused_naming_the_field(
    path: list[Any], value: Any, field: str
) -> None:
    with pytest.raises(InvalidRulebook) as raised:
        parse_rulebook(_set(default_data(), path, value))
    assert f"'{field}'" in str(raised.value)
    assert raised.value.field == field


@pytest.mark.parametrize(
    "path",
    [["version"], ["xp"], ["xp", "KudosGiven"], ["levels", "step"], ["badges", 2, "thresholds"]],
)
def test_a_rulebook_missing_a_field_is_refused_naming_it(path: list[Any]) -> None:
    with pytest.raises(InvalidRulebook, match="is missing") as raised:
        parse_rulebook(_delete(default_data(), path))
    assert raised.value.field is not None
    assert raised.value.field.endswith(str(path[-1]))


@given(
    rulebook_data(),
    st.sampled_from([k.value for k in RecognitionKind]),
    st.one_of(st.integers(max_value=-1), st.text(max_size=3), st.booleans(), st.none()),
)
def test_a_bad_xp_value_is_refused_naming_its_kind(
    data: dict[str, Any], kind: str, value: object
) -> None:
    data["xp"][kind] = value
    with pytest.raises(InvalidRulebook, match=f"'xp.{kind}'"):
        parse_rulebook(data)


@given(rulebook_data(), st.sampled_from(["version", "name", "xp", "levels", "streaks", "kudos"]))
def test_a_missing_top_level_field_is_named(data: dict[str, Any], key: str) -> None:
    del data[key]
    with pytest.raises(InvalidRulebook, match=f"'{key}'"):
        parse_rulebook(data)


def test_rulebook_toml_that_does_not_parse_is_an_invalid_rulebook() -> None:
    with pytest.raises(InvalidRulebook, match="not valid TOML"):
        parse_rulebook_toml("version = = 1")


def test_daily_caps_and_badges_are_optional() -> None:
    data = default_data()
    del data["daily_caps"]
    del data["badges"]
    rulebook = parse_rulebook(data)
    assert rulebook.daily_cap(RecognitionKind.KUDOS_GIVEN) is None
    assert rulebook.badges == ()


def test_a_feedback_without_rating_is_scaled_at_one_hundred_percent() -> None:
    assert load_default_rulebook().multiplier_percent(None) == 100


# ------------------------------------------------------------------------------ history

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _version(n: int) -> Rulebook:
    return parse_rulebook({**default_data(), "version": n})


def test_the_rulebook_in_force_is_the_latest_effective_at_that_moment() -> None:
    history = RulebookHistory.of(_version(1), T0).with_publication(
        T0 + timedelta(days=10), _version(2)
    )
    assert history.in_force_at(T0 + timedelta(days=9, hours=23)).version == 1
    assert history.in_force_at(T0 + timedelta(days=10)).version == 2
    assert history.in_force_at(T0 + timedelta(days=400)).version == 2


def test_before_the_first_publication_the_first_rulebook_applies() -> None:
    history = RulebookHistory.of(_version(1), T0).with_publication(
        T0 + timedelta(days=1), _version(2)
    )
    assert history.in_force_at(T0 - timedelta(days=100)).version == 1


def test_latest_is_the_highest_version_whatever_its_effective_date() -> None:
    history = RulebookHistory.of(_version(2), T0).with_publication(
        T0 + timedelta(days=1), _version(1)
    )
    assert history.latest.version == 2
    assert [p.rulebook.version for p in history] == [2, 1]


def test_publishing_returns_a_new_history_and_leaves_the_old_one_alone() -> None:
    history = RulebookHistory.of(_version(1), T0)
    newer = history.with_publication(T0 + timedelta(days=1), _version(2))
    assert len(history) == 1
    assert len(newer) == 2


def test_a_version_cannot_be_published_twice() -> None:
    with pytest.raises(InvalidRulebook, match="already published"):
        RulebookHistory.of(_version(1), T0).with_publication(T0 + timedelta(days=1), _version(1))


def test_naive_moments_are_refused() -> None:
    history = RulebookHistory.of(_version(1), T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        history.in_force_at(datetime(2024, 3, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        history.with_publication(datetime(2024, 3, 2), _version(2))


@given(
    st.lists(st.integers(0, 100), min_size=1, max_size=5),
    st.integers(-10, 110),
)
def test_in_force_at_agrees_with_a_plain_search(offsets: list[int], probe: int) -> None:
    history = RulebookHistory.of(_version(1), T0 + timedelta(days=offsets[0]))
    for version, offset in enumerate(offsets[1:], start=2):
        history = history.with_publication(T0 + timedelta(days=offset), _version(version))
    moment = T0 + timedelta(days=probe)
    candidates = [
        (p.effective_from, p.rulebook.version) for p in history if p.effective_from <= moment
    ]
    expected = (
        max(candidates)[1]
        if candidates
        else min((p.effective_from, p.rulebook.version) for p in history)[1]
    )
    assert history.in_force_at(moment).version == expected
