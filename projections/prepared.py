"""Hot read statements compiled once per dialect and run on the driver's cursor.

A leaderboard page runs a handful of indexed reads that the database answers in
microseconds; building, caching-by-key and compiling each Core statement cost ten times
that. A ``Prepared`` statement is compiled once per dialect; each run converts the
parameters and the result columns with the same processors SQLAlchemy would use, on the
connection (and inside the transaction) it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Dialect,
    Select,
    Uuid,
    bindparam,
)

from projections.tables import UtcDateTime

Processor = Callable[[Any], Any] | None


class _Compiled:
    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql:  # an IN over a Python list: bind each value instead
            raise ValueError(
                f"a statement with expanding parameters cannot be prepared: {self.sql}"
            )
        binds: dict[str, Any] = getattr(compiled, "binds", {})
        self.names: tuple[str, ...] = tuple(getattr(compiled, "positiontup", None) or binds)
        self.positional = dialect.paramstyle in ("qmark", "numeric", "format")
        self.binds = tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.names
        )
        # Literals in the statement (a coalesce's default) keep the value they were given.
        self.fixed = {name: binds[name].value for name in self.names if not binds[name].required}
        self.results: tuple[Processor, ...] = tuple(
            _fast_result(column.type, dialect, column.type.dialect_impl(dialect))
            for column in statement.selected_columns
        )
        self.converting = any(p is not None for p in self.results)
        self.convert = _result_converter(self.results)


def _fast_result(sql_type: Any, dialect: Dialect, impl: Any) -> Processor:
    """The result processor SQLAlchemy would use for ``sql_type``, or an exact equivalent
    with fewer calls for the types the read models read most on SQLite (a UUID from its hex
    text, an aware UTC datetime from its ISO text): the same functions, called directly."""
    standard: Processor = impl.result_processor(dialect, None)
    if standard is None or dialect.name != "sqlite":
        return standard
    if isinstance(sql_type, Uuid) and getattr(sql_type, "as_uuid", False):
        return UUID  # Uuid's processor on SQLite: UUID(value) for any value but None
    if isinstance(sql_type, UtcDateTime):
        from_text = datetime.fromisoformat  # SQLite's DATETIME processor

        def moment(value: Any) -> Any:
            if type(value) is not str:
                return standard(value)
            found = from_text(value)
            return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)

        return moment
    return standard


def _result_converter(
    processors: Sequence[Processor],
) -> Callable[[Sequence[Sequence[Any]]], list[tuple[Any, ...]]]:
    """One generated function that turns fetched rows into result tuples, each value
    through its column's processor unless None (as SQLAlchemy's result rows do)."""
    namespace: dict[str, Any] = {}
    parts: list[str] = []
    for index, processor in enumerate(processors):
        if processor is None:
            parts.append(f"r[{index}]")
        else:
            namespace[f"p{index}"] = processor
            parts.append(f"(None if (v := r[{index}]) is None else p{index}(v))")
    source = f"def convert(rows):\n    return [({', '.join(parts)},) for r in rows]\n"
    exec(compile(source, "<result converter>", "exec"), namespace)  # noqa: S102 - our own text
    convert: Callable[[Sequence[Sequence[Any]]], list[tuple[Any, ...]]] = namespace["convert"]
    return convert


class Prepared:
    """One SELECT with named ``bindparam``s; ``rows(connection, **values)``."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = _Compiled(self.statement, dialect)
        return found

    def rows(self, connection: Connection, **values: Any) -> list[tuple[Any, ...]]:
        return self.rows_on(connection.connection, connection.dialect, **values)

    def rows_on(
        self, dbapi_connection: Any, dialect: Dialect, **values: Any
    ) -> list[tuple[Any, ...]]:
        """:meth:`rows` on a driver connection of ``dialect`` (``projections.hot``)."""
        compiled = self._compiled(dialect)
        params: list[Any] = []
        for name, process in compiled.binds:
            value = values[name] if name in values else compiled.fixed[name]
            params.append(process(value) if process is not None and value is not None else value)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                compiled.sql,
                params if compiled.positional else dict(zip(compiled.names, params, strict=True)),
            )
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        if not compiled.converting:
            return [tuple(row) for row in fetched]
        return compiled.convert(fetched)

    def scalar(self, connection: Connection, **values: Any) -> Any:
        found = self.rows(connection, **values)
        return found[0][0] if found else None


def bucket(count: int) -> int:
    """The smallest power of two at least ``count`` (at least 1)."""
    size = 1
    while size < count:
        size *= 2
    return size


class Sized:
    """A SELECT over a list of values (``IN`` a list, ``OR`` of pairs), prepared once per
    list size bucket (powers of two) rather than built, cache-keyed and compiled per run.

    ``build(n)`` returns the statement for ``n`` items, each item's values bound as
    ``v{item}_{k}`` (see :func:`item_binds`). A shorter list is padded by repeating its last
    item, which changes no ``IN`` and no ``OR``.
    """

    def __init__(self, build: Callable[[int], Select[Any]]) -> None:
        self._build = build
        self._by_size: dict[int, Prepared] = {}

    def prepared(self, size: int) -> Prepared:
        found = self._by_size.get(size)
        if found is None:
            found = self._by_size[size] = Prepared(self._build(size))
        return found

    def rows(
        self, connection: Connection, items: Sequence[tuple[Any, ...]], **fixed: Any
    ) -> list[tuple[Any, ...]]:
        if not items:
            return []
        size = bucket(len(items))
        padded = [*items, *([items[-1]] * (size - len(items)))]
        values = {f"v{j}_{k}": x for j, item in enumerate(padded) for k, x in enumerate(item)}
        return self.prepared(size).rows(connection, **values, **fixed)


def item_binds(count: int, *columns: ColumnElement[Any]) -> list[list[BindParameter[Any]]]:
    """``count`` items of one bind per column each (``v{item}_{k}``, the column's type)."""
    return [
        [bindparam(f"v{j}_{k}", type_=column.type) for k, column in enumerate(columns)]
        for j in range(count)
    ]


def each(count: int, column: ColumnElement[Any]) -> list[BindParameter[Any]]:
    """``count`` binds for an ``IN`` over ``column`` (items of one value)."""
    return [binds[0] for binds in item_binds(count, column)]
