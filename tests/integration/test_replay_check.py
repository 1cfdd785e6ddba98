"""The replay check on both databases: identical when untouched, every tampering reported
exactly, no false difference while the live read models keep moving, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date
from uuid import UUID

import pytest
from sqlalchemy import (
    Engine,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)

from api.replay import scratch_read_engine
from domain.application import Callcraft
from domain.facts import RecognitionKind
from projections.projector import Projector
from projections.replay import Difference, ReplaySummary, replay_check
from projections.tables import agent_badges, agent_profiles, period_xp
from tests.conftest import Database
from tests.earlier_layout import make_earlier_layout
from tests.reference_model import Enrol, Record, Wait, World, opened


@dataclass
class Centre:
    database: Database
    app: Callcraft
    engine: Engine
    projector: Projector
    world: World

    def record(self, agent: int, kind: RecognitionKind = RecognitionKind.FEEDBACK_GIVEN) -> None:
        self.world.run(Record(kind, agent=agent, competencies=("communication",), fraction=60))

    def replay(self, **hooks: object) -> tuple[ReplaySummary, list[Difference]]:
        found: list[Difference] = []
        with scratch_read_engine(self.database.read_url) as scratch:
            summary = replay_check(
                self.app,
                self.engine,
                scratch,
                timezone=UTC,
                on_difference=found.append,
                batch_size=7,
                **hooks,  # type: ignore[arg-type]
            )
        return summary, found


@pytest.fixture
def centre(database: Database) -> Iterator[Centre]:
    with opened(database) as (app, engine):
        world = World(app)
        for agent in range(3):
            world.run(Enrol(agent=agent, team=agent % 2, quarters_before=4 * 24 * 10))
        centre = Centre(database, app, engine, Projector(app, engine, timezone=UTC), world)
        for step in range(12):
            centre.record(step % 3, list(RecognitionKind)[step % len(RecognitionKind)])
            world.run(Wait(quarters=4 * 24))
        centre.projector.catch_up()
        yield centre


def _log_end(app: Callcraft) -> int:
    return int(app.recorder.max_notification_id() or 0)


def test_an_untouched_store_replays_identically_at_the_live_position(centre: Centre) -> None:
    summary, found = centre.replay()
    assert found == []
    assert summary.identical
    assert summary.position == centre.projector.position() == _log_end(centre.app)
    assert summary.rows_compared > 0


def test_replays_run_one_after_another_on_the_same_engine_and_leave_its_connections_as_found(
    centre: Centre,
) -> None:
    for _ in range(3):  # the /audit/replay button may be pressed again and again
        summary, found = centre.replay()
        assert found == []
        assert summary.identical
    if centre.database.kind == "sqlite":
        with ExitStack() as held:  # every pooled connection at once
            connections = [held.enter_context(centre.engine.connect()) for _ in range(5)]
            for connection in connections:
                listed = connection.exec_driver_sql("PRAGMA database_list").all()
                assert "replayed" not in [row[1] for row in listed]


def test_events_the_live_read_models_have_not_reached_cause_no_difference(
    centre: Centre,
) -> None:
    centre.record(0)
    centre.record(1)
    summary, found = centre.replay()
    assert found == []
    assert summary.position == centre.projector.position() < _log_end(centre.app)


def test_live_read_models_moving_during_the_replay_cause_no_difference(centre: Centre) -> None:
    """The live projector applies new events while the scratch rebuild runs and while the
    tables are being compared: the check still compares one position."""
    start = centre.projector.position()

    def move_on(*_progress: int) -> None:
        centre.record(2)
        centre.projector.catch_up()

    summary, found = centre.replay(rebuilt=move_on, compared=move_on)
    assert found == []
    assert summary.position == start
    assert centre.projector.position() > start


def _first(engine: Engine, table: object, *columns: object) -> tuple[object, ...]:
    with engine.connect() as connection:
        row = connection.execute(select(*columns).order_by(*columns).limit(1)).one()  # type: ignore[call-overload]
    return tuple(row)


def test_a_changed_profile_a_deleted_badge_and_a_stray_row_are_reported_exactly(
    centre: Centre,
) -> None:
    engine = centre.engine
    agent_id, xp_total = _first(
        engine, agent_profiles, agent_profiles.c.agent_id, agent_profiles.c.xp_total
    )
    badge_agent, badge_key = _first(
        engine, agent_badges, agent_badges.c.agent_id, agent_badges.c.badge_key
    )
    stray = UUID(int=7)
    with engine.begin() as connection:
        connection.execute(
            update(agent_profiles)
            .where(agent_profiles.c.agent_id == agent_id)
            .values(xp_total=agent_profiles.c.xp_total + 7)
        )
        connection.execute(
            delete(agent_badges).where(
                agent_badges.c.agent_id == badge_agent, agent_badges.c.badge_key == badge_key
            )
        )
        connection.execute(
            insert(period_xp).values(
                window="week",
                period_start=date(2020, 1, 6),
                competency="total",
                agent_id=stray,
                xp=9,
            )
        )

    summary, found = centre.replay()

    assert sorted(found, key=lambda d: d.table) == [
        Difference("agent_badges", {"agent_id": badge_agent, "badge_key": badge_key}, "missing"),
        Difference(
            "agent_profiles",
            {"agent_id": agent_id},
            "changed",
            "xp_total",
            xp_total + 7,
            xp_total,  # type: ignore[operator]
        ),
        Difference(
            "period_xp",
            {
                "agent_id": stray,
                "window": "week",
                "period_start": date(2020, 1, 6),
                "competency": "total",
            },
            "extra",
        ),
    ]
    assert summary.differences == 3
    assert not summary.identical


def test_the_replay_writes_nothing_to_the_store_and_removes_its_scratch_database(
    centre: Centre,
) -> None:
    before = _log_end(centre.app)
    with scratch_read_engine(centre.database.read_url) as scratch:
        if scratch.dialect.name == "postgresql":
            with scratch.connect() as connection:
                where = connection.execute(text("SELECT current_schema()")).scalar_one()
        else:
            where = scratch.url.database
        replay_check(centre.app, centre.engine, scratch, timezone=UTC, on_difference=print)
    assert _log_end(centre.app) == before
    assert centre.projector.position() == before
    if centre.database.kind == "postgres":
        with centre.engine.connect() as connection:
            left = connection.execute(
                text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": where},
            ).scalar_one()
        assert left == 0
    else:
        from pathlib import Path

        assert where is not None
        assert not Path(where).exists()


def test_read_models_of_the_earlier_layout_project_and_replay_identically(
    database: Database,
) -> None:
    engine = database.read_engine()
    try:
        make_earlier_layout(engine)
    finally:
        engine.dispose()
    with opened(database) as (app, engine):
        world = World(app)
        for agent in range(3):
            world.run(Enrol(agent=agent, team=agent % 2, quarters_before=4 * 24 * 10))
        projector = Projector(app, engine, timezone=UTC, batch_size=4)
        for step in range(9):
            world.run(Record(RecognitionKind.FEEDBACK_GIVEN, step % 3, ("teamwork",), 60))
            world.run(Wait(quarters=4 * 24))
            projector.catch_up()
        assert "ix_period_xp_agent" in {i["name"] for i in inspect(engine).get_indexes("period_xp")}
        centre = Centre(database, app, engine, projector, world)
        summary, found = centre.replay()
    assert found == []
    assert summary.identical
    assert summary.rows_compared > 0
