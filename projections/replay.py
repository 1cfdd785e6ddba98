"""The replay check: rebuild every read model from the log into a scratch database and
compare it, table by table and row by row, with the live read models.

Both sides are compared at ONE log position: the live read models are read in one consistent
snapshot (a read transaction on SQLite's WAL, REPEATABLE READ on PostgreSQL) whose tracking
position is read first; the scratch rebuild stops at exactly that notification id. So a
running app, whose projector keeps moving, never produces a false difference.

Each table is first compared inside the database, set-based (:func:`same_rows`): on SQLite the
scratch file is attached to the live snapshot's connection and one ``EXCEPT`` query finds any
row that differs; on PostgreSQL each side sums a 128-bit digest of its rows in its own snapshot.
Only a table found to differ is then read from both sides in primary-key order, streamed in
chunks, and merged like two sorted files to itemise its differences, so memory stays flat and
only the differences leave this module.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Dialect,
    Engine,
    String,
    Table,
    func,
    inspect,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

import projections.tokens  # noqa: F401 - registers api_tokens in the read models' metadata
from domain.application import Callcraft
from projections.projector import Progress
from projections.rebuild import rebuild
from projections.tables import metadata, tracking

CHUNK = 1000
DifferenceKind = Literal["changed", "missing", "extra"]
Counted = Callable[[int, int], None]
"""Called with (rows compared so far, rows to compare in all)."""


@dataclass(frozen=True)
class Difference:
    """One way the live read models differ from the replay.

    ``changed``: the row exists on both sides and ``column`` differs; ``missing``: the replay
    has the row and the live read models do not; ``extra``: the live read models have a row
    the replay does not.
    """

    table: str
    key: dict[str, Any]
    kind: DifferenceKind
    column: str | None = None
    live: Any = None
    replayed: Any = None

    def key_text(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.key.items())

    def describe(self) -> str:
        where = f"{self.table} ({self.key_text()})"
        if self.kind == "missing":
            return f"{where}: missing from the live read models (the replay has it)"
        if self.kind == "extra":
            return f"{where}: an extra row in the live read models (the replay has none)"
        return f"{where}: {self.column} is {shown(self.live)} live, {shown(self.replayed)} replayed"


@dataclass(frozen=True)
class ReplaySummary:
    position: int  # the log position both sides were compared at
    tables: int
    rows_compared: int
    differences: int

    @property
    def identical(self) -> bool:
        return self.differences == 0


def shown(value: Any) -> str:
    """A value as the report prints it (JSON-like: strings quoted, None as null)."""
    return json.dumps(value, default=str, ensure_ascii=False)


def read_model_tables(excluded: Sequence[str] = ()) -> list[Table]:
    """Every read-model table, in dependency order, but those named in ``excluded``."""
    return [t for t in metadata.sorted_tables if t.name not in excluded]


# ------------------------------------------------------------------------- one position


REPLAYED = "replayed"
"""The schema name the scratch SQLite file is attached under, on the live connection."""


@contextmanager
def consistent_read(engine: Engine, attach: str | None = None) -> Iterator[Connection]:
    """A connection whose every read sees one snapshot of the database (and never writes).

    SQLite: ``attach`` names a database file attached as ``replayed`` before the snapshot
    begins (SQLite attaches nothing inside a transaction); its own snapshot begins when it is
    first read, so what was committed to it meanwhile is seen."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            if attach is not None:
                connection.exec_driver_sql(f"ATTACH DATABASE ? AS {REPLAYED}", (attach,))
            # pysqlite opens no transaction for a SELECT: open one, so that WAL pins the
            # snapshot at the first read for as long as it lasts.
            connection.exec_driver_sql("BEGIN")
        else:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield connection
        finally:
            connection.rollback()
            if attach is not None and engine.dialect.name == "sqlite":
                # The connection goes back to the pool: it must not keep the scratch file.
                connection.exec_driver_sql(f"DETACH DATABASE {REPLAYED}")


def tracked_position(connection: Connection, name: str = "callcraft") -> int:
    """The log position the read models have reached (0 when they have none)."""
    if not inspect(connection).has_table(tracking.name):
        return 0
    found = connection.execute(
        select(tracking.c.position).where(tracking.c.projection == name)
    ).scalar_one_or_none()
    return int(found or 0)


# ----------------------------------------------------------------------------- compare


def _key_columns(table: Table) -> list[Column[Any]]:
    keys = list(table.primary_key.columns)
    if keys:
        return keys
    return [c for c in table.columns if not isinstance(c.type, JSON)]


