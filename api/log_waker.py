"""How an idle projecting process learns that the event log grew.

On PostgreSQL the library's recorder sends ``NOTIFY`` on its channel with every append, in the
appending transaction; ``callcraft project`` listens on that channel and starts its next batch
as soon as a notification arrives, so a recording is not left waiting for the poll interval
(0.2 s by default) — the live lag at a low rate is then one batch, as at a high rate. The poll
interval stays the longest wait, so a notification lost with a dropped connection costs one
interval at most. The channel is named after the events table, so every store of one database
shares it: another store's append wakes the worker for a batch that finds nothing. SQLite has
no notifications: there the process polls.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from typing import Any, Protocol

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql


class LogWaker(Protocol):
    def wait(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for the log to grow; True if told it did."""
        ...

    def close(self) -> None: ...


class PollingWaker:
    """No notifications: wait the whole interval, unless ``stop`` is set meanwhile."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def wait(self, seconds: float) -> bool:
        self._stop.wait(seconds)
        return False

    def close(self) -> None:
        pass


STOP_CHECK_SECONDS = 0.25
"""A listening wait looks at the stop event this often (a signal does not end the wait)."""


class ListeningWaker:
    """``LISTEN`` on the recorder's channel, on a connection of its own from the recorder's
    pool (held until :meth:`close`); a wait ends early when ``stop`` is set."""

    def __init__(self, recorder: PostgresApplicationRecorder, stop: threading.Event) -> None:
        self._stop = stop
        self._borrowed: AbstractContextManager[Any] = recorder.datastore.get_connection()
        self._connection = self._borrowed.__enter__()
        try:  # the library's pooled connections are in autocommit already
            self._connection.execute(
                sql.SQL("LISTEN {0}").format(sql.Identifier(recorder.channel_name))
            )
        except BaseException:
            self._borrowed.__exit__(None, None, None)
            raise

    def wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            slice_ = min(remaining, STOP_CHECK_SECONDS)
            for _ in self._connection.notifies(timeout=slice_, stop_after=1):
                return True
        return False

    def close(self) -> None:
        try:
            self._connection.execute("UNLISTEN *")
        finally:
            self._borrowed.__exit__(None, None, None)


def waker_for(recorder: object, stop: threading.Event) -> LogWaker:
    """A listening waker for the library's PostgreSQL recorder, else a polling one."""
    if isinstance(recorder, PostgresApplicationRecorder):
        return ListeningWaker(recorder, stop)
    return PollingWaker(stop)
