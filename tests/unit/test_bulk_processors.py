"""Bulk statements send the driver exactly what SQLAlchemy's own bind processing would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, Dialect
from sqlalchemy.dialects import postgresql, sqlite

from projections.asof_tables import asof_points
from projections.bulk import BulkStatement, _scalar_defaults
from projections.event_log import event_log
from projections.tables import activity, agent_badges, period_xp, recognitions

DIALECTS: list[Dialect] = [sqlite.dialect(), postgresql.psycopg.dialect()]
ZONES = [UTC, ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata"), timezone(timedelta(hours=-3))]
TABLES = [recognitions, activity, event_log, agent_badges, period_xp, asof_points]

moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(ZONES),
)


def _value(column: Any) -> st.SearchStrategy[Any]:
    sql_type = column.type
    python = list if isinstance(sql_type, JSON) else getattr(sql_type, "impl", sql_type).python_type
    if python is datetime:
        found: st.SearchStrategy[Any] = moments
    elif python is date:
        found = st.dates()
    elif python is UUID:
        found = st.uuids()
    elif python is bool:
        found = st.booleans()
    elif python is int:
        found = st.integers(-(2**62), 2**62)
    elif python is str:
        found = st.text(max_size=20)
    else:  # JSON
        found = st.lists(st.text(max_size=5), max_size=3)
    return st.none() | found if column.nullable else found


@st.composite
def table_rows(draw: st.DrawFn) -> tuple[Any, list[dict[str, Any]]]:
    table = draw(st.sampled_from(TABLES))
    row = st.fixed_dictionaries({c.key: _value(c) for c in table.columns})
    return table, draw(st.lists(row, min_size=1, max_size=5))


def _standard(statement: BulkStatement, rows: list[dict[str, Any]]) -> list[Any]:
    """What SQLAlchemy's own processors make of ``rows`` (the previous implementation)."""
    params: list[Any] = []
    for row in rows:
        values = [row[name] for name in statement.names]
        for i, (_, process) in enumerate(statement.processors):
            if process is not None and values[i] is not None:
                values[i] = process(values[i])
        named = dict(zip(statement.names, values, strict=True))
        params.append(tuple(values) if statement.positional else named)
    return params


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@given(drawn=table_rows())
def test_the_parameters_equal_sqlalchemys_own_processing(
    dialect: Dialect, drawn: tuple[Any, list[dict[str, Any]]]
) -> None:
    table, rows = drawn
    compiled = table.insert().compile(dialect=dialect, column_keys=list(rows[0]))
    statement = BulkStatement(compiled, dialect, _scalar_defaults(table))
    assert _plain(statement.parameters(rows)) == _plain(_standard(statement, rows))


def _plain(params: list[Any]) -> list[Any]:
    """psycopg's ``Json`` wrappers compare by identity: compare what they wrap."""
    return [
        {k: getattr(v, "obj", v) for k, v in p.items()}
        if isinstance(p, dict)
        else tuple(getattr(v, "obj", v) for v in p)
        for p in params
    ]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_naive_datetime_and_a_non_boolean_are_still_refused(dialect: Dialect) -> None:
    compiled = asof_points.insert().compile(dialect=dialect)
    row = {
        "agent_key": 1,
        "day": 2,
        "competencies": 3,
        "points": 4,
        "valid_from": 5,
        "valid_until": 6,
    }
    BulkStatement(compiled, dialect, {}).parameters([row])
    compiled = agent_badges.insert().compile(dialect=dialect)
    statement = BulkStatement(compiled, dialect, {})
    badge = {
        "agent_id": UUID(int=1),
        "badge_key": "k",
        "tier": None,
        "progress": 0,
        "next_threshold": None,
        "evidence": [],
    }
    assert statement.parameters([{**badge, "earned_at": None}])
    with pytest.raises(ValueError, match="naive"):
        statement.parameters([{**badge, "earned_at": datetime(2026, 1, 1)}])
    compiled = activity.insert().compile(dialect=dialect)
    statement = BulkStatement(compiled, dialect, {})
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    entry = {
        "notification_id": 1,
        "occurred_at": moment,
        "recorded_at": moment,
        "agent_id": None,
        "team_id": None,
        "kind": "k",
        "summary": "s",
        "recording_id": None,
    }
    assert statement.parameters([{**entry, "retracted": True}])
    with pytest.raises(ValueError):
        statement.parameters([{**entry, "retracted": 2}])
