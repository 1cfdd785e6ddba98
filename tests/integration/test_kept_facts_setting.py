"""The bounds on a projector's memory — the facts it keeps between batches, its page cache —
come from the settings, and a projector refuses one out of range."""

from __future__ import annotations

from datetime import UTC

import pytest

from api.runtime import open_runtime
from api.settings import Settings
from projections.projector import Projector
from tests.conftest import Database


def test_the_runtime_projector_keeps_as_many_facts_as_the_setting_says(
    database: Database,
) -> None:
    settings = Settings(
        database_url=database.database_url,
        read_database_url=database.read_url,
        projector_kept_facts=1_234,
    )
    runtime = open_runtime(settings, schema=database.schema)
    try:
        assert runtime.projector.kept_bounds == (1_234, 308)
    finally:
        runtime.close()


def test_by_default_the_runtime_projector_keeps_a_million_facts(
    database: Database,
) -> None:
    settings = Settings(database_url=database.database_url, read_database_url=database.read_url)
    runtime = open_runtime(settings, schema=database.schema)
    try:
        assert runtime.projector.kept_bounds == (1_000_000, 250_000)
    finally:
        runtime.close()


@pytest.mark.parametrize(("option", "value"), [("kept_facts", -1), ("page_cache_mib", 0)])
def test_a_projector_refuses_a_bound_on_its_memory_out_of_range(
    database: Database, option: str, value: int
) -> None:
    settings = Settings(database_url=database.database_url, read_database_url=database.read_url)
    runtime = open_runtime(settings, schema=database.schema)
    try:
        with pytest.raises(ValueError, match=option):
            Projector(runtime.app, runtime.read_engine, timezone=UTC, **{option: value})
    finally:
        runtime.close()
