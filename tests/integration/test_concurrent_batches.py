"""Two threads driving one projector at once (the `callcraft serve` projector thread and a
request waiting for its own write, say) apply each batch once, in order: the read models
still equal a rebuild's. The projector's step lock is what makes the first batch safe: without
it both threads create the tables at once and one fails."""

from __future__ import annotations

import threading
from datetime import tzinfo

from hypothesis import given

from projections.projector import Projector
from projections.rebuild import rebuild
from tests.conftest import Database
from tests.reference_model import (
    Command,
    World,
    dump_read_models,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(10)
THREADS = 2


@PROPERTY
@given(history=histories(min_commands=15, max_commands=30), timezone=timezones())
def test_two_threads_catching_up_one_projector_leave_what_a_rebuild_leaves(
    database: Database, history: list[Command], timezone: tzinfo
) -> None:
    with fresh_database(database.kind) as db, opened(db, timezone) as (app, engine):
        world = World(app)
        projector = Projector(app, engine, timezone=timezone, batch_size=2)
        failures: list[BaseException] = []
        for start in range(0, len(history), 5):
            for command in history[start : start + 5]:
                world.run(command)
            barrier = threading.Barrier(THREADS)

            def catch_up(barrier: threading.Barrier = barrier) -> None:
                try:
                    barrier.wait()
                    projector.catch_up()
                except BaseException as failure:  # reported below, in the test's thread
                    failures.append(failure)

            threads = [threading.Thread(target=catch_up) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not failures, failures
        assert projector.position() == app.recorder.max_notification_id()

        concurrent = dump_read_models(engine)
        rebuild(app, engine, timezone=timezone)
        assert dump_read_models(engine) == concurrent
