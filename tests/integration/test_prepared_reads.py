"""Prepared reads (``projections.prepared``) return exactly what SQLAlchemy's own execution
of the same statement returns: the same rows, the same values of the same types, on every
database — with lists of any length padded to their size bucket."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, insert, literal, select

from projections import scoped
from projections.prepared import Prepared, Sized, bucket, each
from projections.schema import create_all
from projections.scoring import FACT_COLUMNS
from projections.tables import agents, period_xp, recognitions
from tests.conftest import Database
from tests.integration.test_projections import PROPERTY
from tests.reference_model import fresh_database

r = recognitions.c
AGENTS = [UUID(int=n) for n in range(1, 6)]
START = datetime(2024, 3, 1, 8, tzinfo=UTC)

moments = st.integers(0, 10 * 24 * 3600 * 1_000_000).map(
    lambda us: START + timedelta(microseconds=us)
)
facts = st.fixed_dictionaries(
    {
        "recording_id": st.uuids(),
        "notification_id": st.integers(1, 10**12),
        "agent_id": st.sampled_from(AGENTS),
        "kind": st.sampled_from(["FeedbackGiven", "KudosGiven", "InitiativeTaken"]),
        "competencies": st.sampled_from(["communication", "teamwork;leadership"]),
        "occurred_at": moments,
        "rating": st.none() | st.integers(1, 5),
        "feedback_kind": st.none() | st.sampled_from(["praise", "coaching"]),
        "score": st.none() | st.integers(0, 100),
        "from_agent": st.none() | st.sampled_from(AGENTS),
        "retracted": st.booleans(),
        "points": st.integers(0, 500),
        "rulebook_version": st.none() | st.integers(1, 3),
        "rule": st.none() | st.text("abc ×“”", max_size=20),
        "capped": st.booleans(),
    }
)


def _row(fact: dict[str, Any]) -> dict[str, Any]:
    return {
        **fact,
        "local_day": fact["occurred_at"].date(),
        "recorded_at": fact["occurred_at"],
        "recorded_by": "sup",
        "note": "",
    }


def _same(connection: Connection, sized: Sized, items: list[tuple[Any, ...]]) -> None:
    """``sized`` over ``items`` returns what SQLAlchemy returns for the padded statement."""
    size = bucket(len(items))
    padded = [*items, *([items[-1]] * (size - len(items)))]
    values = {f"v{j}_{k}": x for j, item in enumerate(padded) for k, x in enumerate(item)}
    statement = sized.prepared(size).statement
    expected = [tuple(row) for row in connection.execute(statement, values)]
    found = sized.rows(connection, items)
    key = repr
    assert sorted(found, key=key) == sorted(expected, key=key)
    for mine, theirs in zip(sorted(found, key=key), sorted(expected, key=key), strict=True):
        assert [type(v) for v in mine] == [type(v) for v in theirs]


LIVE_OF = Sized(lambda n: select(*FACT_COLUMNS).where(r.agent_id.in_(each(n, r.agent_id))))
WITH_LITERALS = Sized(
    lambda n: select(r.agent_id, r.occurred_at, literal(7), r.local_day).where(
        r.agent_id.in_(each(n, r.agent_id)), r.kind != literal("TrainingCompleted")
    )
)


@settings(PROPERTY, max_examples=25)
@given(
    rows=st.lists(facts, min_size=1, max_size=12, unique_by=lambda f: f["recording_id"]),
    wanted=st.lists(st.sampled_from(AGENTS), min_size=1, max_size=9),
    days=st.lists(st.integers(0, 10), min_size=1, max_size=5),
)
def test_prepared_reads_equal_sqlalchemys(
    database: Database, rows: list[dict[str, Any]], wanted: list[UUID], days: list[int]
) -> None:
    with fresh_database(database.kind) as db:
        engine = db.read_engine()
        try:
            create_all(engine)
            with engine.begin() as connection:
                connection.execute(insert(recognitions), [_row(f) for f in rows])
                connection.execute(
                    insert(agents),
                    [
                        {
                            "agent_id": a,
                            "handle": f"h{i}",
                            "name": f"Agent {i}",
                            "team_id": a,
                            "enrolled_at": START,
                            "departed_at": START if i % 2 else None,
                        }
                        for i, a in enumerate(AGENTS)
                    ],
                )
                connection.execute(
                    insert(period_xp),
                    [
                        {
                            "window": "week",
                            "period_start": date(2024, 3, 4),
                            "competency": "*",
                            "agent_id": a,
                            "xp": 10 * i,
                        }
                        for i, a in enumerate(AGENTS)
                    ],
                )
                agents_in = [(a,) for a in wanted]
                pairs = [
                    (a, (START + timedelta(days=d)).date())
                    for a, d in zip(wanted, days, strict=False)
                ]
                for sized in (LIVE_OF, WITH_LITERALS, scoped._LIVE_FACTS, scoped._DIRECTORY):
                    _same(connection, sized, agents_in)
                _same(connection, scoped._ON_DAYS, pairs)
                _same(connection, scoped._GIVERS, pairs)
                weeks = [("week", date(2024, 3, 4), a) for a in wanted]
                _same(connection, scoped._PERIODS, weeks)
        finally:
            engine.dispose()


def test_a_statement_with_an_expanding_in_is_refused_rather_than_prepared() -> None:
    """An IN over a Python list is compiled anew for each list: it cannot be kept compiled."""
    engine = create_engine("sqlite://")
    create_all(engine)
    statement = Prepared(select(agents.c.agent_id).where(agents.c.agent_id.in_([UUID(int=1)])))
    with engine.connect() as connection, pytest.raises(ValueError, match="expanding"):
        statement.rows(connection)
    engine.dispose()
