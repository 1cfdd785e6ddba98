"""Hypothesis strategies for the domain's facts and rulebooks, shared by every test layer.

* ``recognitions(agent_id=..., kinds=..., start=..., days=...)`` — one valid recognition.
* ``agent_histories(agent_id=..., ...)`` — an :class:`AgentHistory` with unique recording ids
  and unique sequences; times are packed into a few weeks (``days``) so that daily caps, streaks
  and comebacks actually happen.
* ``rulebook_data()`` / ``rulebooks()`` / ``rulebook_histories()`` — valid rulebooks.
* ``timezones()`` — a few real zones whose local day differs from UTC's.
* ``on_a_database(n)`` — the settings of a property test that writes to a real database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from domain.competencies import ALL_COMPETENCIES, Competency
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.rulebook import Rulebook, RulebookHistory, load_default_rulebook, parse_rulebook


def on_a_database(max_examples: int, **more: Any) -> settings:
    """A property test on a real database: ``max_examples`` of them, no deadline (a
    database's pace varies), and function-scoped fixtures allowed (each example cleans up)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **more,
    )


DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
QUARTER_HOUR = timedelta(minutes=15)


def timezones() -> st.SearchStrategy[tzinfo]:
    return st.sampled_from(
        [UTC, ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]
    )


def competency_sets(max_size: int = 3) -> st.SearchStrategy[tuple[Competency, ...]]:
    """One to ``max_size`` distinct competencies, in canonical order."""
    return st.sets(st.sampled_from(ALL_COMPETENCIES), min_size=1, max_size=max_size).map(
        lambda chosen: tuple(c for c in ALL_COMPETENCIES if c in chosen)
    )


