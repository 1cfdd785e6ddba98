"""Checkpoints of the SQLite read models' WAL, off the projector's critical path.

SQLite's auto-checkpoint runs inside the commit that leaves the WAL long enough: that commit
copies the WAL's pages back into the database file and syncs both before it returns, so the
projector waited for it (one batch in about five, ~220 ms). Here a thread of its own, on a
connection of its own, runs ``PRAGMA wal_checkpoint(PASSIVE)`` after each committed batch
(:meth:`WalCheckpointer.committed` only sets an event: it never waits). PASSIVE never takes
the write lock nor calls the busy handler, so the projector's next batch goes on beside it.
Once a checkpoint has copied every frame, the next write restarts the WAL from its start, so
the file stays about one batch long.

A PASSIVE checkpoint can fall behind — readers on old snapshots, or batches committed faster
than they are copied (checkpoint starvation) — and the WAL would then grow without bound. So
when a PASSIVE one leaves at least ``restart_pages`` frames in the WAL, the thread runs a
RESTART one: that waits (busy handler, ``busy_seconds``) for the writer and the readers, and
so may hold the projector back, once, rather than let the file grow. The projector's own
connections keep SQLite's auto-checkpoint at a higher threshold as a safety net, should
this thread ever stop. A failed checkpoint is logged and the next batch tries again:
durability does not depend on it (a commit is in the WAL, synced as ``synchronous`` says).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from sqlalchemy import Engine

log = logging.getLogger("callcraft.checkpointer")

RESTART_PAGES = 6_000
"""Frames the WAL may hold after a PASSIVE checkpoint before the thread forces a restart
(three live batches: it is not restarting; below the engine's auto-checkpoint, the net)."""
BUSY_SECONDS = 5.0
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
        self._pending = False  # committed() seen and not yet checkpointed
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
            self._pending = True
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

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every commit announced so far was followed by a checkpoint attempt
        (for tests and the benchmark's bookkeeping); True if so."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._stopping.is_set():
                    return
                with self._idle:
                    self._pending = False
                try:
                    if connection is None:
                        connection = self._connect()
                    self.checkpoint(connection)
                except sqlite3.Error:
                    self.failures += 1
                    log.exception("checkpointing %s failed; the next commit tries again", self)
                    if connection is not None:
                        connection.close()
                        connection = None
                with self._idle:
                    self._idle.notify_all()
        finally:
            if connection is not None:
                connection.close()
            with self._idle:
                self._pending = False
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
        if frames >= self.restart_pages:  # not restarting: writers or readers outpace it
            busy, frames, copied = _wal_checkpoint(connection, "RESTART")
            self.checkpoints += 1
            self.restarts += 1
            if busy:
                log.warning(
                    "the read models' WAL holds %s frames (%s copied): readers or the "
                    "projector kept it from restarting; trying again after the next commit",
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
