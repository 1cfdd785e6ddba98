"""Time travel's pure rules: when a position counts from, and what a recognition was worth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.facts import RecognitionKind
from domain.rulebook import Publication, load_default_rulebook, parse_rulebook
from domain.scoring import score_lines
from domain.timeline import Lifespan, RulebookTimeline, inclusion_moments, points_versions
from tests.strategies import make_recognition, rulebook_data, timezones

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_position_counts_from_the_earliest_timestamp_at_or_after_it() -> None:
    stamps = [T0, T0 + 3 * MINUTE, T0 + 2 * MINUTE, T0 + 5 * MINUTE]
    assert inclusion_moments(stamps, later=None) == [
        T0,
        T0 + 2 * MINUTE,  # a later position was stamped earlier: this one counts from then
        T0 + 2 * MINUTE,
        T0 + 5 * MINUTE,
    ]
    assert inclusion_moments(stamps, later=T0 + MINUTE)[-1] == T0 + MINUTE


@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.integers(0, 60))
def test_the_positions_included_as_of_a_moment_are_those_up_to_the_last_stamped_by_then(
    minutes: list[int], at_minute: int
) -> None:
    stamps = [T0 + m * MINUTE for m in minutes]
    at = T0 + at_minute * MINUTE
    moments = inclusion_moments(stamps, later=None)
    included = [i for i, moment in enumerate(moments) if moment <= at]
    last = max((i for i, stamp in enumerate(stamps) if stamp <= at), default=None)
    assert included == ([] if last is None else list(range(last + 1)))


def test_a_better_recognition_over_the_cap_takes_the_points_of_a_weaker_one_from_then_on() -> None:
    day = T0 + timedelta(hours=1)
    rulebook = load_default_rulebook()
    cap = rulebook.daily_cap(RecognitionKind.FEEDBACK_GIVEN)
    assert cap is not None
    weak = [
        make_recognition(RecognitionKind.FEEDBACK_GIVEN, day + i * MINUTE, rating=1)
        for i in range(cap)
    ]
    strong = make_recognition(RecognitionKind.FEEDBACK_GIVEN, day + 30 * MINUTE, rating=5)
    lifespans = [Lifespan(r, recorded=10 + i) for i, r in enumerate(weak)]
    lifespans.append(Lifespan(strong, recorded=50, retracted=60))
    timeline = RulebookTimeline(((1, Publication(T0 - timedelta(days=400), rulebook)),))
    versions = points_versions(lifespans, timeline, UTC)
    last_weak = weak[-1].recording_id
    spans = sorted(
        (v.valid_from, v.valid_until) for v in versions if v.recognition.recording_id == last_weak
    )
    assert spans == [(10 + cap - 1, 50), (60, None)]  # out of the cap while the strong one stood
    assert [(v.valid_from, v.valid_until) for v in versions if v.recognition is strong] == [
        (50, 60)
    ]


@given(
    ratings=st.lists(st.integers(1, 5), min_size=1, max_size=8),
    retract=st.lists(st.booleans(), min_size=8, max_size=8),
    rules=rulebook_data(version=2),
    published_at=st.integers(0, 30),
    at=st.integers(0, 40),
    tz=timezones(),
)
def test_the_versions_in_force_at_a_position_are_the_scores_of_what_stood_then(
    ratings: list[int],
    retract: list[bool],
    rules: dict[str, object],
    published_at: int,
    at: int,
    tz: object,
) -> None:
    recognitions = [
        make_recognition(RecognitionKind.FEEDBACK_GIVEN, T0 + (i % 3) * MINUTE, rating=rating)
        for i, rating in enumerate(ratings)
    ]
    lifespans = [
        Lifespan(r, recorded=2 * i + 1, retracted=2 * i + 12 if retract[i] else None)
        for i, r in enumerate(recognitions)
    ]
    timeline = RulebookTimeline(
        (
            (0, Publication(T0 - timedelta(days=1), load_default_rulebook())),
            (published_at, Publication(T0 + MINUTE, parse_rulebook(rules))),
        )
    )
    in_force = {
        v.recognition.recording_id: v.points
        for v in points_versions(lifespans, timeline, tz)  # type: ignore[arg-type]
        if v.valid_from <= at and (v.valid_until is None or at < v.valid_until)
    }
    standing = tuple(lifespan.recognition for lifespan in lifespans if lifespan.alive_at(at))
    expected = {
        line.recording_id: line.points
        for line in score_lines(standing, timeline.history_at(at), tz)  # type: ignore[arg-type]
        if line.points
    }
    assert in_force == expected
