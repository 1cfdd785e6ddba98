"""The few reads every request makes, on a connection each thread keeps (SQLite files).

A signed-in page asks for its session, the read models' version and the log's last id: three
indexed reads the database answers in microseconds. Checking a connection out of
SQLAlchemy's pool and resetting it on return costs several times that, so for a SQLite file
each thread keeps one plain connection of its own for these (in autocommit mode, so it never
holds a snapshot or a lock between reads; WAL mode, so it never waits for a writer). Any
other database — or an in-memory SQLite one, which a second connection would not see — is
read through the pool as before.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from projections.prepared import Prepared


def sqlite_file(engine: Engine) -> str | None:
    """The file ``engine`` opens, when it is a SQLite file (not in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class HeldConnections:
    """One connection per thread, opened by ``connect`` on first use; a connection that
    fails is closed and forgotten, so the next read opens a new one."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._local = threading.local()

    def run(self, use: Callable[[Any], Any]) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        try:
            return use(connection)
        except Exception:
            self._local.connection = None
            connection.close()
            raise


class HotReads:
    """Prepared statements on the read models: on a held connection for a SQLite file, on a
    pooled connection otherwise."""

    def __init__(self, engine: Engine) -> None:
        # Weakly: a HotReads is kept per engine and must not keep a disposed engine alive.
        self._engine = weakref.ref(engine)
        self.dialect = engine.dialect
        self._held: HeldConnections | None = None
        if sqlite_file(engine) is not None:
            # A connection of the engine's own, detached from its pool: the engine's
            # connect-time settings (WAL, foreign keys) apply to it as to every other.
            self._held = HeldConnections(self._detached)

    @property
    def engine(self) -> Engine:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine these reads belong to is gone")
        return engine

    def _detached(self) -> Any:
        pooled = self.engine.raw_connection()
        pooled.detach()
        connection = pooled.dbapi_connection
        if isinstance(connection, sqlite3.Connection):
            connection.isolation_level = None  # autocommit: no snapshot held between reads
        return connection

    def rows(self, statement: Prepared, **values: Any) -> list[tuple[Any, ...]]:
        if self._held is None:
            with self.engine.connect() as connection:
                return statement.rows(connection, **values)
        dialect = self.dialect
        found: list[tuple[Any, ...]] = self._held.run(
            lambda connection: statement.rows_on(connection, dialect, **values)
        )
        return found


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, HotReads] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def hot_reads(engine: Engine) -> HotReads:
    """The engine's ``HotReads`` (one per engine, forgotten with it)."""
    with _LOCK:
        found = _BY_ENGINE.get(engine)
        if found is None:
            found = _BY_ENGINE[engine] = HotReads(engine)
        return found


def log_top_reader(path: str, statement: str) -> Callable[[], int]:
    """``top()``: the event store's last notification id, read with ``statement`` (the
    recorder's own) on a connection each thread keeps to the SQLite file ``path`` (in
    autocommit mode; it only ever runs that one SELECT)."""

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)

    held = HeldConnections(connect)

    def read(connection: sqlite3.Connection) -> int:
        row = connection.execute(statement).fetchone()
        return int(row[0] or 0) if row else 0

    def top() -> int:
        found: int = held.run(read)
        return found

    return top
