"""The SQLite read models' engine: WAL at NORMAL sync (rebuildable from the log), and its
WAL copied back into the file only once it is large, not after every live batch."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, text

from api.bootstrap import (
    READ_MODEL_CHECKPOINT_PAGES,
    READ_MODEL_RANDOM_PAGE_COST,
    build_read_engine,
)
from tests.conftest import POSTGRES_URL, require_postgres

metadata = MetaData()
blobs = Table("blobs", metadata, Column("k", Integer, primary_key=True), Column("v", LargeBinary))


def test_a_batch_of_a_few_thousand_pages_does_not_checkpoint_the_read_models(
    tmp_path: Path,
) -> None:
    engine = build_read_engine(f"sqlite:///{tmp_path / 'read.db'}")
    metadata.create_all(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        page = int(connection.execute(text("PRAGMA page_size")).scalar() or 0)
    pages = 3_000  # SQLite's default would have checkpointed after 1,000
    assert pages < READ_MODEL_CHECKPOINT_PAGES
    for first in range(0, pages, 500):  # a few commits, as live batches make them
        with engine.begin() as connection:
            connection.execute(
                blobs.insert(), [{"k": k, "v": bytes(page)} for k in range(first, first + 500)]
            )
    wal = tmp_path / "read.db-wal"
    assert wal.stat().st_size > pages * page  # every page still in the WAL, none reset
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_read_model_sessions_plan_for_solid_state_storage() -> None:
    """Else a batch's one-statement updates scan and hash the whole table (the planner's
    default page costs are a spinning disk's)."""
    require_postgres()
    engine = build_read_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            cost = connection.execute(text("SHOW random_page_cost")).scalar()
        assert float(str(cost)) == READ_MODEL_RANDOM_PAGE_COST
    finally:
        engine.dispose()
