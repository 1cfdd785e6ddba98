"""Create and drop every read-model table (they can always be rebuilt from the log).

A rebuild loads the facts into tables without the indexes that only queries and the final
scoring need (:data:`LOADED_BEFORE_INDEXED`), then creates those indexes once, which costs less
than keeping them up to date row by row. Indexes the event handlers themselves look rows up by
stay in place throughout.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Index, inspect
from sqlalchemy.schema import CreateIndex

import projections.asof_tables  # noqa: F401 - registers the as-of tables
from projections.event_log import event_log
from projections.tables import (
    activity,
    agent_profiles,
    board_entries,
    metadata,
    period_xp,
    recognitions,
)

LOADED_BEFORE_INDEXED: tuple[Index, ...] = tuple(
    index
    for table in (recognitions, activity, event_log, agent_profiles, period_xp)
    for index in sorted(table.indexes, key=lambda i: str(i.name))
    if index.name != "ix_activity_recording"  # a retraction looks its activity up by it
)


RETIRED_INDEXES = ("ix_period_xp_board", "ix_board_entries_team_rank")
"""Indexes earlier versions made that nothing reads any more: read models built by them lose
these at the next start rather than paying for them on every write until a rebuild.
``ix_period_xp_board`` ordered ``period_xp`` by XP for the boards, which ``board_entries``
holds now; without it, PostgreSQL updates a ``period_xp`` row's XP in place (a HOT update:
no index written) — 10.7 ms rather than 16.7 ms for a live batch's 390 rows.
``ix_board_entries_team_rank`` kept each team's boards in XP order: every recording moved
its eight entries there too, where ``ix_board_entries_team`` finds a team's few entries and
they are sorted as read."""

ADDED_INDEXES: tuple[Index, ...] = tuple(
    index for index in board_entries.indexes if index.name == "ix_board_entries_team"
)
"""Indexes later versions declare on tables earlier ones made (``create_all`` of the metadata
makes only missing tables, with their indexes): made at the next start."""


def create_all(engine: Engine) -> None:
    """Create the read-model tables that do not exist yet and the added indexes; drop the
    retired indexes; measure read models never measured (built before statistics were
    gathered) or given an index since."""
    metadata.create_all(engine)
    with engine.begin() as connection:
        added = False
        for index in ADDED_INDEXES:
            table = str(index.table.name)  # type: ignore[union-attr]
            if index.name not in {i["name"] for i in inspect(connection).get_indexes(table)}:
                # IF NOT EXISTS: several processes may start on the same read models at once
                connection.execute(CreateIndex(index, if_not_exists=True))
                added = True
        for name in RETIRED_INDEXES:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        if added or never_measured(connection):
            gather_statistics(connection)


ROW_PER_EVENT = ("event_log", "activity", "asof_moments")
"""The tables of one row per event, keyed by its position (on SQLite, the rowid itself)."""


def earlier_layout(engine: Engine) -> list[str]:
    """The read-model tables still in the layout of a Callcraft before 2026-12-04, which
    works but writes more (``callcraft rebuild`` makes them anew): on SQLite a row-per-event
    table keyed by a ``BIGINT`` beside its rowid, and ``period_xp`` keyed window first (and,
    on SQLite, with a rowid)."""
    found: list[str] = []
    with engine.connect() as connection:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names())
        if connection.dialect.name == "sqlite":
            for table in (t for t in ROW_PER_EVENT if t in tables):
                types = {c["name"]: str(c["type"]) for c in inspector.get_columns(table)}
                if types.get("notification_id") != "INTEGER":
                    found.append(table)
        if "period_xp" in tables:
            key = inspector.get_pk_constraint("period_xp")["constrained_columns"]
            if key[:1] != ["agent_id"]:
                found.append("period_xp")
    return found


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


SQLITE_ANALYSIS_ROWS = 1_000
"""Index entries SQLite samples per index when it gathers statistics (``analysis_limit``):
0.58 s for the full-size read models (2.6 GB), against minutes for an exact count."""


def gather_statistics(connection: Connection) -> None:
    """Have the database measure the read models (``ANALYZE``), at the end of a rebuild or
    when they were never measured. Without statistics SQLite guesses: at full size it
    forgot an agent's points of a day through the index by day (5,500 entries a day) rather
    than the one by agent (about 100), and a live batch of 50 took 187 ms instead of 135."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_ROWS}")
        connection.exec_driver_sql("ANALYZE")
        return
    preparer = connection.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        connection.exec_driver_sql(f"ANALYZE {preparer.format_table(table)}")


def never_measured(connection: Connection) -> bool:
    """Whether the read models have no statistics yet (SQLite; PostgreSQL's autovacuum
    gathers them by itself)."""
    if connection.dialect.name != "sqlite":
        return False
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first()
    return found is None