def _ordered(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    """Key order that Python's comparison of the values reproduces (code points for text)."""
    if dialect == "postgresql" and isinstance(column.type, String):
        return column.collate("C")
    return column


class _Shape:
    """How one table is read: every column as the driver returns it (no type processing: the
    values are compared as stored, and fast), the key's positions, and how to show a value."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.columns = list(table.columns)
        names = [c.name for c in self.columns]
        keys = _key_columns(table)
        self.key_names = [k.name for k in keys]
        self.key_positions = [names.index(n) for n in self.key_names]
        query = select(*self.columns).order_by(*(_ordered(k, dialect.name) for k in keys))
        self.sql = str(query.compile(dialect=dialect))
        self._shown = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in self.columns
        ]

    def key(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(row[i] for i in self.key_positions)

    def value(self, position: int, raw: Any) -> Any:
        """The value as the application reads it (a UUID, an aware datetime, a list …)."""
        process = self._shown[position]
        if process is None or raw is None:
            return raw
        try:
            return process(raw)
        except (TypeError, ValueError):
            return raw

    def key_of(self, row: Sequence[Any]) -> dict[str, Any]:
        return {
            name: self.value(i, row[i])
            for name, i in zip(self.key_names, self.key_positions, strict=True)
        }


def _rows(connection: Connection, table: Table, shape: _Shape) -> Iterator[Sequence[Any]]:
    """Every row as the driver returns it, in key order, ``CHUNK`` rows at a time (a
    server-side cursor on PostgreSQL), inside the connection's transaction."""
    if not inspect(connection).has_table(table.name):
        return
    dbapi: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        cursor = dbapi.cursor(name=f"replay_{uuid.uuid4().hex}")
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(shape.sql)
        while batch := cursor.fetchmany(CHUNK):
            yield from batch
    finally:
        cursor.close()


def _count(connection: Connection, table: Table) -> int:
    if not inspect(connection).has_table(table.name):
        return 0
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def compare_table(
    table: Table,
    live: Connection,
    replayed: Connection,
    on_row: Callable[[int], None] = lambda _n: None,
) -> Iterator[Difference]:
    """The differences of one table, in key order (a merge of two sorted streams)."""
    shape = _Shape(table, live.dialect)
    key = shape.key
    live_rows, replay_rows = _rows(live, table, shape), _rows(replayed, table, shape)
    left, right = next(live_rows, None), next(replay_rows, None)
    while left is not None and right is not None:
        if left == right:  # the common case, decided in one tuple comparison
            left, right = next(live_rows, None), next(replay_rows, None)
            on_row(2)
            continue
        left_key, right_key = key(left), key(right)
        if left_key < right_key:
            yield Difference(table.name, shape.key_of(left), "extra")
            left = next(live_rows, None)
            on_row(1)
        elif right_key < left_key:
            yield Difference(table.name, shape.key_of(right), "missing")
            right = next(replay_rows, None)
            on_row(1)
        else:
            yield from _changed(table.name, shape, left, right)
            left, right = next(live_rows, None), next(replay_rows, None)
            on_row(2)
    while left is not None:
        yield Difference(table.name, shape.key_of(left), "extra")
        left = next(live_rows, None)
        on_row(1)
    while right is not None:
        yield Difference(table.name, shape.key_of(right), "missing")
        right = next(replay_rows, None)
        on_row(1)


def _changed(
    table: str, shape: _Shape, live: Sequence[Any], replayed: Sequence[Any]
) -> Iterator[Difference]:
    key = shape.key_of(live)
    for position, column in enumerate(shape.columns):
        if live[position] != replayed[position]:
            mine, theirs = (
                shape.value(position, live[position]),
                shape.value(position, replayed[position]),
            )
            yield Difference(table, key, "changed", column.name, mine, theirs)


# ------------------------------------------------------------------- set-based, in the database


def _names(table: Table, dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return ", ".join(quote(c.name) for c in table.columns)


def _sqlite_rows_differ(live: Connection, table: Table, rows: int) -> bool:
    """Whether ``main`` and ``replayed`` (the scratch file attached) differ in ``table``, both
    holding ``rows`` rows. Keyed tables join on the key (its index, no temporary B-tree) and
    count the pairs equal in every column: all ``rows`` of them, or something differs. A table
    without a key compares its rows with their multiplicity."""
    quote = live.dialect.identifier_preparer.quote
    name = quote(table.name)
    keys = [c.name for c in table.primary_key.columns]
    if keys:
        on = " AND ".join(f"a.{quote(k)} = b.{quote(k)}" for k in keys)
        same = [f"a.{quote(c.name)} IS b.{quote(c.name)}" for c in table.columns]
        query = (
            f"SELECT count(*) FROM main.{name} AS a JOIN {REPLAYED}.{name} AS b"  # noqa: S608
            f" ON {on} WHERE {' AND '.join(same)}"
        )
        return int(live.exec_driver_sql(query).scalar_one()) != rows
    columns = _names(table, live.dialect)
    grouped = [
        f"SELECT {columns}, count(*) FROM {schema}.{name} GROUP BY {columns}"  # noqa: S608
        for schema in ("main", REPLAYED)
    ]
    query = (
        f"SELECT EXISTS ({grouped[0]} EXCEPT {grouped[1]})"
        f" OR EXISTS ({grouped[1]} EXCEPT {grouped[0]})"
    )
    return bool(live.exec_driver_sql(query).scalar_one())


def _postgres_digest(connection: Connection, table: Table) -> tuple[int, int, int]:
    """(rows, sum of the first 64 bits, sum of the last 64 bits) of every row's MD5: an
    order-free digest of the table as a multiset, computed by the server in one scan."""
    columns = _names(table, connection.dialect)
    name = connection.dialect.identifier_preparer.quote(table.name)
    query = (
        "SELECT count(*), coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0),"  # noqa: S608
        " coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)"
        f" FROM (SELECT md5(ROW({columns})::text) AS h FROM {name}) AS hashed"
    )
    rows, first, last = connection.exec_driver_sql(query).one()
    return int(rows), int(first), int(last)


def same_rows(
    live: Connection,
    replayed: Connection,
    table: Table,
    counts: tuple[int, int] | None = None,
) -> tuple[bool, int]:
    """Whether ``table`` holds the same rows on both sides, decided inside the database, and
    how many rows both sides hold together. ``False`` means "compare it row by row" (a side
    lacks the table, or some row differs); the row-by-row merge then itemises it.
    ``counts``: each side's row count, when the caller has already read them.

    SQLite needs the scratch file attached to ``live`` as ``replayed``
    (:func:`consistent_read`); PostgreSQL reads each side in its own connection."""
    if not (inspect(live).has_table(table.name) and inspect(replayed).has_table(table.name)):
        return False, 0
    if live.dialect.name == "postgresql":
        mine, theirs = _postgres_digest(live, table), _postgres_digest(replayed, table)
        return mine == theirs, mine[0] + theirs[0]
    mine_count, theirs_count = counts or (_count(live, table), _count(replayed, table))
    if mine_count != theirs_count:
        return False, mine_count + theirs_count
    return not _sqlite_rows_differ(live, table, mine_count), mine_count + theirs_count


def compare_read_models(
    live: Connection,
    replayed: Connection,
    tables: Sequence[Table],
    progress: Counted | None = None,
    *,
    in_database: bool = False,
) -> Iterator[Difference]:
    """Every difference between two sets of read models, table by table.

    ``in_database``: decide first, set-based, which tables differ (:func:`same_rows`), and
    merge only those row by row."""
    counts = {t.name: (_count(live, t), _count(replayed, t)) for t in tables}
    total = sum(mine + theirs for mine, theirs in counts.values())
    done = 0

    def on_row(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None and (done % CHUNK < n or done == total):
            progress(done, total)

    if progress is not None:
        progress(0, total)
    for table in tables:
        if in_database:
            identical, rows = same_rows(live, replayed, table, counts[table.name])
            if identical:
                on_row(rows)
                continue
        yield from compare_table(table, live, replayed, on_row)
    if progress is not None:
        progress(done, max(total, done))


# ------------------------------------------------------------------------------ replay


def replay_check(
    app: Callcraft,
    live_engine: Engine,
    scratch_engine: Engine,
    *,
    timezone: tzinfo,
    on_difference: Callable[[Difference], None],
    excluded: Sequence[str] = (),
    batch_size: int = 5000,
    rebuilt: Progress | None = None,
    compared: Counted | None = None,
    name: str = "callcraft",
) -> ReplaySummary:
    """Rebuild into ``scratch_engine`` up to the live position and compare; every difference
    goes to ``on_difference``. Reads the log and the live read models; writes only scratch."""
    tables = read_model_tables(excluded)
    found = 0
    rows = 0

    def counted(done: int, total: int) -> None:
        nonlocal rows
        rows = done
        if compared is not None:
            compared(done, total)

    attach = None
    if scratch_engine.dialect.name == "sqlite" and live_engine.dialect.name == "sqlite":
        attach = scratch_engine.url.database
        if attach in (None, "", ":memory:"):
            attach = None  # nothing to attach: every table is merged row by row
    with consistent_read(live_engine, attach=attach) as live:
        position = tracked_position(live, name)
        rebuild(
            app,
            scratch_engine,
            timezone=timezone,
            batch_size=batch_size,
            progress=rebuilt,
            name=name,
            until=position,
        )
        with scratch_engine.connect() as replayed:
            compared_rows = compare_read_models(
                live,
                replayed,
                tables,
                counted,
                in_database=attach is not None or live.dialect.name == "postgresql",
            )
            for difference in compared_rows:
                found += 1
                on_difference(difference)
    return ReplaySummary(
        position=position, tables=len(tables), rows_compared=rows, differences=found
    )
