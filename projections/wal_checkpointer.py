"""Checkpoints of the SQLite read models' WAL, off the projector's critical path.

SQLite's auto-checkpoint runs inside the commit that leaves the WAL long enough: that commit
copies the WAL's pages back into the database file and syncs both before it returns, so the
projector waited for it (one batch in about five, ~220 ms). Here a thread of its own, on a
connection of its own, runs ``PRAGMA wal_checkpoint(PASSIVE)`` after each committed batch
(:meth:`WalCheckpointer.committed` only sets an event: it never waits). PASSIVE never takes
the write lock nor calls the busy handler, so the projector's next batch goes on beside it.
A write transaction restarts the WAL from its start only if it began once every frame was
copied (and no reader still uses the WAL). A projector with a backlog begins its next batch
a few milliseconds after its commit, before the checkpoint of that commit is done, so the
WAL would never restart and grow without bound (checkpoint starvation by the writer; seen
in the live-lag benchmark: 11,667 → 19,428 frames). So once a checkpoint finds the WAL at
least ``restart_pages`` frames long, the next batch first waits for the checkpoint under way
(:meth:`before_batch`): it then begins on a copied WAL and restarts it. That is one wait,
for one batch's checkpoint, every few batches, and none when the projector idles between
batches. Should readers keep the WAL from restarting (their snapshots hold it), a WAL twice
that long gets a RESTART checkpoint, which waits for them at most ``busy_seconds``.

The engine's own auto-checkpoint stays on at a higher threshold, the safety net should this
thread ever stop. A failed checkpoint is logged and the next batch tries again: durability
does not depend on it (a commit is in the WAL, synced as ``synchronous`` says).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from sqlalchemy import Engine

log = logging.getLogger("callcraft.checkpointer")

RESTART_PAGES = 16_000
"""WAL frames (64 MB) from which the next batch waits for the checkpoint under way, so that
it restarts the WAL; twice as many get a RESTART checkpoint. A live batch of 50 writes about
2,000 frames at the quick scale and 4,000 at the full size (10,000 agents, 1M events): at
the 4,000 this was, a projector with a backlog waited for a checkpoint (~60 ms) before every
full-size batch — its wall time a batch 136 → 89 ms at p50 in the probe of
``docs/performance.md`` — where now it waits every four or more. Below the engine's
auto-checkpoint (:data:`api.bootstrap.READ_MODEL_CHECKPOINT_PAGES`), the safety net."""
BEHIND_BATCHES = 3
"""Commits not yet followed by a checkpoint from which the next batch waits too (a thread
starved of CPU would otherwise never see the WAL long)."""
BUSY_SECONDS = 0.5
STOP_SECONDS = 30.0


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL in a thread, woken after each commit."""

    def __init__(
        self,
        database: str | None,
        *,
        restart_pages: int = RESTART_PAGES,
        busy_seconds: float = BUSY_SECONDS,
    ) -> None:
        """``database``: the SQLite file; None for a checkpointer that does nothing (the
        read models are on PostgreSQL, or in memory)."""
        if restart_pages < 1:
            raise ValueError("restart_pages must be at least 1")
        self.database = database
        self.restart_pages = restart_pages
        self.busy_seconds = busy_seconds
        self.checkpoints = 0  # completed checkpoint statements (PASSIVE or RESTART)
        self.restarts = 0
        self.failures = 0
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._announced = 0  # commits announced by committed()
        self._answered = 0  # of those, how many a finished checkpoint attempt followed
        self._long = False  # the last checkpoint found the WAL at least restart_pages long
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> WalCheckpointer:
        """A checkpointer for ``engine``'s database; one that does nothing unless that is an
        SQLite file (PostgreSQL checkpoints on its own; URI file names may be in memory)."""
        database = engine.url.database
        is_file = (
            bool(database) and database != ":memory:" and not str(database).startswith("file:")
        )
        return cls(database if engine.dialect.name == "sqlite" and is_file else None)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def committed(self) -> None:
        """A transaction was committed: checkpoint soon (starts the thread the first time).
        Never waits for a checkpoint."""
        if self.database is None:
            return
        with self._idle:
            self._announced += 1
        if not self.running:
            self._start()
        self._due.set()

    def _start(self) -> None:
        with self._starting:
            if self.running or self._stopping.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name="callcraft-checkpointer", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop the thread after the checkpoint under way, if any (idempotent)."""
        with self._starting:
            self._stopping.set()
            self._due.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def before_batch(self) -> None:
        """Called before a batch's transaction begins: waits for the checkpoint under way
        only when the WAL has grown long, or the thread is ``BEHIND_BATCHES`` commits behind
        (see the module's note), so that this batch begins on a copied WAL and restarts it."""
        with self._idle:
            behind = self._announced - self._answered >= BEHIND_BATCHES
        if self._long or behind:
            self._long = False
            self.wait_idle(STOP_SECONDS)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a checkpoint attempt has finished after every commit announced so far
        (for tests and benchmarks); True if so."""
        with self._idle:
            announced = self._announced
            return self._idle.wait_for(lambda: self._answered >= announced, timeout)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._stopping.is_set():
                    return
                with self._idle:
                    announced = self._announced
                try:
                    if connection is None:
                        connection = self._connect()
                    self.checkpoint(connection)
                except Exception:  # not fatal: the WAL keeps the commits; the next one retries
                    self.failures += 1
                    log.exception("checkpointing %s failed; the next commit tries again", self)
                    if connection is not None:
                        connection.close()
                        connection = None
                with self._idle:
                    self._answered = announced
                    self._idle.notify_all()
        finally:
            if connection is not None:
                connection.close()
            with self._idle:
                self._answered = self._announced  # nothing will answer them now
                self._idle.notify_all()

    def _connect(self) -> sqlite3.Connection:
        if self.database is None:  # committed() never starts the thread then
            raise sqlite3.OperationalError("no SQLite file to checkpoint")
        # Autocommit (no implicit transaction around the pragma); its own busy timeout, which
        # only RESTART waits on.
        return sqlite3.connect(
            self.database, timeout=self.busy_seconds, isolation_level=None, check_same_thread=True
        )

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        """One PASSIVE checkpoint, and a RESTART one if it left the WAL too long."""
        _busy, frames, copied = _wal_checkpoint(connection, "PASSIVE")
        self.checkpoints += 1
        self._long = frames >= self.restart_pages
        if frames >= 2 * self.restart_pages:  # readers keep it from restarting
            busy, frames, copied = _wal_checkpoint(connection, "RESTART")
            self.checkpoints += 1
            self.restarts += 1
            if busy:
                log.warning(
                    "the read models' WAL holds %s frames (%s copied): readers kept it "
                    "from restarting; trying again after the next commit",
                    frames,
                    copied,
                )

    def __repr__(self) -> str:
        return f"WalCheckpointer({self.database!r})"


def _wal_checkpoint(connection: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """(busy, frames in the WAL, frames checkpointed); -1 frames when not in WAL mode."""
    row = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    busy, frames, copied = (int(value) for value in row)
    return busy, frames, copied
