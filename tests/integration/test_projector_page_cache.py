"""A projector gives the SQLite connection its batches run on the page cache the settings
say (``CALLCRAFT_PROJECTOR_CACHE_MIB``), not SQLite's default of 2 MiB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from sqlalchemy import event, insert

from api.runtime import Runtime, open_runtime
from api.settings import Settings
from projections.projector import Projector, rescore_marker
from projections.rebuild import rebuild
from projections.tables import tracking
from tests.conftest import Database


@contextmanager
def _runtime(database: Database, **settings: Any) -> Iterator[Runtime]:
    """The runtime of ``database`` with these settings (the rest the defaults), closed after;
    opening it publishes the default rulebook: a batch to apply."""
    runtime = open_runtime(
        Settings(
            database_url=database.database_url, read_database_url=database.read_url, **settings
        )
    )
    try:
        yield runtime
    finally:
        runtime.close()


def _cache_sizes_at_checkin(engine: Any) -> list[int]:
    """The ``cache_size`` of each connection the engine's pool takes back, from now on."""
    seen: list[int] = []

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        seen.append(dbapi_connection.execute("PRAGMA cache_size").fetchone()[0])

    event.listen(engine, "checkin", checkin)
    return seen


def test_the_runtime_projector_runs_its_batches_with_the_page_cache_of_the_setting(
    sqlite_database: Database,
) -> None:
    with _runtime(sqlite_database, projector_cache_mib=48) as runtime:
        seen = _cache_sizes_at_checkin(runtime.read_engine)
        assert runtime.projector.run_once() > 0
        assert -48 * 1024 in seen  # negative: in KiB (a positive size counts pages)


def test_a_connection_keeps_sqlites_own_page_cache_until_a_batch_runs_on_it(
    sqlite_database: Database,
) -> None:
    with _runtime(sqlite_database) as runtime:
        with runtime.read_engine.connect() as connection:
            fresh = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        assert fresh == -2000  # SQLite's default, until a projector's batch runs on it
        seen = _cache_sizes_at_checkin(runtime.read_engine)
        runtime.projector.run_once()
        assert -256 * 1024 in seen  # the default setting


def test_warming_reads_with_the_page_cache_of_the_setting(sqlite_database: Database) -> None:
    with _runtime(sqlite_database, projector_cache_mib=24) as runtime:
        runtime.projector.catch_up()
        fresh = Projector(runtime.app, runtime.read_engine, timezone=UTC, page_cache_mib=24)
        runtime.read_engine.dispose()  # no connection sized by a batch is left in the pool
        seen = _cache_sizes_at_checkin(runtime.read_engine)
        assert fresh.warm()
        assert seen[-1] == -24 * 1024  # the connection its reads ran on, taken back last


def test_a_rebuild_runs_its_batches_with_the_page_cache_it_is_given(
    sqlite_database: Database,
) -> None:
    with _runtime(sqlite_database) as runtime:
        seen = _cache_sizes_at_checkin(runtime.read_engine)
        assert rebuild(runtime.app, runtime.read_engine, timezone=UTC, page_cache_mib=40) > 0
        assert -40 * 1024 in seen


def test_the_scoring_that_ends_a_rebuild_runs_with_the_page_cache_too(
    sqlite_database: Database,
) -> None:
    with _runtime(sqlite_database) as runtime:
        runtime.projector.catch_up()
        with runtime.read_engine.begin() as connection:  # a rebuild whose facts are all in
            connection.execute(
                insert(tracking).values(projection=rescore_marker("callcraft"), position=0)
            )
        runtime.read_engine.dispose()  # no connection sized by a batch is left in the pool
        finishing = Projector(runtime.app, runtime.read_engine, timezone=UTC, page_cache_mib=36)
        seen = _cache_sizes_at_checkin(runtime.read_engine)
        assert finishing.rescore_pending()
        assert finishing.run_once() == 0  # no batch: the scoring alone
        assert not finishing.rescore_pending()
        assert -36 * 1024 in seen
