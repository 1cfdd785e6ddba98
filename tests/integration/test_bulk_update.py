"""``bulk_update`` leaves a table exactly as one ``UPDATE`` a row, run in order, leaves it,
and ``bulk_insert`` as one ``INSERT`` a row: the same rows, the same values, NULLs and every
column type of the read models kept (on PostgreSQL each is one statement for all the rows),
with keys that match no row, keys given twice, and any subset of the columns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from projections import bulk
from projections.asof_tables import asof_points
from projections.bulk import UnnestUpdate, _copy_type, bulk_delete, bulk_insert, bulk_update
from projections.event_log import event_log
from projections.schema import create_all
from projections.tables import (
    activity,
    agent_badges,
    agent_profiles,
    agents,
    board_entries,
    period_xp,
    recognitions,
    rulebooks,
    users,
)
from tests.conftest import Database
from tests.strategies import on_a_database

TABLES = [
    recognitions,
    activity,
    agent_badges,
    agent_profiles,
    agents,
    board_entries,
    period_xp,
    rulebooks,
    users,
    event_log,
]
"""Every read-model table with a primary key (the ones ``bulk_update`` is used on and more)."""
ZONES = [UTC, ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata"), timezone(timedelta(hours=-3))]

moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30)),
    st.sampled_from(ZONES),
)
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
text = st.text(characters, max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)


def _values(column: Any) -> st.SearchStrategy[Any]:
    sql_type = column.type
    if isinstance(sql_type, JSON):
        found: st.SearchStrategy[Any] = json_values.filter(lambda v: v is not None)
    elif isinstance(sql_type, BigInteger):
        found = st.integers(-(2**63), 2**63 - 1)
    elif isinstance(sql_type, Integer):
        found = st.integers(-(2**31), 2**31 - 1)
    elif isinstance(sql_type, String):
        found = st.text(characters, max_size=min(12, sql_type.length or 12))
    else:
        python = getattr(sql_type, "impl", sql_type).python_type
        found = {
            datetime: moments,
            date: st.dates(date(1900, 1, 1), date(2200, 12, 31)),
            UUID: st.uuids(),
            bool: st.booleans(),
        }[python]
    return st.none() | found if column.nullable else found


def _rows(table: Table) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({c.key: _values(c) for c in table.columns})


def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.key] for c in table.primary_key.columns)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Table, list[dict[str, Any]], list[dict[str, Any]]]:
    """A table, the rows in it, and the updates: each found by the primary key of a row
    in the table (sometimes of none, sometimes of the same row twice), setting a subset of
    the other columns (the same subset for every update, as ``bulk_update`` requires)."""
    table = draw(st.sampled_from(TABLES))
    unique = [c.key for c in table.columns if c.unique]  # each stored row its own value
    stored = draw(
        st.lists(
            _rows(table),
            max_size=6,
            unique_by=(lambda r: _key(table, r), *(lambda r, c=c: r[c] for c in unique)),
        )
    )
    keys = [c.key for c in table.primary_key.columns]
    others = [c.key for c in table.columns if c.key not in keys and c.key not in unique]
    columns = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
    targets = [_key(table, row) for row in stored]
    found = st.sampled_from(targets) if targets else st.nothing()
    updates = []
    for _ in range(draw(st.integers(1, 8))):
        target = draw(found | _rows(table).map(lambda r: _key(table, r)))
        values = draw(_rows(table))
        updates.append(
            {**{f"b_{k}": v for k, v in zip(keys, target, strict=True)}}
            | {c: values[c] for c in columns}
        )
    return table, stored, updates


def _one_update_a_row(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    keys = [c.key for c in table.primary_key.columns]
    for row in rows:
        where = and_(*(table.c[k] == bindparam(f"b_{k}") for k in keys))
        values = {c: v for c, v in row.items() if not c.startswith("b_")}
        connection.execute(update(table).where(where).values(values), row)


def _contents(connection: Connection, table: Table) -> list[tuple[Any, ...]]:
    rows = connection.execute(select(table)).all()
    return sorted((tuple(row) for row in rows), key=repr)


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    engine = database.read_engine()
    create_all(engine)
    yield engine
    engine.dispose()


def _left_by(engine: Engine, table: Table, stored: list[dict[str, Any]], apply: Any) -> Any:
    """What ``table`` holds after ``apply`` ran on ``stored``; nothing is kept."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            if stored:
                connection.execute(insert(table), stored)
            apply(connection)
            return _contents(connection, table)
        finally:
            transaction.rollback()


