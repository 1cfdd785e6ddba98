"""The bench's fast writer records what ``record_many`` records: the same read models follow."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import Engine, select

from bench.data import NOW, command_for, enrol_centre, make_centre, recognition_rows
from bench.full_store import FastWriter
from domain.application import MAX_BATCH, Callcraft
from domain.facts import RecognitionKind
from projections import tables
from projections.projector import Projector
from tests.conftest import Database, make_sqlite_database
from tests.reference_model import opened

COMPARED = (tables.agent_profiles, tables.agent_badges, tables.period_xp, tables.board_entries)
LOG_PLACES = {"notification_id", "recorded_at"}  # where in the log, and when, differ


def read_models(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        found: dict[str, Any] = {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in COMPARED
        }
        kept = [c for c in tables.recognitions.c if c.name not in LOG_PLACES]
        found["recognitions"] = sorted(map(tuple, connection.execute(select(*kept))), key=repr)
    return found


def fill(app: Callcraft, engine: Engine, *, fast: bool) -> dict[str, Any]:
    centre = make_centre(12)
    _, enrolled = enrol_centre(app, centre)
    commands = [command_for(row) for row in recognition_rows(5, centre, 400, key_prefix="t")]
    if fast:
        writer = FastWriter(app, enrolled, now=NOW)
        for command in commands:
            writer.write(command)
        writer.flush()
    else:
        for start in range(0, len(commands), MAX_BATCH):
            app.record_many(commands[start : start + MAX_BATCH], now=NOW)
    Projector(app, engine, timezone=UTC).catch_up()
    return read_models(engine)


def test_the_fast_writer_gives_the_read_models_record_many_gives(
    database: Database, tmp_path: Any
) -> None:
    other = make_sqlite_database(tmp_path / "other")
    with opened(database) as (app, engine), opened(other) as (other_app, other_engine):
        slow = fill(app, engine, fast=False)
        fast = fill(other_app, other_engine, fast=True)
    assert fast == slow
    assert slow["board_entries"]
    assert any(row[2] == RecognitionKind.KUDOS_GIVEN.value for row in slow["recognitions"])
