"""The replay check's set-based comparison inside the database agrees with the row-by-row merge:
whatever rows are changed, deleted or duplicated, a table is called identical exactly when the
merge finds no difference in it (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Table,
    and_,
    delete,
    insert,
    select,
    update,
)

from api.replay import scratch_read_engine
from domain.facts import RecognitionKind
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.replay import REPLAYED, compare_table, read_model_tables, same_rows
from tests.conftest import Database
from tests.reference_model import Enrol, Record, Wait, World, opened


@dataclass(frozen=True)
class Tamper:
    table: int  # which of the tables that hold rows
    row: int  # which of its rows (modulo their number)
    action: str  # "change", "delete" or "duplicate"
    column: int  # which column a change alters (modulo their number)


tampers = st.lists(
    st.builds(
        Tamper,
        table=st.integers(0, 100),
        row=st.integers(0, 10_000),
        action=st.sampled_from(["change", "delete", "duplicate"]),
        column=st.integers(0, 100),
    ),
    max_size=3,
)


def _altered(value: Any) -> Any:
    """A value of the same Python type that differs from ``value`` (None stays: the test
    only needs *a* change)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, list | dict):
        return [value]
    return f"{value}~"


def _key(table: Table) -> list[Any]:
    keys = list(table.primary_key.columns)
    return keys or [c for c in table.columns if not isinstance(c.type, JSON)]


def _apply(connection: Connection, tables: list[Table], tamper: Tamper) -> None:
    table = tables[tamper.table % len(tables)]
    rows = connection.execute(select(table).order_by(*_key(table))).mappings().all()
    if not rows:
        return
    row = dict(rows[tamper.row % len(rows)])
    where = and_(*(c == row[c.name] for c in _key(table)))
    if tamper.action == "delete":
        connection.execute(delete(table).where(where))
    elif tamper.action == "duplicate":
        if table.primary_key.columns:
            return  # a key admits no twin
        connection.execute(insert(table).values(**row))
    else:
        keys = {c.name for c in table.primary_key.columns}
        columns = [c for c in table.columns if c.name not in keys]
        if not columns:
            return
        column = columns[tamper.column % len(columns)]
        changed = _altered(row[column.name])
        if changed is not None:
            connection.execute(update(table).where(where).values({column.name: changed}))


@contextmanager
def _live_with_scratch(database: Database, engine: Engine, scratch: Engine) -> Iterator[Connection]:
    """A writable connection to the live read models (the scratch attached on SQLite)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(f"ATTACH DATABASE ? AS {REPLAYED}", (scratch.url.database,))
        yield connection


@pytest.mark.slow
def test_the_in_database_check_calls_a_table_identical_exactly_when_the_merge_finds_nothing(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        for agent in range(3):
            world.run(Enrol(agent=agent, team=agent % 2, quarters_before=4 * 24 * 10))
        for step in range(9):
            kind = list(RecognitionKind)[step % len(RecognitionKind)]
            world.run(Record(kind, agent=step % 3, competencies=("teamwork",), fraction=50))
            world.run(Wait(quarters=4 * 24))
        Projector(app, engine, timezone=UTC).catch_up()
        with scratch_read_engine(database.read_url) as scratch:
            rebuild(app, scratch, timezone=UTC)
            with (
                _live_with_scratch(database, engine, scratch) as live,
                scratch.connect() as replayed,
            ):
                tables = [
                    t
                    for t in read_model_tables()
                    if live.execute(select(t).limit(1)).first() is not None
                ]
                assert any(not t.primary_key.columns for t in tables)  # both kinds are tried

                @given(tampers)
                def check(done: list[Tamper]) -> None:
                    point = live.begin_nested() if live.in_transaction() else live.begin()
                    try:
                        for tamper in done:
                            _apply(live, tables, tamper)
                        for table in tables:
                            identical, rows = same_rows(live, replayed, table)
                            merged = list(compare_table(table, live, replayed))
                            assert identical == (merged == []), (table.name, done, merged)
                            assert rows > 0
                    finally:
                        point.rollback()

                check()