@on_a_database(40)
@given(case=cases())
def test_a_bulk_update_leaves_what_one_update_a_row_leaves(
    engine: Engine, case: tuple[Table, list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    table, stored, updates = case
    keys = tuple(c.key for c in table.primary_key.columns)
    expected = _left_by(engine, table, stored, lambda c: _one_update_a_row(c, table, updates))
    got = _left_by(engine, table, stored, lambda c: bulk_update(c, table, keys, updates))
    assert got == expected


def test_a_key_given_twice_is_sent_once_with_its_last_values() -> None:
    """Which of two rows of one key PostgreSQL's join would apply is not defined; the last
    one is what an update a row leaves, so only that one is sent."""
    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    keys = ("agent_id",)
    where = agent_profiles.c.agent_id == bindparam(
        "b_agent_id", type_=agent_profiles.c.agent_id.type
    )
    compiled = (
        update(agent_profiles)
        .where(where)
        .values(level=bindparam("level", type_=Integer()))
        .compile(dialect=dialect)
    )
    statement = UnnestUpdate(compiled, dialect, agent_profiles, keys, ("level",))
    first, second = UUID(int=1), UUID(int=2)
    rows = [
        {"b_agent_id": first, "level": 1},
        {"b_agent_id": second, "level": 2},
        {"b_agent_id": first, "level": 3},
    ]
    ids, levels = statement.arrays(rows)
    assert sorted(zip(ids, levels, strict=True)) == [(first, 3), (second, 2)]


@on_a_database(30)
@given(case=cases(), leave_defaults=st.booleans(), copied=st.booleans())
def test_a_bulk_insert_leaves_what_one_insert_a_row_leaves(
    engine: Engine,
    case: tuple[Table, list[dict[str, Any]], list[dict[str, Any]]],
    leave_defaults: bool,
    copied: bool,
) -> None:
    """``copied``: however few the rows, PostgreSQL receives them by ``COPY`` (binary), as
    it does a batch of ``COPY_FROM`` rows or more."""
    table, stored, _ = case
    if leave_defaults:  # the columns with a default left out, as the projections do
        defaulted = {c.key for c in table.columns if c.default is not None}
        stored = [{k: v for k, v in row.items() if k not in defaulted} for row in stored]

    def one_a_row(connection: Connection) -> None:
        for row in stored:
            connection.execute(insert(table).values(row))

    expected = _left_by(engine, table, [], one_a_row)
    with pytest.MonkeyPatch.context() as patch:
        if copied:
            patch.setattr(bulk, "COPY_FROM", 1)
        got = _left_by(engine, table, [], lambda c: bulk_insert(c, table, stored))
    assert got == expected


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@on_a_database(5)
@given(data=st.data())
def test_rows_sent_by_copy_are_stored_as_inserted_in_every_table(
    engine: Engine, table: Table, data: st.DataObject
) -> None:
    unique = [c.key for c in table.columns if c.unique]
    stored = data.draw(
        st.lists(
            _rows(table),
            min_size=1,
            max_size=4,
            unique_by=(lambda r: _key(table, r), *(lambda r, c=c: r[c] for c in unique)),
        )
    )
    expected = _left_by(engine, table, [], lambda c: c.execute(insert(table), stored))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "COPY_FROM", 1)
        got = _left_by(engine, table, [], lambda c: bulk_insert(c, table, stored))
    assert got == expected


@on_a_database(30)
@given(case=cases())
def test_a_bulk_delete_leaves_what_one_delete_a_key_leaves(
    engine: Engine, case: tuple[Table, list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    """Keys of stored rows, of none, and the same key twice."""
    table, stored, updates = case
    keys = tuple(c.key for c in table.primary_key.columns)
    gone = [{f"b_{k}": row[f"b_{k}"] for k in keys} for row in updates]
    expected = _left_by(engine, table, stored, lambda c: _one_delete_a_key(c, table, gone))
    got = _left_by(engine, table, stored, lambda c: bulk_delete(c, table, keys, gone))
    assert got == expected


asof_rows = st.fixed_dictionaries(
    {
        "agent_key": st.integers(1, 3),
        "day": st.integers(738_000, 738_002),
        "competencies": st.integers(0, 2**31 - 1),
        "points": st.integers(-(2**31), 2**31 - 1),
        "valid_from": st.integers(0, 2**63 - 1),
        "valid_until": st.integers(0, 2**63 - 1),
    }
)


@on_a_database(20)
@given(
    stored=st.lists(asof_rows, max_size=10),
    gone=st.lists(st.tuples(st.integers(1, 3), st.integers(738_000, 738_002)), max_size=5),
)
def test_a_bulk_delete_by_a_key_many_rows_share_deletes_each_of_them(
    engine: Engine, stored: list[dict[str, Any]], gone: list[tuple[int, int]]
) -> None:
    """As a live batch forgets an agent's points versions of a day (``asof_points`` has no
    primary key: one agent's day holds several versions)."""
    keys = ("agent_key", "day")
    rows = [{"b_agent_key": agent, "b_day": day} for agent, day in gone]
    expected = _left_by(
        engine, asof_points, stored, lambda c: _one_delete_a_key(c, asof_points, rows)
    )
    got = _left_by(engine, asof_points, stored, lambda c: bulk_delete(c, asof_points, keys, rows))
    assert got == expected


def _one_delete_a_key(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        where = and_(*(table.c[k[2:]] == bindparam(k) for k in row))
        connection.execute(delete(table).where(where), row)


def test_every_read_model_column_is_copied_in_binary() -> None:
    """A column type the binary ``COPY`` does not name would send its table in text."""
    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    for table in TABLES:
        for column in table.columns:
            assert _copy_type(column.type, dialect) is not None, (table.name, column.key)
