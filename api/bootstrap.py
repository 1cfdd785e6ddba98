"""Wiring: build the event-sourced application and the read-model engine from settings."""

from __future__ import annotations

import time

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from api.settings import Settings
from api.store import event_store_env
from domain.application import Callcraft

STARTUP_ATTEMPTS = 5


def build_application(settings: Settings, *, schema: str | None = None) -> Callcraft:
    """The event-sourced application on the configured store.

    On PostgreSQL the library (re)creates its tables and functions at start-up; when a web
    process and a projection worker start at the same moment, one of them may see
    "tuple concurrently updated". That is harmless, so it tries again.
    """
    env = event_store_env(settings.database_url, schema=schema, locked_down=settings.db_locked_down)
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            return Callcraft(env=env, timezone=settings.zone)
        except PersistenceError as error:
            if "concurrently" not in str(error) or attempt == STARTUP_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def sqlalchemy_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


READ_MODEL_CHECKPOINT_PAGES = 40_000
"""SQLite copies the read models' WAL back into their file (and syncs it) once it holds this
many pages (160 MB), rather than at SQLite's 1,000: one live batch of 50 writes 2,000 pages at
the quick scale and about 4,000 at the full size (10,000 agents: the leaderboard indexes are
updated all over), so at 1,000 every batch's commit checkpointed and waited for the sync.
What a power cut may lose is still the last transactions, which the projector applies again
from the log. A projecting process also checkpoints after each batch in a thread of its own
(:mod:`projections.wal_checkpointer`), which restarts the WAL once it is
:data:`~projections.wal_checkpointer.RESTART_PAGES` long (a RESTART checkpoint at twice
that), so this threshold stays above both: it is only the safety net (and the rebuild's)."""


READ_MODEL_RANDOM_PAGE_COST = 1.1
"""PostgreSQL's planner cost of a page read out of order, for the read models' sessions: 1.1,
the usual setting for solid-state storage, rather than the default 4 (spinning disks). At 4
a live batch's one-statement updates (a few hundred keys joined to a table of tens of
thousands of rows) were planned as a scan and hash of the whole table — 6 of their 9.6 ms for
``period_xp`` at the benchmark's quick scale — where an index probe a key takes 0.003 ms."""


def build_read_engine(url: str, *, schema: str | None = None) -> Engine:
    """The read models' engine. SQLite: WAL, NORMAL sync (read models can always be
    rebuilt from the log), a busy timeout. PostgreSQL: the planner's page costs of solid-state
    storage (:data:`READ_MODEL_RANDOM_PAGE_COST`), an optional schema on the search path."""
    url = sqlalchemy_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={READ_MODEL_CHECKPOINT_PAGES}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    options = f"-crandom_page_cost={READ_MODEL_RANDOM_PAGE_COST}"
    if schema:
        options += f" -csearch_path={schema}"
    connect_args = {"options": options}
    return create_engine(url, connect_args=connect_args, pool_size=5, max_overflow=10)


def build_event_store_engine(database_url: str, *, schema: str | None = None) -> Engine:
    """An SQLAlchemy engine on the EVENT STORE's database, for the hash chain's tables.

    SQLite keeps its default (durable) synchronous setting here: the chain is evidence."""
    url = sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, connect_args=connect_args, pool_size=2, max_overflow=4)
