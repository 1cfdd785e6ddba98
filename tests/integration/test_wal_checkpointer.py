"""The read models' WAL is checkpointed by a thread after each batch, not inside the
projector's commits; it stays about one batch long, and a failing checkpoint is logged."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, create_engine, event, text

from api.bootstrap import READ_MODEL_CHECKPOINT_PAGES, build_read_engine
from domain.agents import Agent
from projections.projector import Projector
from projections.wal_checkpointer import BEHIND_BATCHES, RESTART_PAGES, WalCheckpointer
from tests.conftest import Database
from tests.reference_model import opened

metadata = MetaData()
blobs = Table("blobs", metadata, Column("k", Integer, primary_key=True), Column("v", LargeBinary))
WAIT = 60.0
BATCH_PAGES = 600


def _write_batches(engine, checkpointer: WalCheckpointer, batches: int, *, wait: bool) -> int:  # type: ignore[no-untyped-def]
    """Commit ``batches`` transactions of BATCH_PAGES pages each, as the projector does
    (``wait``: an idle projector, each batch after the last one's checkpoint; else a
    backlog, batch after batch); the page size."""
    with engine.connect() as connection:
        page = int(connection.execute(text("PRAGMA page_size")).scalar() or 0)
    for batch in range(batches):
        first = batch * BATCH_PAGES
        checkpointer.before_batch()
        with engine.begin() as connection:
            connection.execute(
                blobs.insert(),
                [{"k": k, "v": bytes(page)} for k in range(first, first + BATCH_PAGES)],
            )
        checkpointer.committed()
        if wait:
            assert checkpointer.wait_idle(WAIT)
    return page


def _batches_then_wal_size(
    engine, checkpointer: WalCheckpointer, batches: int, *, wait: bool
) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The page size and the -wal file's size after ``_write_batches`` (before the last
    connection closes, which checkpoints and deletes it)."""
    try:
        page = _write_batches(engine, checkpointer, batches, wait=wait)
        checkpointer.stop()
        return page, Path(f"{checkpointer.database}-wal").stat().st_size
    finally:
        checkpointer.stop()
        engine.dispose()


def test_after_many_batches_the_read_models_wal_stays_about_one_batch_long(
    tmp_path: Path,
) -> None:
    engine = build_read_engine(f"sqlite:///{tmp_path / 'read.db'}")
    metadata.create_all(engine)
    checkpointer = WalCheckpointer.for_engine(engine)
    batches = 20  # 12,000 pages: without our checkpoints (the auto one is further) all stay
    assert batches * BATCH_PAGES < READ_MODEL_CHECKPOINT_PAGES
    page, wal_bytes = _batches_then_wal_size(engine, checkpointer, batches, wait=True)
    assert checkpointer.failures == 0
    assert checkpointer.checkpoints >= batches
    # Each checkpoint copied the whole WAL, so the next batch restarted it from its start.
    assert wal_bytes <= 2 * BATCH_PAGES * (page + 24) + 32


