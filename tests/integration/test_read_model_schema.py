"""The read-model schema at start: what is missing is made, what is retired goes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from sqlalchemy import Engine, insert, inspect

from api.runtime import open_runtime
from api.settings import Settings
from domain.agents import Agent
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.schema import (
    RETIRED_INDEXES,
    ROW_PER_EVENT,
    create_all,
    earlier_layout,
    never_measured,
)
from projections.tables import board_entries, metadata
from tests.conftest import Database
from tests.earlier_layout import make_earlier_layout
from tests.reference_model import opened

RETIRED = [
    (
        "period_xp",
        "ix_period_xp_board",
        'ON period_xp ("window", period_start, competency, xp DESC)',
        None,  # its key is the table's only index
    ),
    (
        "board_entries",
        "ix_board_entries_team_rank",
        'ON board_entries ("window", period_start, competency, team_id, xp DESC, name, agent_id)',
        "ix_board_entries_rank",
    ),
]


@contextmanager
def _engine(database: Database) -> Iterator[Engine]:
    """The read engine of ``database``, disposed afterwards."""
    engine = database.read_engine()
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _created(database: Database) -> Iterator[Engine]:
    """The read engine of ``database`` with the read models created as a start makes them."""
    with _engine(database) as engine:
        create_all(engine)
        yield engine


@pytest.mark.parametrize(("table", "name", "columns", "kept"), RETIRED)
def test_an_index_an_earlier_version_made_is_dropped_at_the_next_start(
    database: Database, table: str, name: str, columns: str, kept: str | None
) -> None:
    with _created(database) as engine:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE INDEX {name} {columns}")
        assert name in _indexes(engine, table)
        create_all(engine)
        assert name not in _indexes(engine, table)
        assert kept is None or kept in _indexes(engine, table)
        create_all(engine)  # and again, with nothing left to drop


def test_an_index_a_later_version_added_is_made_at_the_next_start(database: Database) -> None:
    with _created(database) as engine:
        with engine.begin() as connection:  # as a version before it left the table
            connection.exec_driver_sql("DROP INDEX ix_board_entries_team")
        assert "ix_board_entries_team" not in _indexes(engine, "board_entries")
        create_all(engine)
        assert "ix_board_entries_team" in _indexes(engine, "board_entries")
        create_all(engine)  # and again, with nothing left to add


def test_an_added_index_is_measured_for_the_planner_once_made(sqlite_database: Database) -> None:
    with _created(sqlite_database) as engine:
        with engine.begin() as connection:  # a measured store made before the index
            connection.execute(
                insert(board_entries).values(
                    agent_id=uuid4(),
                    window="all",
                    period_start=date(1970, 1, 1),
                    competency="*",
                    team_id=uuid4(),
                    name="Ann",
                    xp=5,
                )
            )
            connection.exec_driver_sql("DROP INDEX ix_board_entries_team")
            connection.exec_driver_sql("ANALYZE")
        assert not _measured(engine, "ix_board_entries_team")
        create_all(engine)
        assert _measured(engine, "ix_board_entries_team")


def _measured(engine, index: str) -> bool:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_stat1 WHERE idx = ?", (index,)
        ).scalar()
    return bool(found)


def test_every_retired_index_is_tested() -> None:
    assert {name for _, name, _, _ in RETIRED} == set(RETIRED_INDEXES)


def test_no_retired_index_is_still_declared() -> None:
    declared = {index.name for table in metadata.tables.values() for index in table.indexes}
    assert declared.isdisjoint(RETIRED_INDEXES)


def _indexes(engine, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_a_rebuild_leaves_the_read_models_measured_for_the_planner(database: Database) -> None:
    with opened(database) as (app, engine):
        team = app.form_team(name="Blue", formed_by="sup")
        app.save(
            Agent.enrol(
                handle="ann",
                name="Ann",
                team_id=team,
                enrolled_at=datetime(2026, 1, 1, tzinfo=UTC),
                enrolled_by="sup",
            )
        )
        rebuild(app, engine, timezone=UTC)
        with engine.connect() as connection:
            if database.kind == "sqlite":
                measured = connection.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'agents'"
                ).scalar()
                assert measured
            else:  # reltuples is -1 until a table is analysed (or vacuumed)
                tuples = connection.exec_driver_sql(
                    "SELECT reltuples FROM pg_class WHERE oid = 'agents'::regclass"
                ).scalar()
                assert tuples == 1


def test_sqlite_read_models_never_measured_are_measured_when_a_projector_starts(
    sqlite_database: Database,
) -> None:
    with opened(sqlite_database) as (app, engine):
        metadata.create_all(engine)  # as an earlier version made them: no statistics
        with engine.connect() as connection:
            assert never_measured(connection)
        Projector(app, engine, timezone=UTC).ensure_ready()
        with engine.connect() as connection:
            assert not never_measured(connection)


@pytest.mark.parametrize("table", ROW_PER_EVENT)
def test_a_table_of_a_row_per_event_is_keyed_by_its_rowid_on_sqlite(
    sqlite_database: Database, table: str
) -> None:
    with _created(sqlite_database) as engine:
        with engine.connect() as connection:
            (kind,) = connection.exec_driver_sql(
                f"SELECT type FROM pragma_table_info('{table}') WHERE name = 'notification_id'"
            ).one()
            automatic = connection.exec_driver_sql(
                f"SELECT name FROM pragma_index_list('{table}') WHERE origin = 'pk'"
            ).all()
        assert kind == "INTEGER"  # the rowid itself: no index of the key beside the table
        assert automatic == []


def test_period_xp_is_one_b_tree_keyed_by_agent_on_sqlite(sqlite_database: Database) -> None:
    with _created(sqlite_database) as engine, engine.connect() as connection:
        (without_rowid,) = connection.exec_driver_sql(
            "SELECT wr FROM pragma_table_list('period_xp')"
        ).one()
        key = connection.exec_driver_sql(
            "SELECT name FROM pragma_table_info('period_xp') WHERE pk > 0 ORDER BY pk"
        ).scalars()
        indexes = connection.exec_driver_sql(
            "SELECT origin FROM pragma_index_list('period_xp')"
        ).scalars()
        assert without_rowid == 1
        assert list(key) == ["agent_id", "window", "period_start", "competency"]
        assert list(indexes) == ["pk"]


def test_read_models_made_now_are_not_of_the_earlier_layout(database: Database) -> None:
    with _created(database) as engine:
        assert earlier_layout(engine) == []


def test_read_models_of_the_earlier_layout_are_named_at_start_with_what_to_do(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with _engine(database) as engine:
        make_earlier_layout(engine)
        expected = (
            [*ROW_PER_EVENT, "period_xp"]
            if database.kind == "sqlite"
            else ["period_xp"]  # PostgreSQL's positions were BIGINT then as now
        )
        assert earlier_layout(engine) == expected
    settings = Settings(
        database_url=database.database_url,
        read_database_url=database.read_url,
    )
    with caplog.at_level(logging.WARNING, logger="callcraft.projector"):
        runtime = open_runtime(settings, schema=database.schema)
        runtime.close()
    (warning,) = [r.getMessage() for r in caplog.records if "earlier Callcraft" in r.getMessage()]
    assert ", ".join(expected) in warning
    assert "callcraft rebuild" in warning
