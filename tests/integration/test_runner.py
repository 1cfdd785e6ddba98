"""The catch-up runner applies every event exactly once: after a crash mid-batch, when two
projectors race, and when a rebuild dies before it has scored everyone."""

from __future__ import annotations

import threading
from datetime import UTC

import pytest
from sqlalchemy import Engine, func, insert, inspect, select

from domain.facts import RecognitionKind
from projections import tables
from projections.projector import Projector, rescore_marker
from projections.rebuild import rebuild
from projections.schema import create_all, drop_deferred_indexes
from tests.conftest import Database
from tests.reference_model import (
    Enrol,
    Record,
    ReferenceModel,
    Retract,
    Transfer,
    World,
    assert_read_models_match,
    dump_read_models,
    opened,
)


class Crash(Exception):
    """Stands for the process dying in the middle of a batch."""


def crash_at(notification_id: int):  # type: ignore[no-untyped-def]
    def hook(applied: int, _event: object) -> None:
        if applied >= notification_id:
            raise Crash(f"killed after applying event {applied}")

    return hook


def small_centre(world: World) -> None:
    """Four agents in two teams, a dozen recognitions, a transfer and a retraction."""
    for agent in range(4):
        world.run(Enrol(agent=agent, team=agent % 2, quarters_before=4 * 24 * 10))
    kinds = list(RecognitionKind)
    for n in range(12):
        world.run(
            Record(
                kinds[n % len(kinds)],
                agent=n % 4,
                competencies=("communication", "teamwork")[: 1 + n % 2],
                fraction=(n * 37) % 100,
                rating=1 + n % 5,
                giver=(n + 1) % 4,
            )
        )
    world.run(Transfer(agent=0, team=1))
    world.run(Retract(which=3, by_admin=True))


def read_model_rows(database_engine) -> int:  # type: ignore[no-untyped-def]
    with database_engine.connect() as connection:
        return sum(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables.metadata.sorted_tables
            if table is not tables.tracking
        )


def test_a_batch_that_dies_half_way_leaves_nothing_and_the_next_run_applies_it_once(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        small_centre(world)
        last = app.recorder.max_notification_id()
        dying = Projector(
            app, engine, timezone=UTC, batch_size=last, after_each_event=crash_at(last // 2)
        )
        with pytest.raises(Crash):
            dying.run_once()
        assert dying.position() == 0
        assert read_model_rows(engine) == 0

        projector = Projector(app, engine, timezone=UTC, batch_size=last)
        assert projector.catch_up() == _events_in_log(app)
        assert projector.position() == last
        model = ReferenceModel.from_log(app, UTC)
        assert_read_models_match(engine, model, world.now.date())
        assert projector.catch_up() == 0


def test_a_crash_in_a_later_batch_keeps_the_earlier_batches_and_nothing_of_its_own(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        small_centre(world)
        projector = Projector(app, engine, timezone=UTC, batch_size=10)
        assert projector.run_once() == 10
        after_first = dump_read_models(engine)
        first_position = projector.position()

        dying = Projector(
            app, engine, timezone=UTC, batch_size=10, after_each_event=crash_at(first_position + 5)
        )
        with pytest.raises(Crash):
            dying.run_once()
        assert projector.position() == first_position
        assert dump_read_models(engine) == after_first

        projector.catch_up()
        assert_read_models_match(engine, ReferenceModel.from_log(app, UTC), world.now.date())


def test_two_projectors_racing_on_one_database_end_as_one_would(database: Database) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        small_centre(world)
        create_all(engine)
        second_engine = database.read_engine()
        try:
            racers = [
                Projector(app, engine, timezone=UTC, batch_size=3),
                Projector(app, second_engine, timezone=UTC, batch_size=3),
            ]
            start = threading.Barrier(len(racers))
            applied: list[int] = []
            errors: list[BaseException] = []

            def race(projector: Projector) -> None:
                try:
                    start.wait()
                    applied.append(projector.catch_up())
                except BaseException as error:  # reported below
                    errors.append(error)

            threads = [threading.Thread(target=race, args=(p,)) for p in racers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            second_engine.dispose()
        assert errors == []
        assert sum(applied) == _events_in_log(app)
        raced = dump_read_models(engine)
        assert_read_models_match(engine, ReferenceModel.from_log(app, UTC), world.now.date())

        rebuild(app, engine, timezone=UTC)
        assert dump_read_models(engine) == raced


def test_a_rebuild_that_dies_before_scoring_is_finished_by_the_next_run(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        small_centre(world)
        Projector(app, engine, timezone=UTC).catch_up()
        expected = dump_read_models(engine)

        rebuild(app, engine, timezone=UTC)  # a clean rebuild first: same result
        assert dump_read_models(engine) == expected

        # A rebuild that dies after writing the facts but before scoring anyone:
        _start_a_rebuild_by_hand(engine)
        facts_only = Projector(app, engine, timezone=UTC, batch_size=1000)
        assert facts_only.run_once() == _events_in_log(app)
        assert facts_only.rescore_pending()

        Projector(app, engine, timezone=UTC).catch_up()
        assert dump_read_models(engine) == expected


def _start_a_rebuild_by_hand(engine: Engine) -> None:
    """Fresh tables, the position at 0 and the rescore marker: what a rebuild starts with."""
    tables.metadata.drop_all(engine)
    create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tracking),
            [
                {"projection": "callcraft", "position": 0},
                {"projection": rescore_marker("callcraft"), "position": 0},
            ],
        )


def _indexes(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    return {
        str(index["name"])
        for table in tables.metadata.sorted_tables
        for index in inspector.get_indexes(table.name)
    }


def test_a_rebuild_that_dies_while_loading_facts_still_ends_with_every_index(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        small_centre(world)
        wanted = {str(index.name) for t in tables.metadata.sorted_tables for index in t.indexes}
        Projector(app, engine, timezone=UTC).catch_up()
        assert _indexes(engine) >= wanted

        rebuild(app, engine, timezone=UTC)
        assert _indexes(engine) >= wanted

        # The facts loaded without the deferred indexes, then the process died:
        _start_a_rebuild_by_hand(engine)
        drop_deferred_indexes(engine)
        Projector(app, engine, timezone=UTC, batch_size=1000).run_once()
        assert not _indexes(engine) >= wanted

        Projector(app, engine, timezone=UTC).catch_up()
        assert _indexes(engine) >= wanted


def test_the_runner_keeps_up_in_the_background_and_wait_until_reports_it(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        projector = Projector(app, engine, timezone=UTC)
        stop = threading.Event()
        runner = threading.Thread(target=projector.run_forever, args=(stop, 0.01))
        runner.start()
        try:
            small_centre(world)
            assert projector.wait_until(app.recorder.max_notification_id(), timeout=60)
        finally:
            stop.set()
            runner.join()
        assert not projector.wait_until(app.recorder.max_notification_id() + 1, timeout=0)
        assert_read_models_match(engine, ReferenceModel.from_log(app, UTC), world.now.date())


def _events_in_log(app) -> int:  # type: ignore[no-untyped-def]
    return len(app.recorder.select_notifications(start=0, limit=100_000, inclusive_of_start=False))