def moments(start: datetime = DEFAULT_START, days: int = 28) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes on a quarter-hour grid (so equal ``occurred_at`` happen too)."""
    return st.integers(0, days * 24 * 4 - 1).map(lambda n: start + n * QUARTER_HOUR)


@st.composite
def recognitions(
    draw: st.DrawFn,
    agent_id: UUID | None = None,
    kinds: tuple[RecognitionKind, ...] = tuple(RecognitionKind),
    start: datetime = DEFAULT_START,
    days: int = 28,
    sequence: int | None = None,
    recording_id: UUID | None = None,
    from_agent: UUID | None = None,
) -> Recognition:
    """One valid recognition received by ``agent_id`` (random if not given)."""
    agent = agent_id if agent_id is not None else draw(st.uuids())
    kind = draw(st.sampled_from(kinds))
    rating = feedback_kind = score = giver = None
    if kind is RecognitionKind.FEEDBACK_GIVEN:
        rating = draw(st.integers(1, 5))
        feedback_kind = draw(st.sampled_from(FeedbackKind))
    elif kind is RecognitionKind.TRAINING_COMPLETED:
        score = draw(st.integers(0, 100))
    elif kind is RecognitionKind.KUDOS_GIVEN:
        giver = (
            from_agent if from_agent is not None else draw(st.uuids().filter(lambda u: u != agent))
        )
    return Recognition(
        recording_id=recording_id if recording_id is not None else draw(st.uuids()),
        agent_id=agent,
        kind=kind,
        competencies=draw(competency_sets()),
        occurred_at=draw(moments(start, days)),
        sequence=sequence if sequence is not None else draw(st.integers(0, 10**9)),
        rating=rating,
        feedback_kind=feedback_kind,
        score=score,
        from_agent=giver,
    )


_KINDS = tuple(RecognitionKind)
_FEEDBACK_KINDS = tuple(FeedbackKind)


def _raw_recognition(days: int) -> st.SearchStrategy[tuple[int, ...]]:
    """A recognition as plain integers (cheap to generate and to shrink):
    (kind index, competency bit mask, quarter-hour offset, rating, feedback kind, score)."""
    return st.tuples(
        st.integers(0, len(_KINDS) - 1),
        st.integers(1, 2 ** len(ALL_COMPETENCIES) - 1),
        st.integers(0, days * 24 * 4 - 1),
        st.integers(1, 5),
        st.integers(0, 1),
        st.integers(0, 100),
    )


def _build(
    raw: tuple[int, ...],
    *,
    agent_id: UUID,
    kinds: tuple[RecognitionKind, ...],
    start: datetime,
    recording_id: UUID,
    sequence: int,
    from_agent: UUID | None,
) -> Recognition:
    kind_index, mask, offset, rating, feedback_kind, score = raw
    kind = kinds[kind_index % len(kinds)]
    chosen = [c for bit, c in enumerate(ALL_COMPETENCIES) if mask >> bit & 1][:3]
    is_feedback = kind is RecognitionKind.FEEDBACK_GIVEN
    is_kudos = kind is RecognitionKind.KUDOS_GIVEN
    return Recognition(
        recording_id=recording_id,
        agent_id=agent_id,
        kind=kind,
        competencies=tuple(chosen),
        occurred_at=start + offset * QUARTER_HOUR,
        sequence=sequence,
        rating=rating if is_feedback else None,
        feedback_kind=_FEEDBACK_KINDS[feedback_kind] if is_feedback else None,
        score=score if kind is RecognitionKind.TRAINING_COMPLETED else None,
        from_agent=(from_agent or UUID(int=2**127 + sequence)) if is_kudos else None,
    )


@st.composite
def agent_histories(
    draw: st.DrawFn,
    agent_id: UUID | None = None,
    max_received: int = 30,
    max_given: int = 6,
    kinds: tuple[RecognitionKind, ...] = tuple(RecognitionKind),
    start: datetime = DEFAULT_START,
    days: int = 28,
    min_received: int = 0,
) -> AgentHistory:
    """A history with unique recording ids and unique sequences (event-log positions)."""
    agent = agent_id if agent_id is not None else draw(st.uuids())
    raw_received = draw(
        st.lists(_raw_recognition(days), min_size=min_received, max_size=max_received)
    )
    raw_given = draw(st.lists(_raw_recognition(days), max_size=max_given))
    total = len(raw_received) + len(raw_given)
    sequences = draw(st.permutations(range(1, total + 1))) if total else []
    id_base = draw(st.integers(1, 2**100))
    received = tuple(
        _build(
            raw,
            agent_id=agent,
            kinds=kinds,
            start=start,
            recording_id=UUID(int=(id_base << 16) + i),
            sequence=sequences[i],
            from_agent=None,
        )
        for i, raw in enumerate(raw_received)
    )
    given = tuple(
        _build(
            raw,
            agent_id=UUID(int=2**126 + i),
            kinds=(RecognitionKind.KUDOS_GIVEN,),
            start=start,
            recording_id=UUID(int=(id_base << 16) + len(raw_received) + i),
            sequence=sequences[len(raw_received) + i],
            from_agent=agent,
        )
        for i, raw in enumerate(raw_given)
    )
    return AgentHistory(agent_id=agent, received=received, kudos_given=given)


# ------------------------------------------------------------------------------ rulebooks


def _thresholds(low: int, high: int) -> st.SearchStrategy[dict[str, int]]:
    return st.lists(st.integers(low, high), min_size=3, max_size=3, unique=True).map(
        lambda xs: dict(zip(("bronze", "silver", "gold"), sorted(xs), strict=True))
    )


@st.composite
def _metric_data(draw: st.DrawFn) -> dict[str, Any]:
    metric_type = draw(st.sampled_from(["count", "comeback", "kudos", "competency_xp"]))
    if metric_type == "count":
        data: dict[str, Any] = {"type": "count"}
        kinds = draw(st.sets(st.sampled_from(RecognitionKind), max_size=2))
        if kinds:
            data["kinds"] = sorted(k.value for k in kinds)
        competencies = draw(st.sets(st.sampled_from(ALL_COMPETENCIES), max_size=2))
        if competencies:
            data["competencies"] = sorted(c.value for c in competencies)
        if draw(st.booleans()):
            data["feedback_kind"] = draw(st.sampled_from(FeedbackKind)).value
        if draw(st.booleans()):
            data["min_rating"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            data["min_score"] = draw(st.integers(0, 100))
        return data
    if metric_type == "comeback":
        max_rating = draw(st.integers(1, 4))
        return {
            "type": "comeback",
            "within_days": draw(st.integers(1, 30)),
            "max_rating": max_rating,
            "min_rating": draw(st.integers(max_rating + 1, 5)),
        }
    if metric_type == "kudos":
        return {"type": "kudos"}
    return {"type": "competency_xp", "competency": draw(st.sampled_from(ALL_COMPETENCIES)).value}


@st.composite
def _badge_data(draw: st.DrawFn, key: str) -> dict[str, Any]:
    metric = draw(_metric_data())
    high = 5000 if metric["type"] == "competency_xp" else 40
    return {
        "key": key,
        "name": key.replace("_", " ").capitalize(),
        "description": f"The {key} badge.",
        "family": "mastery" if metric["type"] == "competency_xp" else "life_skill",
        "metric": metric,
        "thresholds": draw(_thresholds(1, high)),
    }


@st.composite
def rulebook_data(draw: st.DrawFn, version: int | None = None) -> dict[str, Any]:
    """Valid rulebook data, as it would be stored in a ``RulebookPublished`` event."""
    capped = draw(st.sets(st.sampled_from(RecognitionKind)))
    n_badges = draw(st.integers(0, 4))
    return {
        "version": version if version is not None else draw(st.integers(1, 50)),
        "name": draw(st.sampled_from(["Default", "Spring rules", "Pilot — team B"])),
        "xp": {k.value: draw(st.integers(0, 100)) for k in RecognitionKind},
        "feedback_rating_multiplier_percent": {
            str(r): draw(st.integers(0, 300)) for r in range(1, 6)
        },
        "daily_caps": {k.value: draw(st.integers(1, 6)) for k in RecognitionKind if k in capped},
        "kudos": {"cap_per_giver_per_day": draw(st.integers(1, 10))},
        "levels": {
            "curve": draw(st.sampled_from(["triangular", "linear"])),
            "step": draw(st.integers(1, 500)),
            "max_level": draw(st.integers(1, 60)),
        },
        "streaks": {"working_days": sorted(draw(st.sets(st.integers(1, 7), min_size=1)))},
        "badges": [draw(_badge_data(f"badge_{i}")) for i in range(n_badges)],
    }


def rulebooks(version: int | None = None) -> st.SearchStrategy[Rulebook]:
    return rulebook_data(version).map(parse_rulebook)


@st.composite
def rulebook_histories(draw: st.DrawFn, max_publications: int = 3) -> RulebookHistory:
    """The default rulebook since the epoch, then up to ``max_publications - 1`` random ones
    taking effect inside the default strategies' time span (so changes happen mid-history)."""
    history = RulebookHistory.of(load_default_rulebook())
    extra = draw(st.integers(0, max_publications - 1))
    for version in range(2, extra + 2):
        effective_from = draw(moments(DEFAULT_START, 28))
        history = history.with_publication(effective_from, draw(rulebooks(version)))
    return history


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


