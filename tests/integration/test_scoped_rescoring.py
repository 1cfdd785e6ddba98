"""Rescoring only what a batch touched gives the same rows as scoring everyone again."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, insert, select, update

from domain.facts import AgentHistory, Recognition, RecognitionKind
from domain.rulebook import (
    RulebookHistory,
    load_default_rulebook,
    parse_rulebook,
    rulebook_to_data,
)
from projections import scoped
from projections.boards import refresh_every_board
from projections.context import BatchChanges
from projections.schema import create_all
from projections.scoring import recompute_every_agent
from projections.tables import (
    DERIVED_TABLES,
    agent_badges,
    agent_profiles,
    agents,
    board_entries,
    period_xp,
    recognitions,
)
from tests.conftest import Database
from tests.integration.test_projections import PROPERTY as PROJECTION_PROPERTY
from tests.reference_model import fresh_database
from tests.strategies import agent_histories, rulebook_data, rulebook_histories, timezones

PROPERTY = settings(PROJECTION_PROPERTY, max_examples=60)


@st.composite
def reachable_rulebooks(draw: st.DrawFn) -> RulebookHistory:
    """One rulebook whose every badge tier a short history can reach: the default's badges
    (every kind of filter) or random ones, with small thresholds; and some kinds earn 0 XP."""
    data = copy.deepcopy(
        draw(st.just(rulebook_to_data(load_default_rulebook())) | rulebook_data(version=1))
    )
    for badge in data["badges"]:
        high = 300 if badge["metric"]["type"] == "competency_xp" else 8
        tiers = draw(st.lists(st.integers(1, high), min_size=3, max_size=3, unique=True))
        badge["thresholds"] = dict(zip(("bronze", "silver", "gold"), sorted(tiers), strict=True))
    for kind in draw(st.sets(st.sampled_from(RecognitionKind), max_size=2)):
        data["xp"][kind.value] = 0
    return RulebookHistory.of(parse_rulebook(data))


# Month ends of every length inside the histories' four weeks.
STARTS = [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 19, tzinfo=UTC),
          datetime(2024, 4, 15, tzinfo=UTC), datetime(2023, 12, 18, tzinfo=UTC)]  # fmt: skip


def _row(recognition: Recognition, tz: tzinfo) -> dict[str, Any]:
    """The fact row the projection's handler writes for ``recognition``."""
    return {
        "recording_id": recognition.recording_id,
        "notification_id": recognition.sequence,
        "agent_id": recognition.agent_id,
        "kind": recognition.kind.value,
        "competencies": ";".join(c.value for c in recognition.competencies),
        "occurred_at": recognition.occurred_at,
        "local_day": recognition.occurred_at.astimezone(tz).date(),
        "recorded_at": recognition.occurred_at,
        "recorded_by": "sup",
        "note": "",
        "rating": recognition.rating,
        "feedback_kind": recognition.feedback_kind.value if recognition.feedback_kind else None,
        "score": recognition.score,
        "from_agent": recognition.from_agent,
    }


