"""The replay check: rebuild every read model from the log into a scratch database and
compare it, table by table and row by row, with the live read models.

Both sides are compared at ONE log position: the live read models are read in one consistent
snapshot (a read transaction on SQLite's WAL, REPEATABLE READ on PostgreSQL) whose tracking
position is read first; the scratch rebuild stops at exactly that notification id. So a
running app, whose projector keeps moving, never produces a false difference.

Memory stays flat: each table is read from both sides in primary-key order, streamed in
chunks, and merged like two sorted files; only the differences leave this module.
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


@contextmanager
def consistent_read(engine: Engine) -> Iterator[Connection]:
    """A connection whose every read sees one snapshot of the database (and never writes)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
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


def compare_read_models(
    live: Connection,
    replayed: Connection,
    tables: Sequence[Table],
    progress: Counted | None = None,
) -> Iterator[Difference]:
    """Every difference between two sets of read models, table by table."""
    total = sum(_count(live, t) + _count(replayed, t) for t in tables)
    done = 0

    def on_row(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None and (done % CHUNK < n or done == total):
            progress(done, total)

    if progress is not None:
        progress(0, total)
    for table in tables:
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

    with consistent_read(live_engine) as live:
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
            for difference in compare_read_models(live, replayed, tables, counted):
                found += 1
                on_difference(difference)
    return ReplaySummary(
        position=position, tables=len(tables), rows_compared=rows, differences=found
    )
