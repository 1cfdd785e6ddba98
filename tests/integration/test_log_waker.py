"""An idle projecting process learns of a new event: told by PostgreSQL, or by its poll.

The channel is the library's, named after the events table: every store of one PostgreSQL
database (the tests' schemas, other processes) shares it, so a wait may be woken by another
store's append — harmless for a projector (it finds nothing new), and allowed for here."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from api.log_waker import ListeningWaker, LogWaker, PollingWaker, waker_for
from tests.conftest import POSTGRES_URL, Database, _postgres_schema, require_postgres
from tests.reference_model import opened

LONG = 30.0  # far longer than a notification takes; a failing wait ends there


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    require_postgres()
    for schema in _postgres_schema():
        yield Database(
            kind="postgres", database_url=POSTGRES_URL, read_url=POSTGRES_URL, schema=schema
        )


@pytest.fixture
def listening(postgres_database: Database) -> Iterator[tuple[Any, threading.Event, LogWaker]]:
    """A PostgreSQL store's application, a stop event, and a waker listening on its log."""
    stop = threading.Event()
    with opened(postgres_database) as (app, _engine):
        waker = waker_for(app.recorder, stop)
        try:
            yield app, stop, waker
        finally:
            waker.close()


@pytest.mark.postgres
def test_on_postgresql_a_write_wakes_the_listening_projector(
    listening: tuple[Any, threading.Event, LogWaker],
) -> None:
    app, _stop, waker = listening
    assert isinstance(waker, ListeningWaker)
    app.form_team(name="Blue", formed_by="sup")
    assert waker.wait(LONG)  # told at once


@pytest.mark.postgres
def test_a_closed_listener_gives_its_connection_back_no_longer_listening(
    postgres_database: Database,
) -> None:
    with opened(postgres_database) as (app, _engine):
        waker = waker_for(app.recorder, threading.Event())
        assert isinstance(waker, ListeningWaker)
        connection = waker._connection  # back in the recorder's pool once closed
        waker.close()
        channels = connection.execute("SELECT pg_listening_channels()").fetchall()
        assert channels == []


def test_on_sqlite_the_projector_waits_its_poll_unless_told_to_stop(
    sqlite_database: Database,
) -> None:
    stop = threading.Event()
    with opened(sqlite_database) as (app, _engine):
        waker = waker_for(app.recorder, stop)
        assert isinstance(waker, PollingWaker)
        assert not waker.wait(0.01)
        stop.set()
        assert not waker.wait(LONG)  # returns at once once stopping
        waker.close()


@pytest.mark.postgres
def test_a_listening_wait_ends_soon_after_the_worker_is_told_to_stop(
    listening: tuple[Any, threading.Event, LogWaker],
) -> None:
    """A signal sets the stop event but does not end a wait on the socket."""
    _app, stop, waker = listening
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    while waker.wait(LONG):  # another store on this database appended (one channel)
        pass
    assert stop.is_set()
    assert time.monotonic() - started < LONG / 2  # not the whole interval
