"""The ceilings: what the library alone, and the database driver alone, manage on this machine.

Each is measured in the same run as our figures, with the same durability settings:
- the library's own rate: one ``app.save`` per event (a trivial aggregate, same recorder),
  and one save of 1,000 aggregates;
- raw inserts of rows shaped like stored events (the same table shape and payload size):
  one commit per row, and one transaction for many rows;
- a raw read of the whole log, and the library's read-and-decode of it.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.places import Place, libpq

TOPIC = "domain.recordings:Recording.FeedbackGiven"


class Tick(Aggregate):
    """The smallest aggregate: one created event, one number."""

    @event("Ticked")
    def __init__(self, number: int) -> None:
        self.number = number


class CeilingApp(Application[uuid.UUID]):
    name = "Ceiling"


def library_one_save_per_event(app: CeilingApp) -> Callable[[int], object]:
    """Step ``i``: one ``app.save`` of one new aggregate (one event)."""
    return lambda number: app.save(Tick(number))


def library_bulk_saves(app: CeilingApp, count: int, per_save: int = 1000) -> Callable[[], None]:
    def run() -> None:
        for first in range(0, count, per_save):
            app.save(*(Tick(n) for n in range(first, min(first + per_save, count))))

    return run


@dataclass(frozen=True)
class Durability:
    """What the store promises at commit, as the database reports it."""

    description: str
    sqlite_synchronous: int | None = None


def library_durability(app: Application[Any], place: Place) -> Durability:
    """Ask the library's own connection how durable a commit is."""
    if place.kind == "sqlite":
        datastore = app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = int(cursor.fetchone()[0])
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return Durability(f"journal_mode={journal}, synchronous={names[synchronous]}", synchronous)
    with psycopg.connect(libpq(place.database_url)) as connection:
        commit = connection.execute("SHOW synchronous_commit").fetchone()
        fsync = connection.execute("SHOW fsync").fetchone()
    assert commit is not None
    assert fsync is not None
    return Durability(f"synchronous_commit={commit[0]}, fsync={fsync[0]}")


def _rows(count: int, payload: bytes) -> Iterator[tuple[str, int, str, bytes]]:
    for _ in range(count):
        yield uuid.uuid4().hex, 1, TOPIC, payload


class RawSQLite:
    """sqlite3 alone, in the library's table shape, WAL and the library's synchronous level."""

    def __init__(self, place: Place, durability: Durability) -> None:
        assert place.directory is not None
        self.connection = sqlite3.connect(place.directory / "raw.db", isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute(f"PRAGMA synchronous={durability.sqlite_synchronous}")
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, "
            "originator_version INTEGER, topic TEXT, state BLOB, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        self.insert = "INSERT INTO stored_events VALUES (?,?,?,?)"

    def one_commit_per_row(self, count: int, payload: bytes) -> Callable[[], None]:
        rows = list(_rows(count, payload))

        def run() -> None:
            for row in rows:
                self.connection.execute("BEGIN")
                self.connection.execute(self.insert, row)
                self.connection.execute("COMMIT")

        return run

    def one_transaction(self, count: int, payload: bytes) -> Callable[[], None]:
        rows = list(_rows(count, payload))

        def run() -> None:
            self.connection.execute("BEGIN")
            self.connection.executemany(self.insert, rows)
            self.connection.execute("COMMIT")

        return run

    def close(self) -> None:
        self.connection.close()


class RawPostgres:
    """psycopg alone, in the library's table shape, on the same server and settings."""

    def __init__(self, place: Place) -> None:
        assert place.schema is not None
        self.connection = psycopg.connect(libpq(place.database_url))
        self.table = f"{place.schema}.raw_events"
        self.connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        self.connection.commit()
        self.insert = (
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)"
        )

    def one_commit_per_row(self, count: int, payload: bytes) -> Callable[[], None]:
        rows = list(_rows(count, payload))

        def run() -> None:
            with self.connection.cursor() as cursor:
                for row in rows:
                    cursor.execute(self.insert, row)
                    self.connection.commit()

        return run

    def one_transaction(self, count: int, payload: bytes) -> Callable[[], None]:
        rows = list(_rows(count, payload))

        def run() -> None:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.insert, rows)
            self.connection.commit()

        return run

    def close(self) -> None:
        self.connection.close()


@contextmanager
def raw_driver(place: Place, durability: Durability) -> Iterator[RawSQLite | RawPostgres]:
    driver: RawSQLite | RawPostgres = (
        RawSQLite(place, durability) if place.kind == "sqlite" else RawPostgres(place)
    )
    try:
        yield driver
    finally:
        driver.close()


def raw_log_read(place: Place) -> Callable[[], int]:
    """Read every stored event of ``place``'s log in order, with the driver alone."""
    if place.kind == "sqlite":

        def read_sqlite() -> int:
            connection = sqlite3.connect(place.sqlite_file)
            try:
                cursor = connection.execute(
                    "SELECT rowid, originator_id, originator_version, topic, state "
                    "FROM stored_events ORDER BY rowid"
                )
                count = 0
                while batch := cursor.fetchmany(5000):
                    count += len(batch)
                return count
            finally:
                connection.close()

        return read_sqlite

    def read_postgres() -> int:
        with psycopg.connect(libpq(place.database_url)) as connection:
            cursor = connection.cursor(name="log")  # server-side: bounded memory
            cursor.itersize = 5000
            cursor.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "  # noqa: S608
                f"FROM {place.schema}.callcraft_events ORDER BY notification_id"
            )
            count = 0
            while batch := cursor.fetchmany(5000):
                count += len(batch)
            return count

    return read_postgres


def library_log_read(app: Application[Any], page: int = 5000) -> Callable[[], int]:
    """Read the log through the library and decode every event (what a rebuild starts from)."""

    def run() -> int:
        count = 0
        start = 1
        while True:
            notifications = app.recorder.select_notifications(start, page)
            if not notifications:
                return count
            for notification in notifications:
                app.mapper.to_domain_event(notification)
                count += 1
            start = notifications[-1].id + 1

    return run
