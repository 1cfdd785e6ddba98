"""As of any moment, every leaderboard and profile equals a fresh projection of the log
truncated at that moment's position."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import eventsourcing.domain
import pytest
from hypothesis import Phase, given
from hypothesis import strategies as st
from sqlalchemy import delete

from domain.application import Callcraft
from domain.competencies import ALL_COMPETENCIES
from domain.periods import WINDOWS
from projections.asof import (
    AsOfError,
    activity_as_of,
    explain_xp_as_of,
    leaderboard_as_of,
    moment_at,
    profile_as_of,
)
from projections.asof_tables import asof_moments
from projections.projector import Projector
from projections.queries import agent_activity, agent_profile, explain_xp, leaderboard
from projections.rebuild import rebuild
from tests.conftest import Database
from tests.reference_model import (
    HANDLES,
    START,
    Command,
    Enrol,
    World,
    dump_read_models,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(
    int(__import__("os").environ.get("ASOF_EXAMPLES", "10")),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


@contextmanager
def events_stamped_by(now: Callable[[], datetime]) -> Iterator[None]:
    """Stamp new events with ``now()`` instead of the wall clock, so that the moments of the
    log and the simulated days of the history line up (the week and month windows as of a
    moment then hold recognitions)."""
    original = eventsourcing.domain.datetime_now_with_tzinfo
    eventsourcing.domain.datetime_now_with_tzinfo = now
    try:
        yield
    finally:
        eventsourcing.domain.datetime_now_with_tzinfo = original


def _boards(teams: Sequence[Any]) -> list[dict[str, Any]]:
    boards: list[dict[str, Any]] = [{"scope": "overall"}]
    boards += [{"scope": "team", "team_id": t} for t in teams]
    boards += [{"scope": "competency", "competency": c.value} for c in ALL_COMPETENCIES]
    return boards


def _log(app: Callcraft) -> list[tuple[int, datetime]]:
    notifications = app.recorder.select_notifications(start=None, limit=10_000)
    return [(n.id, app.mapper.to_domain_event(n).timestamp) for n in notifications]


@PROPERTY
@given(
    history=histories(),
    timezone=timezones(),
    pick=st.integers(0, 10**6),
    nudge=st.sampled_from([timedelta(0), timedelta(minutes=7), -timedelta(microseconds=1)]),
    batch_size=st.integers(1, 8),
    page=st.tuples(st.integers(1, 4), st.integers(0, 5), st.integers(0, len(HANDLES) - 1)),
)
def test_the_view_as_of_any_moment_equals_a_fresh_projection_of_the_log_up_to_it(
    database: Database,
    history: list[Command],
    timezone: tzinfo,
    pick: int,
    nudge: timedelta,
    batch_size: int,
    page: tuple[int, int, int],
) -> None:
    worlds: list[World] = []
    with (
        events_stamped_by(lambda: worlds[0].now if worlds else START),
        fresh_database(database.kind) as db,
        opened(db, timezone) as (app, engine),
    ):
        worlds.append(World(app))
        world = worlds[0]
        projector = Projector(app, engine, timezone=timezone, batch_size=batch_size)
        for index, command in enumerate(history):
            world.run(command)
            if index % 3 == 0:
                projector.catch_up()
        projector.catch_up()

        log = _log(app)
        stamps = sorted({stamp for _, stamp in log})
        at = max(stamps[pick % len(stamps)] + nudge, stamps[0])
        moment = moment_at(engine, at, timezone, now=world.now + timedelta(days=1))
        assert moment.position == max(n for n, stamp in log if stamp <= at)

        with fresh_database(database.kind) as truncated_db, opened(truncated_db) as (_, truncated):
            Projector(
                app, truncated, timezone=timezone, batch_size=batch_size + 2, until=moment.position
            ).catch_up()
            for board in _boards(world.team_ids):
                for window in WINDOWS:
                    expected = leaderboard(
                        truncated, window=window, today=moment.today, limit=500, **board
                    )
                    actual = leaderboard_as_of(engine, moment, window=window, limit=500, **board)
                    assert actual == expected, (board, window)
            limit, offset, around = page
            paged = {"limit": limit, "offset": offset, "around_agent": world.agent_id(around)}
            assert leaderboard_as_of(engine, moment, window="week", **paged) == leaderboard(
                truncated, window="week", today=moment.today, **paged
            )
            for index in range(len(HANDLES)):
                agent_id = world.agent_id(index)
                expected_profile = agent_profile(
                    truncated, agent_id, today=moment.today, timezone=timezone
                )
                actual_profile = profile_as_of(engine, agent_id, moment, timezone=timezone)
                assert actual_profile == expected_profile
                if expected_profile is not None:
                    assert explain_xp_as_of(
                        engine, agent_id, moment, timezone=timezone
                    ) == explain_xp(truncated, agent_id)
                assert activity_as_of(engine, agent_id, moment, limit=500) == agent_activity(
                    truncated, agent_id, limit=500
                )

        incremental = dump_read_models(engine)
        rebuild(app, engine, timezone=timezone, batch_size=batch_size + 3)
        assert dump_read_models(engine) == incremental


def test_a_moment_in_the_future_or_before_the_first_event_is_refused(database: Database) -> None:
    with opened(database) as (app, engine):
        World(app)
        Projector(app, engine, timezone=UTC).catch_up()
        now = datetime.now(UTC)
        with pytest.raises(AsOfError, match="future"):
            moment_at(engine, now + timedelta(minutes=1), UTC, now=now)
        with pytest.raises(AsOfError, match="before the first event"):
            moment_at(engine, datetime(2000, 1, 1, tzinfo=UTC), UTC, now=now)
        with pytest.raises(AsOfError, match="time zone"):
            moment_at(engine, datetime(2030, 1, 1), UTC, now=now)
        assert moment_at(engine, now, UTC, now=now).position == app.recorder.max_notification_id()


def test_read_models_built_before_time_travel_ask_for_a_rebuild(database: Database) -> None:
    with opened(database) as (app, engine):
        World(app).run(Enrol(agent=0, team=0, quarters_before=4))
        Projector(app, engine, timezone=UTC).catch_up()
        with engine.begin() as connection:
            connection.execute(delete(asof_moments))  # as a store projected by an older version
        now = datetime.now(UTC)
        with pytest.raises(AsOfError, match="callcraft rebuild"):
            moment_at(engine, now, UTC, now=now)
        rebuild(app, engine, timezone=UTC)
        assert moment_at(engine, now, UTC, now=now).position == app.recorder.max_notification_id()
