"""The reads every request makes, on a connection each thread keeps (``projections.hot``):
they see every commit made on other connections at once, and fall back to the pool where a
second connection would not see the same database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, select

from api.bootstrap import build_read_engine
from projections.hot import HeldConnections, HotReads, hot_reads, log_top_reader, sqlite_file
from projections.prepared import Prepared

metadata = MetaData()
things = Table("things", metadata, Column("k", String, primary_key=True), Column("v", Integer))
VALUE = Prepared(select(things.c.v).where(things.c.k == bindparam("k", type_=String())))


def test_a_held_connection_sees_every_commit_at_once(tmp_path: Path) -> None:
    engine = build_read_engine(f"sqlite:///{tmp_path / 'read.db'}")
    metadata.create_all(engine)
    reads = hot_reads(engine)
    assert reads is hot_reads(engine)
    assert sqlite_file(engine) is not None
    assert reads.rows(VALUE, k="a") == []
    for value in (1, 2, 3):
        with engine.begin() as connection:
            connection.execute(things.delete())
            connection.execute(things.insert().values(k="a", v=value))
        assert reads.rows(VALUE, k="a") == [(value,)]
    with engine.begin() as connection:
        connection.execute(things.delete())
    assert reads.rows(VALUE, k="a") == []
    engine.dispose()


def test_an_in_memory_database_is_read_through_the_pool() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(things.insert().values(k="a", v=7))
    assert sqlite_file(engine) is None
    assert HotReads(engine).rows(VALUE, k="a") == [(7,)]


def test_the_log_top_follows_the_log(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE stored_events (topic TEXT)")
    top = log_top_reader(str(path), "SELECT MAX(rowid) FROM stored_events")
    assert top() == 0
    for count in (1, 2, 5):
        while top() < count:
            writer.execute("INSERT INTO stored_events VALUES ('x')")
        assert top() == count
    writer.close()


def test_a_connection_that_failed_is_replaced() -> None:
    opened: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        opened.append(sqlite3.connect(":memory:"))
        return opened[-1]

    held = HeldConnections(connect)
    assert held.run(lambda c: c.execute("SELECT 1").fetchone()) == (1,)
    assert held.run(lambda c: c.execute("SELECT 2").fetchone()) == (2,)
    assert len(opened) == 1
    with pytest.raises(sqlite3.OperationalError):
        held.run(lambda c: c.execute("SELECT * FROM nowhere"))
    assert held.run(lambda c: c.execute("SELECT 3").fetchone()) == (3,)
    assert len(opened) == 2
