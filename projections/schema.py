"""Create and drop every read-model table (they can always be rebuilt from the log).

A rebuild loads the facts into tables without the indexes that only queries and the final
scoring need (:data:`LOADED_BEFORE_INDEXED`), then creates those indexes once, which costs less
than keeping them up to date row by row. Indexes the event handlers themselves look rows up by
stay in place throughout.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Index

import projections.asof_tables  # noqa: F401 - registers the as-of tables
from projections.event_log import event_log
from projections.tables import activity, agent_profiles, metadata, period_xp, recognitions

LOADED_BEFORE_INDEXED: tuple[Index, ...] = tuple(
    index
    for table in (recognitions, activity, event_log, agent_profiles, period_xp)
    for index in sorted(table.indexes, key=lambda i: str(i.name))
    if index.name != "ix_activity_recording"  # a retraction looks its activity up by it
)


def create_all(engine: Engine) -> None:
    """Create the read-model tables that do not exist yet."""
    metadata.create_all(engine)


def drop_all(engine: Engine) -> None:
    """Drop every read-model table, tracking included."""
    metadata.drop_all(engine)


def drop_deferred_indexes(engine: Engine) -> None:
    """Drop the indexes a rebuild creates after loading (on fresh, empty tables)."""
    with engine.begin() as connection:
        for index in LOADED_BEFORE_INDEXED:
            index.drop(connection, checkfirst=True)


def create_deferred_indexes(
    connection: Connection, tables: tuple[object, ...] | None = None
) -> None:
    """Create the deferred indexes of ``tables`` (of every table: None) that are missing."""
    for index in LOADED_BEFORE_INDEXED:
        if tables is None or index.table in tables:
            index.create(connection, checkfirst=True)
