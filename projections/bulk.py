"""Many rows in one driver call: Core statements compiled once, executed with ``executemany``.

SQLAlchemy's per-row work for an ``executemany`` (building each parameter dict, looking up
each bind's processor) cost more than the database itself in a rebuild. Here a statement is
compiled once per dialect, the same bind processors SQLAlchemy would use are looked up once,
and the rows go straight to the driver's cursor, inside the connection's transaction. What
reaches the database is exactly what Core would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Dialect,
    String,
    Table,
    TypeDecorator,
    Uuid,
    and_,
    bindparam,
    delete,
    update,
)
from sqlalchemy.sql.compiler import Compiled

from projections.tables import UtcDateTime

Processor = Callable[[Any], Any] | None


def _sqlite_datetime(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """UtcDateTime on SQLite: the UTC wall time as SQLAlchemy's DATETIME writes it
    (``YYYY-MM-DD HH:MM:SS.ffffff``), in C. A moment in UTC already (the events' own) is
    its ISO text without the offset: one call, where converting it to UTC, dropping the
    zone and formatting it were three (a sixth of a rebuild's loading of the facts)."""

    def process(moment: Any) -> Any:
        if type(moment) is datetime:
            if moment.tzinfo is UTC:
                return moment.isoformat(" ", "microseconds")[:26]  # less "+00:00"
            if moment.utcoffset() is not None:
                return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return fallback(moment)  # a naive datetime or another type: let it say what

    return process


def _fast_processor(sql_type: Any, dialect: Dialect, standard: Processor) -> Processor:
    """An exact, faster equivalent of SQLAlchemy's ``standard`` bind processor for the types
    the read models write most, on the dialects whose processing is known; else ``standard``.
    Anything unusual (None is never passed) goes to ``standard``, which converts or refuses it
    as before. ``tests/unit/test_bulk_processors.py`` compares both over generated values."""
    if standard is None:
        return None
    sqlite = dialect.name == "sqlite"
    if isinstance(sql_type, UtcDateTime):
        if sqlite:
            return _sqlite_datetime(standard)
        return standard
    if isinstance(sql_type, Uuid) and sqlite and getattr(sql_type, "as_uuid", False):

        def uuid_hex(value: Any) -> Any:
            return value.hex if type(value) is UUID else standard(value)

        return uuid_hex
    if isinstance(sql_type, Boolean):
        coerced = {True: 1, False: 0} if not dialect.supports_native_boolean else None

        def boolean(value: Any) -> Any:
            if value is True or value is False:
                return value if coerced is None else coerced[value]
            return standard(value)

        return boolean
    if type(sql_type) is Date and sqlite:

        def day(value: Any) -> Any:
            return value.isoformat() if type(value) is date else standard(value)

        return day
    return standard


class BulkStatement:
    """One statement for one dialect; rows are mappings from bind name to Python value."""

    def __init__(
        self,
        compiled: Compiled,
        dialect: Dialect,
        defaults: Mapping[str, Any],
        *,
        positional: bool | None = None,
    ) -> None:
        """``positional``: the values as tuples in ``names`` order (the statements of our
        own text), rather than as the dialect's paramstyle says."""
        self.sql = compiled.string
        if positional is None:
            positional = dialect.paramstyle in ("qmark", "numeric", "format")
        self.positional = positional
        binds = getattr(compiled, "binds", {})
        names: list[str] = list(getattr(compiled, "positiontup", None) or binds)
        self.names = tuple(names)
        self.processors: tuple[tuple[str, Processor], ...] = tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )
        self.defaults = dict(defaults)
        self._fast = [
            _fast_processor(binds[name].type, dialect, processor)
            for name, processor in self.processors
        ]
        self._convert = _converter(self.names, self._fast, positional=self.positional)

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """What the driver is sent for ``rows``: tuples (or dicts) of converted values."""
        missing = [name for name in self.names if name not in rows[0]]
        if missing:  # columns left to their (scalar) defaults
            fill = {name: self.defaults[name] for name in missing}
            rows = [{**fill, **row} for row in rows]
        return self._convert(rows)

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        params = self.parameters(rows)
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(self.sql, params)
        finally:
            cursor.close()


def _converter(
    names: Sequence[str], processors: Sequence[Processor], *, positional: bool
) -> Callable[[Sequence[Mapping[str, Any]]], list[Any]]:
    """One generated function that turns rows into parameters: a comprehension building each
    row's tuple (or dict) in one expression, each value through its processor unless None —
    several times cheaper than a Python loop over the columns of every row."""
    namespace: dict[str, Any] = {}
    parts: list[str] = []
    for index, (name, processor) in enumerate(zip(names, processors, strict=True)):
        read = f"r[{name!r}]"
        if processor is None:
            value = read
        else:
            namespace[f"p{index}"] = processor
            value = f"(None if (v := {read}) is None else p{index}(v))"
        parts.append(value if positional else f"{name!r}: {value}")
    body = f"({', '.join(parts)},)" if positional else "{" + ", ".join(parts) + "}"
    source = f"def convert(rows):\n    return [{body} for r in rows]\n"
    exec(compile(source, "<bulk converter>", "exec"), namespace)  # noqa: S102 - our own text
    convert: Callable[[Sequence[Mapping[str, Any]]], list[Any]] = namespace["convert"]
    return convert


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


def _column_list(dialect: Dialect, table: Table, names: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    return ", ".join(quote(table.c[name].name) for name in names)


class CopyStatement(BulkStatement):
    """An insert sent with PostgreSQL's ``COPY ... FROM STDIN`` (the values processed as for
    the ``INSERT``): several times faster than ``executemany`` for many rows. The rows go in
    COPY's binary format, each column declared with its type (strings as ``text``, whose bytes
    the server checks and reads as the column's type, a too-long value refused as by the
    ``INSERT``): psycopg writes them in a quarter of the CPU of the text format
    (20,000 rows of seven columns: 9.5 ms against 35.5 ms). A column of a type psycopg does
    not know by name keeps the whole statement in text format."""

    def __init__(
        self, compiled: Compiled, dialect: Dialect, defaults: Mapping[str, Any], table: Table
    ) -> None:
        super().__init__(compiled, dialect, defaults, positional=True)
        binds = getattr(compiled, "binds", {})
        columns = _column_list(dialect, table, self.names)
        types = [_copy_type(binds[name].type, dialect) for name in self.names]
        self.types: list[str] | None = None if None in types else [str(t) for t in types]
        binary = "" if self.types is None else " (FORMAT BINARY)"
        target = dialect.identifier_preparer.format_table(table)
        self.sql = f"COPY {target} ({columns}) FROM STDIN{binary}"

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        params = self.parameters(rows)
        cursor: Any = connection.connection.cursor()
        try:
            with cursor.copy(self.sql) as copy:
                if self.types is not None:
                    copy.set_types(self.types)
                for values in params:
                    copy.write_row(values)
        finally:
            cursor.close()


def _copy_type(sql_type: Any, dialect: Dialect) -> str | None:
    """The type a column is declared with in a binary ``COPY`` (None: one that psycopg is
    not known to dump in binary here). JSON values arrive wrapped by SQLAlchemy's processor
    (``psycopg.types.json.Json``), which psycopg's JSON dumper encodes once."""
    name = _array_type(sql_type, dialect).lower()
    return name if name in _BINARY_COPY_TYPES else None


_BINARY_COPY_TYPES = frozenset(
    (
        "text",
        "json",
        "uuid",
        "integer",
        "bigint",
        "boolean",
        "date",
        "timestamp with time zone",
    )
)
"""The read models' column types written in binary ``COPY`` (every one: a test checks it)."""


class UnnestInsert(BulkStatement):
    """An insert of a few rows in one PostgreSQL statement, ``INSERT … SELECT * FROM
    unnest(arrays)``: one array a column, the values processed as for the ``INSERT``
    (``compiled``). Its text does not depend on the number of rows, so it stays prepared;
    measured against ``executemany`` for 20–80 rows, about half the CPU and less wall.
    The arrays go in psycopg's binary format (``%b``): its text format builds each array
    literal in Python, ten times slower (4 arrays of 400 values: 2.68 ms against 0.28 ms)."""

    def __init__(
        self, compiled: Compiled, dialect: Dialect, defaults: Mapping[str, Any], table: Table
    ) -> None:
        super().__init__(compiled, dialect, defaults, positional=True)
        binds = getattr(compiled, "binds", {})
        target = dialect.identifier_preparer.format_table(table)
        columns = _column_list(dialect, table, self.names)
        source = _arrays(dialect, binds, self.names)
        self.sql = f"INSERT INTO {target} ({columns}) SELECT * FROM {source}"  # noqa: S608

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        arrays = tuple(list(column) for column in zip(*self.parameters(rows), strict=True))
        _execute_once(connection, self.sql, arrays)


def _execute_once(connection: Connection, sql: str, parameters: tuple[list[Any], ...]) -> None:
    """One statement straight on the driver's cursor (psycopg), with its arrays."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
    finally:
        cursor.close()


def _is_psycopg(dialect: Dialect) -> bool:
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


COPY_FROM = 100
"""From this many rows, an insert on PostgreSQL (psycopg) is sent with ``COPY``; below, as
one :class:`UnnestInsert`."""


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``."""
    if not rows:
        return
    dialect = connection.dialect
    columns = tuple(rows[0])
    how = ("copy" if len(rows) >= COPY_FROM else "unnest") if _is_psycopg(dialect) else "insert"
    key = (how, _dialect_key(dialect), table.name, columns)
    statement = _CACHE.get(key)
    if statement is None:
        compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
        defaults = _scalar_defaults(table)
        statement = _CACHE[key] = (
            CopyStatement(compiled, dialect, defaults, table)
            if how == "copy"
            else UnnestInsert(compiled, dialect, defaults, table)
            if how == "unnest"
            else BulkStatement(compiled, dialect, defaults)
        )
    statement.execute(connection, rows)


def _array_type(sql_type: Any, dialect: Dialect) -> str:
    """The element type of the array a column's values are sent in: the column's own type
    (its implementation's, for a decorated one), but ``text`` for strings — an explicit cast
    to ``varchar(n)`` would cut a long value short, where assigning it to the column refuses
    it, as the row-by-row update did. The collation is the column's, applied on assignment."""
    impl = sql_type.dialect_impl(dialect)
    if isinstance(impl, TypeDecorator):
        impl = impl.impl_instance.dialect_impl(dialect)
    if isinstance(impl, String):
        return "text"
    return dialect.type_compiler_instance.process(impl)


def _arrays(dialect: Dialect, binds: Mapping[str, Any], names: Sequence[str]) -> str:
    """``unnest(…)`` of one binary array a bind of ``names``, typed as :func:`_array_type`."""
    arrays = ", ".join(f"%b::{_array_type(binds[name].type, dialect)}[]" for name in names)
    return f"unnest({arrays})"


def _matches(dialect: Dialect, table: Table, keys: Sequence[str]) -> str:
    """``table`` joined to the unnested arrays ``v`` on ``keys`` (their first arrays)."""
    quote = dialect.identifier_preparer.quote
    target = dialect.identifier_preparer.format_table(table)
    return " AND ".join(
        f"{target}.{quote(table.c[k].name)} = v.v{index}" for index, k in enumerate(keys)
    )


class _Unnested(BulkStatement):
    """A PostgreSQL statement joining ``table`` on ``keys`` to ``unnest(arrays)`` (``v``): one
    binary array a key, then one a column of ``columns``, their values processed as for the
    row-by-row statement (``compiled``). Its text does not depend on the number of rows, so
    psycopg prepares it once."""

    def __init__(
        self,
        compiled: Compiled,
        dialect: Dialect,
        table: Table,
        keys: tuple[str, ...],
        columns: tuple[str, ...] = (),
    ) -> None:
        super().__init__(compiled, dialect, {}, positional=True)
        binds = getattr(compiled, "binds", {})
        order = [f"b_{k}" for k in keys] + list(columns)
        position = {name: index for index, name in enumerate(self.names)}
        self._order = tuple(position[name] for name in order)
        self._keys = len(keys)
        self._target = dialect.identifier_preparer.format_table(table)
        aliases = ", ".join(f"v{index}" for index in range(len(order)))
        self._source = f"{_arrays(dialect, binds, order)} AS v({aliases})"
        self._matches = _matches(dialect, table, keys)

    def _ordered(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's processed values, keys first, in the arrays' order."""
        order = self._order
        return [tuple(values[i] for i in order) for values in self.parameters(rows)]


class UnnestUpdate(_Unnested):
    """An update of many rows in one PostgreSQL statement: each column's values are sent as
    one array, ``unnest`` turns the arrays back into rows, and the table is joined to them on
    its keys. A key given twice keeps its last row, as the row-by-row updates, run in order,
    would leave it."""

    def __init__(
        self,
        compiled: Compiled,
        dialect: Dialect,
        table: Table,
        keys: tuple[str, ...],
        columns: tuple[str, ...],
    ) -> None:
        super().__init__(compiled, dialect, table, keys, columns)
        quote = dialect.identifier_preparer.quote
        assignments = ", ".join(
            f"{quote(table.c[c].name)} = v.v{len(keys) + index}" for index, c in enumerate(columns)
        )
        self.sql = (
            f"UPDATE {self._target} SET {assignments} FROM {self._source} WHERE {self._matches}"  # noqa: S608
        )

    def arrays(self, rows: Sequence[Mapping[str, Any]]) -> tuple[list[Any], ...]:
        """The statement's parameters for ``rows``: one list of values a column, keys first."""
        ordered = self._ordered(rows)
        keys = self._keys
        last = {values[:keys]: values for values in ordered}
        if len(last) < len(ordered):
            ordered = list(last.values())
        return tuple(list(column) for column in zip(*ordered, strict=True))

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        _execute_once(connection, self.sql, self.arrays(rows))


def bulk_update(
    connection: Connection,
    table: Table,
    keys: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Update the rows of ``table`` found by ``keys`` (``b_<key>`` in each row) with the
    row's other values; every row has the same keys. On PostgreSQL (psycopg) this is one
    statement for all the rows (:class:`UnnestUpdate`), elsewhere one per row."""
    if not rows:
        return
    dialect = connection.dialect
    columns = tuple(name for name in rows[0] if not name.startswith("b_"))
    unnest = (
        _is_psycopg(dialect)
        and bool(columns)
        and not set(columns) & set(keys)  # a key that changes: only row after row says what
    )
    key = ("unnest" if unnest else "update", _dialect_key(dialect), table.name, keys, columns)
    statement = _CACHE.get(key)
    if statement is None:
        where = and_(*(table.c[k] == bindparam(f"b_{k}", type_=table.c[k].type) for k in keys))
        compiled = (
            update(table)
            .where(where)
            .values({c: bindparam(c, type_=table.c[c].type) for c in columns})
            .compile(dialect=dialect)
        )
        statement = _CACHE[key] = (
            UnnestUpdate(compiled, dialect, table, keys, columns)
            if unnest
            else BulkStatement(compiled, dialect, {})
        )
    statement.execute(connection, rows)


class UnnestDelete(_Unnested):
    """A delete of the rows matching many keys in one PostgreSQL statement, ``DELETE …
    USING unnest(arrays)``: one array a key column."""

    def __init__(
        self, compiled: Compiled, dialect: Dialect, table: Table, keys: tuple[str, ...]
    ) -> None:
        super().__init__(compiled, dialect, table, keys)
        self.sql = f"DELETE FROM {self._target} USING {self._source} WHERE {self._matches}"  # noqa: S608

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        ordered = self._ordered(rows)
        _execute_once(connection, self.sql, tuple(list(c) for c in zip(*ordered, strict=True)))


def bulk_delete(
    connection: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Delete the rows of ``table`` found by ``keys`` (``b_<key>`` in each row; a key may
    match many rows, or none). On PostgreSQL (psycopg) one statement for all the keys
    (:class:`UnnestDelete`), elsewhere one per key."""
    if not rows:
        return
    dialect = connection.dialect
    how = "unnest" if _is_psycopg(dialect) else "delete"
    key = (how, _dialect_key(dialect), table.name, keys)
    statement = _CACHE.get(key)
    if statement is None:
        where = and_(*(table.c[k] == bindparam(f"b_{k}", type_=table.c[k].type) for k in keys))
        compiled = delete(table).where(where).compile(dialect=dialect)
        statement = _CACHE[key] = (
            UnnestDelete(compiled, dialect, table, keys)
            if how == "unnest"
            else BulkStatement(compiled, dialect, {})
        )
    statement.execute(connection, rows)
