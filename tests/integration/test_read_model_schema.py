"""The read-model schema at start: what is missing is made, what is retired goes."""

from __future__ import annotations

from sqlalchemy import inspect

from projections.schema import RETIRED_INDEXES, create_all
from tests.conftest import Database


def test_an_index_an_earlier_version_made_is_dropped_at_the_next_start(
    database: Database,
) -> None:
    engine = database.read_engine()
    try:
        create_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                'CREATE INDEX ix_period_xp_board ON period_xp ("window", period_start, '
                "competency, xp DESC)"
            )
        assert "ix_period_xp_board" in _indexes(engine, "period_xp")
        create_all(engine)
        assert "ix_period_xp_board" not in _indexes(engine, "period_xp")
        assert "ix_period_xp_agent" in _indexes(engine, "period_xp")
        create_all(engine)  # and again, with nothing left to drop
    finally:
        engine.dispose()


def test_no_retired_index_is_still_declared() -> None:
    from projections.tables import metadata

    declared = {index.name for table in metadata.tables.values() for index in table.indexes}
    assert declared.isdisjoint(RETIRED_INDEXES)


def _indexes(engine, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}