def _without_auto_checkpoint(path: Path):  # type: ignore[no-untyped-def]
    """The read models' engine with SQLite's auto-checkpoint off: only ours copies the WAL."""
    engine = build_read_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _off(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    return engine


def test_a_projector_with_a_backlog_still_restarts_the_wal_every_few_batches(
    tmp_path: Path,
) -> None:
    engine = _without_auto_checkpoint(tmp_path / "read.db")
    metadata.create_all(engine)
    restart_pages = 2 * BATCH_PAGES
    checkpointer = WalCheckpointer(str(tmp_path / "read.db"), restart_pages=restart_pages)
    batches = 30  # 18,000 pages: without our checkpoints the WAL would hold them all
    page, wal_bytes = _batches_then_wal_size(engine, checkpointer, batches, wait=False)
    assert checkpointer.failures == 0
    frames = restart_pages + (BEHIND_BATCHES + 1) * BATCH_PAGES
    assert wal_bytes <= frames * (page + 24) + 32


def test_a_wal_kept_from_restarting_by_a_reader_is_restarted_once_the_reader_is_done(
    tmp_path: Path,
) -> None:
    engine = build_read_engine(f"sqlite:///{tmp_path / 'read.db'}")
    metadata.create_all(engine)
    checkpointer = WalCheckpointer(
        str(tmp_path / "read.db"), restart_pages=BATCH_PAGES, busy_seconds=0.01
    )
    reader = sqlite3.connect(tmp_path / "read.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM blobs").fetchone()  # holds its snapshot
        _write_batches(engine, checkpointer, 4, wait=True)
        held = checkpointer.restarts
        assert held >= 1  # the WAL grew past restart_pages: RESTART was tried, in vain
        reader.execute("COMMIT")
        with engine.connect() as connection:
            frames_before = connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).one()[1]
        assert frames_before >= 4 * BATCH_PAGES  # nothing restarted it while the reader read
        with engine.begin() as connection:  # the next batch restarts the WAL from its start
            connection.execute(blobs.insert(), [{"k": -1, "v": b""}])
        with engine.connect() as connection:
            frames_after = connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).one()[1]
        assert frames_after < BATCH_PAGES
    finally:
        reader.close()
        checkpointer.stop()
        engine.dispose()


def test_a_failing_checkpoint_is_logged_and_the_thread_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "missing" / "read.db"))  # cannot be opened
    caplog.set_level(logging.ERROR, logger="callcraft.checkpointer")
    try:
        checkpointer.committed()
        assert checkpointer.wait_idle(WAIT)
        checkpointer.committed()
        assert checkpointer.wait_idle(WAIT)
        assert checkpointer.running
    finally:
        checkpointer.stop()
    assert checkpointer.failures == 2
    assert "checkpointing" in caplog.text
    assert not checkpointer.running


class CountingCheckpointer(WalCheckpointer):
    commits = 0
    batches = 0

    def before_batch(self) -> None:
        self.batches += 1
        super().before_batch()

    def committed(self) -> None:
        self.commits += 1
        super().committed()


def test_the_projector_announces_each_committed_batch_and_the_checkpointer_stops_cleanly(
    sqlite_database: Database,
) -> None:
    with opened(sqlite_database) as (app, engine):
        checkpointer = CountingCheckpointer(str(sqlite_database.read_url.split("///", 1)[1]))
        projector = Projector(app, engine, timezone=UTC, batch_size=1, checkpointer=checkpointer)
        team = app.form_team(name="Blue", formed_by="sup")
        at = datetime(2026, 1, 1, tzinfo=UTC)
        for handle, name in (("ann", "Ann"), ("bob", "Bob")):
            agent = Agent.enrol(
                handle=handle, name=name, team_id=team, enrolled_at=at, enrolled_by="sup"
            )
            app.save(agent)
        applied = projector.catch_up()
        assert checkpointer.commits == checkpointer.batches == applied  # a batch a commit
        assert checkpointer.wait_idle(WAIT)
        assert checkpointer.running
        checkpointer.stop()
        assert not checkpointer.running
        assert checkpointer.failures == 0
        assert checkpointer.checkpoints >= 1


def test_read_models_that_are_not_an_sqlite_file_get_a_checkpointer_that_does_nothing() -> None:
    engine = create_engine("sqlite://")
    checkpointer = WalCheckpointer.for_engine(engine)
    checkpointer.committed()
    assert checkpointer.database is None
    assert not checkpointer.running
    checkpointer.stop()


def test_the_checkpointer_restarts_the_wal_before_sqlites_own_checkpoint_would_run() -> None:
    # RESTART is tried at twice RESTART_PAGES; the engine's auto-checkpoint (inside a commit,
    # which then waits for the sync) stays the safety net beyond it.
    assert 2 * RESTART_PAGES < READ_MODEL_CHECKPOINT_PAGES