def _derived(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    points = select(
        recognitions.c.recording_id,
        recognitions.c.points,
        recognitions.c.rulebook_version,
        recognitions.c.rule,
        recognitions.c.capped,
    )
    return {
        name: sorted((tuple(row) for row in connection.execute(query)), key=repr)
        for name, query in (
            ("points", points),
            ("profiles", select(agent_profiles)),
            ("badges", select(agent_badges)),
            ("period_xp", select(period_xp)),
            ("boards", select(board_entries)),
        )
    }


@contextmanager
def _spans_per_query(spans: int) -> Iterator[None]:
    """Split the period sums finely, so that a day two queries share is seen twice."""
    default, scoped.SPANS_PER_QUERY = scoped.SPANS_PER_QUERY, spans
    try:
        yield
    finally:
        scoped.SPANS_PER_QUERY = default


def _rescore(
    connection: Connection,
    dirty: set[Any],
    groups: set[Any],
    rulebooks: RulebookHistory,
    timezone: tzinfo,
    recorded: list[Recognition],
    retracted: list[Recognition],
    kept: scoped.LiveFacts | None = None,
) -> None:
    """A batch's rescore as the projector runs it: told what the batch recorded and
    retracted (with the live facts it keeps between batches, if any); it keeps the board
    entries itself."""
    changes = BatchChanges(
        recorded={r.recording_id for r in recorded},
        retracted={r.recording_id for r in retracted},
    )
    scoped.rescore_touched(connection, dirty, groups, rulebooks, timezone, changes, kept)


@PROPERTY
@given(
    history=st.sampled_from(STARTS).flatmap(
        lambda start: agent_histories(start=start, min_received=8, max_received=40, max_given=8)
    ),
    rulebooks=reachable_rulebooks() | rulebook_histories(),
    timezone=timezones(),
    later=st.lists(st.booleans(), min_size=48, max_size=48),
    retracted=st.lists(st.booleans(), min_size=48, max_size=48),
    spans_per_query=st.sampled_from([1, 2, scoped.SPANS_PER_QUERY]),
)
def test_rescoring_the_touched_groups_equals_scoring_every_agent_again(
    database: Database,
    history: AgentHistory,
    rulebooks: RulebookHistory,
    timezone: tzinfo,
    later: list[bool],
    retracted: list[bool],
    spans_per_query: int,
) -> None:
    everything = [*history.received, *history.kudos_given]
    first = [r for i, r in enumerate(everything) if not later[i % len(later)]]
    second = [r for i, r in enumerate(everything) if later[i % len(later)]]
    gone = [r for i, r in enumerate(first) if retracted[i % len(retracted)]]
    with _spans_per_query(spans_per_query), fresh_database(database.kind) as db:
        engine = db.read_engine()
        try:
            create_all(engine)
            with engine.begin() as connection:
                connection.execute(
                    insert(agents).values(
                        agent_id=history.agent_id,
                        handle="ann",
                        name="Ann",
                        team_id=history.agent_id,
                        enrolled_at=datetime(2023, 1, 1, tzinfo=UTC),
                    )
                )
                if first:
                    connection.execute(insert(recognitions), [_row(r, timezone) for r in first])
                recompute_every_agent(connection, rulebooks, timezone)
                refresh_every_board(connection)

                # A later batch: more recognitions, and retractions of earlier ones.
                if second:
                    connection.execute(insert(recognitions), [_row(r, timezone) for r in second])
                for recognition in gone:
                    connection.execute(
                        update(recognitions)
                        .where(recognitions.c.recording_id == recognition.recording_id)
                        .values(retracted=True)
                    )
                touched = [*second, *gone]
                groups = {
                    (r.agent_id, r.occurred_at.astimezone(timezone).date(), r.kind.value)
                    for r in touched
                }
                dirty = {r.agent_id for r in touched} | {
                    r.from_agent for r in touched if r.from_agent
                }
                _rescore(connection, dirty, groups, rulebooks, timezone, second, gone)
                rescored = _derived(connection)

                for table in DERIVED_TABLES:
                    connection.execute(delete(table))
                connection.execute(
                    update(recognitions).values(
                        points=0, rulebook_version=None, rule=None, capped=False
                    )
                )
                recompute_every_agent(connection, rulebooks, timezone)
                refresh_every_board(connection)
                assert rescored == _derived(connection)
        finally:
            engine.dispose()


@PROPERTY
@given(
    history=st.sampled_from(STARTS).flatmap(
        lambda start: agent_histories(start=start, min_received=8, max_received=40, max_given=8)
    ),
    rulebooks=reachable_rulebooks() | rulebook_histories(),
    timezone=timezones(),
    in_order=st.booleans(),
    batch_of=st.lists(st.integers(0, 3), min_size=48, max_size=48),
    retracted_in=st.lists(st.none() | st.integers(0, 3), min_size=48, max_size=48),
    max_rows=st.sampled_from([0, 5, 1000]),
    max_periods=st.sampled_from([0, 1, 3, 1000]),
)
def test_scoped_batch_after_scoped_batch_equals_scoring_every_agent_again(
    database: Database,
    history: AgentHistory,
    rulebooks: RulebookHistory,
    timezone: tzinfo,
    in_order: bool,
    batch_of: list[int],
    retracted_in: list[int | None],
    max_rows: int,
    max_periods: int,
) -> None:
    """Four batches, each rescored from the rows the batches before it left (badges kept or
    read again, streaks extended or read again, periods moved by their changes, their stored
    rows kept between batches or read again), recognitions
    retracted in their own batch or a later one; ``in_order``: each batch holds later
    recognitions than the one before (the live case), so the stored rows mostly stand."""
    everything = [*history.received, *history.kudos_given]
    if in_order:
        everything.sort(key=lambda r: r.order_key)
        batches = sorted(batch_of[i % len(batch_of)] for i in range(len(everything)))
    else:
        batches = [batch_of[i % len(batch_of)] for i in range(len(everything))]
    with fresh_database(database.kind) as db:
        engine = db.read_engine()
        try:
            create_all(engine)
            with engine.begin() as connection:
                connection.execute(
                    insert(agents).values(
                        agent_id=history.agent_id,
                        handle="ann",
                        name="Ann",
                        team_id=history.agent_id,
                        enrolled_at=datetime(2023, 1, 1, tzinfo=UTC),
                    )
                )
                kept = scoped.LiveFacts(max_rows=max_rows, max_periods=max_periods)
                for batch in range(4):
                    new = [r for r, b in zip(everything, batches, strict=True) if b == batch]
                    gone = [
                        r
                        for i, (r, b) in enumerate(zip(everything, batches, strict=True))
                        if b <= batch and retracted_in[i % len(retracted_in)] == batch
                    ]
                    if new:
                        connection.execute(insert(recognitions), [_row(r, timezone) for r in new])
                    for recognition in gone:
                        connection.execute(
                            update(recognitions)
                            .where(recognitions.c.recording_id == recognition.recording_id)
                            .values(retracted=True)
                        )
                    touched = [*new, *gone]
                    groups = {
                        (r.agent_id, r.occurred_at.astimezone(timezone).date(), r.kind.value)
                        for r in touched
                    }
                    dirty = {r.agent_id for r in touched} | {
                        r.from_agent for r in touched if r.from_agent
                    }
                    dirty.add(history.agent_id)  # an agent dirty without a change of its own
                    _rescore(
                        connection,
                        dirty,
                        groups,
                        rulebooks,
                        timezone,
                        new,
                        gone,
                        kept,
                    )
                rescored = _derived(connection)

                for table in DERIVED_TABLES:
                    connection.execute(delete(table))
                connection.execute(
                    update(recognitions).values(
                        points=0, rulebook_version=None, rule=None, capped=False
                    )
                )
                recompute_every_agent(connection, rulebooks, timezone)
                refresh_every_board(connection)
                assert rescored == _derived(connection)
        finally:
            engine.dispose()
