"""Many rows in one driver call: Core statements compiled once, executed with ``executemany``.

SQLAlchemy's per-row work for an ``executemany`` (building each parameter dict, looking up
each bind's processor) cost more than the database itself in a rebuild. Here a statement is
compiled once per dialect, the same bind processors SQLAlchemy would use are looked up once,
and the rows go straight to the driver's cursor, inside the connection's transaction. What
reaches the database is exactly what Core would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, and_, bindparam, delete, update
from sqlalchemy.sql.compiler import Compiled

Processor = Callable[[Any], Any] | None


class BulkStatement:
    """One statement for one dialect; rows are mappings from bind name to Python value."""

    def __init__(self, compiled: Compiled, dialect: Dialect, defaults: Mapping[str, Any]) -> None:
        self.sql = compiled.string
        self.positional = dialect.paramstyle in ("qmark", "numeric", "format")
        binds = getattr(compiled, "binds", {})
        names: list[str] = list(getattr(compiled, "positiontup", None) or binds)
        self.names = tuple(names)
        self.processors: tuple[tuple[str, Processor], ...] = tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )
        self.defaults = dict(defaults)

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        missing = [name for name in self.names if name not in rows[0]]
        if missing:  # columns left to their (scalar) defaults
            fill = {name: self.defaults[name] for name in missing}
            rows = [{**fill, **row} for row in rows]
        pick = itemgetter(*self.names)
        converting = [(i, p) for i, (_, p) in enumerate(self.processors) if p is not None]
        params: list[Any] = []
        for row in rows:
            picked = pick(row)
            values = list(picked) if len(self.names) > 1 else [picked]
            for i, process in converting:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            params.append(values)
        if not self.positional:
            params = [dict(zip(self.names, values, strict=True)) for values in params]
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(self.sql, params)
        finally:
            cursor.close()


_CACHE: dict[tuple[Any, ...], BulkStatement] = {}


def _dialect_key(dialect: Dialect) -> tuple[str, str, str]:
    return (dialect.name, dialect.driver, dialect.paramstyle)


def _scalar_defaults(table: Table) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            defaults[column.key] = getattr(default, "arg", None)
    return defaults


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``."""
    if not rows:
        return
    dialect = connection.dialect
    columns = tuple(rows[0])
    key = ("insert", _dialect_key(dialect), table.name, columns)
    statement = _CACHE.get(key)
    if statement is None:
        compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
        statement = _CACHE[key] = BulkStatement(compiled, dialect, _scalar_defaults(table))
    statement.execute(connection, rows)


def bulk_update(
    connection: Connection,
    table: Table,
    keys: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Update the rows of ``table`` found by ``keys`` (``b_<key>`` in each row) with the
    row's other values; every row has the same keys."""
    if not rows:
        return
    dialect = connection.dialect
    columns = tuple(name for name in rows[0] if not name.startswith("b_"))
    key = ("update", _dialect_key(dialect), table.name, keys, columns)
    statement = _CACHE.get(key)
    if statement is None:
        where = and_(*(table.c[k] == bindparam(f"b_{k}", type_=table.c[k].type) for k in keys))
        compiled = (
            update(table)
            .where(where)
            .values({c: bindparam(c, type_=table.c[c].type) for c in columns})
            .compile(dialect=dialect)
        )
        statement = _CACHE[key] = BulkStatement(compiled, dialect, {})
    statement.execute(connection, rows)


def bulk_delete(
    connection: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Delete the rows of ``table`` found by ``keys`` (``b_<key>`` in each row)."""
    if not rows:
        return
    dialect = connection.dialect
    key = ("delete", _dialect_key(dialect), table.name, keys)
    statement = _CACHE.get(key)
    if statement is None:
        where = and_(*(table.c[k] == bindparam(f"b_{k}", type_=table.c[k].type) for k in keys))
        compiled = delete(table).where(where).compile(dialect=dialect)
        statement = _CACHE[key] = BulkStatement(compiled, dialect, {})
    statement.execute(connection, rows)
