"""A rebuild equals the live projection however its batches and scoring chunks fall."""

from __future__ import annotations

import gc
from datetime import UTC, tzinfo
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

import projections.bulk
import projections.rebuild_scoring
from projections.collection import YOUNG_THRESHOLD
from projections.projector import Projector
from projections.rebuild import rebuild
from tests.conftest import Database
from tests.reference_model import (
    Command,
    World,
    dump_read_models,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(10)


@PROPERTY
@given(
    history=histories(),
    timezone=timezones(),
    batch_size=st.integers(1, 7),
    chunk=st.integers(1, 3),
    facts=st.integers(1, 12),
    flush=st.integers(1, 30),
)
def test_a_rebuild_split_anywhere_equals_the_live_projection(
    database: Database,
    history: list[Command],
    timezone: tzinfo,
    batch_size: int,
    chunk: int,
    facts: int,
    flush: int,
) -> None:
    with fresh_database(database.kind) as db, opened(db, timezone) as (app, engine):
        world = World(app)
        live = Projector(app, engine, timezone=timezone, batch_size=3)
        for index, command in enumerate(history):
            world.run(command)
            if index % 4 == 0:
                live.catch_up()
        live.catch_up()
        incremental = dump_read_models(engine)

        # Batches that end anywhere in the log, scoring chunks that end between any agents
        # (pages of `chunk` agents, cut at `facts` facts), derived rows written `flush` at a
        # time, every insert on PostgreSQL sent with COPY (the live one's went one by one).
        with (
            mock.patch.object(projections.rebuild_scoring, "CHUNK", chunk),
            mock.patch.object(projections.rebuild_scoring, "CHUNK_FACTS", facts),
            mock.patch.object(projections.rebuild_scoring, "FLUSH_ROWS", flush),
            mock.patch.object(projections.bulk, "COPY_FROM", 1),
        ):
            rebuild(app, engine, timezone=timezone, batch_size=batch_size)
        assert dump_read_models(engine) == incremental


def test_a_rebuild_runs_with_fewer_young_collections_and_leaves_the_thresholds_as_found(
    database: Database,
) -> None:
    with fresh_database(database.kind) as db, opened(db) as (app, engine):
        World(app)  # a rulebook and teams: a log to rebuild
        before = gc.get_threshold()
        during: list[int] = []
        rebuild(
            app,
            engine,
            timezone=UTC,
            batch_size=1,
            progress=lambda *_: during.append(gc.get_threshold()[0]),
        )
        assert during
        assert set(during) == {max(before[0], YOUNG_THRESHOLD)}
        assert gc.get_threshold() == before