_counter = iter(range(1, 10**9))
DEFAULT_AGENT = UUID(int=1)


def make_recognition(
    kind: RecognitionKind,
    occurred_at: datetime,
    *,
    agent_id: UUID = DEFAULT_AGENT,
    competencies: tuple[Competency, ...] = (Competency.COMMUNICATION,),
    rating: int | None = None,
    feedback_kind: FeedbackKind | None = None,
    score: int | None = None,
    from_agent: UUID | None = None,
    sequence: int | None = None,
    recording_id: UUID | None = None,
) -> Recognition:
    """A recognition for example-based tests; ids and sequences are fresh unless given."""
    n = next(_counter)
    if kind is RecognitionKind.FEEDBACK_GIVEN and rating is None:
        rating = 3
    if kind is RecognitionKind.FEEDBACK_GIVEN and feedback_kind is None:
        feedback_kind = FeedbackKind.PRAISE
    if kind is RecognitionKind.KUDOS_GIVEN and from_agent is None:
        from_agent = UUID(int=999_999)
    return Recognition(
        recording_id=recording_id if recording_id is not None else UUID(int=10**12 + n),
        agent_id=agent_id,
        kind=kind,
        competencies=competencies,
        occurred_at=occurred_at,
        sequence=sequence if sequence is not None else n,
        rating=rating,
        feedback_kind=feedback_kind,
        score=score,
        from_agent=from_agent,
    )
