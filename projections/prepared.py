"""Hot read statements compiled once per dialect and run on the driver's cursor.

A leaderboard page runs a handful of indexed reads that the database answers in
microseconds; building, caching-by-key and compiling each Core statement cost ten times
that. A ``Prepared`` statement is compiled once per dialect; each run converts the
parameters and the result columns with the same processors SQLAlchemy would use, on the
connection (and inside the transaction) it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Dialect, Select

Processor = Callable[[Any], Any] | None


class _Compiled:
    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
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
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        self.converting = any(p is not None for p in self.results)


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
        processors = compiled.results
        return [
            tuple(
                p(v) if p is not None and v is not None else v
                for p, v in zip(processors, row, strict=True)
            )
            for row in fetched
        ]

    def scalar(self, connection: Connection, **values: Any) -> Any:
        found = self.rows(connection, **values)
        return found[0][0] if found else None
