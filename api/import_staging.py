"""Where an import keeps what it decided until it records it: a scratch SQLite file.

The check pass decides every row once and leaves here, batch by batch, the stored events it
would append (encoded as the event store will hold them, as rows in the drivers' terms that the
recording pass hands from this file's cursor straight to the store's ``executemany``) and the
lines of the file they came from (to decide a batch again, should the store change before it
is recorded). It also keeps here what the file itself has decided so far — the recordings
(for a repeated row or a reused idempotency key) and the givers' kudos allowances as they will
be — so that an import's memory does not grow with the file.
The file is private scratch space, deleted afterwards; nothing in it needs to survive a crash
(an import run again records only what is missing).
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from api.recorders import StoredRow
from domain.application import PendingRecordings
from domain.kudos import KudosAllowance

SCHEMA = (
    "CREATE TABLE recordings (id BLOB PRIMARY KEY, print INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE allowances (id BLOB PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE batches (number INTEGER PRIMARY KEY, created INTEGER NOT NULL, "
    "lines BLOB NOT NULL, decided_on BLOB NOT NULL, "
    "first_event INTEGER NOT NULL, events INTEGER NOT NULL)",
    # In staging order: a batch's events are the rows after its first_event, by rowid.
    "CREATE TABLE events (originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
    "topic TEXT NOT NULL, state BLOB NOT NULL)",
)
# Bound parameters per statement stay far below SQLite's limit of 32,766.
LOOKUP_CHUNK = 5000


@dataclass(frozen=True)
class StagedBatch:
    """One batch as the check pass decided it."""

    number: int
    lines: list[int]  # the file's lines (rows) it holds
    decided_on: dict[UUID, int]
    created: int  # how many of its rows are new recordings (the others are replays)
    first_event: int  # its events are the staged ones after this rowid…
    events: int  # …this many


# An allowance's attributes, each as (attribute, kind, plain value), written by msgspec: the
# standard library's pickling of a UUID, a datetime or a date costs tens of microseconds each.
_PLAIN, _UUID, _DATETIME, _DATE, _PICKLED, _NO_EVENTS = range(6)
_PLAIN_TYPES = (str, int, bool, type(None))
_RESTORE: dict[int, Callable[[Any], Any]] = {
    _PLAIN: lambda value: value,
    _UUID: lambda value: UUID(int=int.from_bytes(value)),
    _DATETIME: datetime.fromisoformat,
    _DATE: date.fromordinal,
    _PICKLED: pickle.loads,  # our own file
    _NO_EVENTS: lambda _: [],
}


def _plain(value: object) -> tuple[int, object]:
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return _PLAIN, value
    if kind is UUID:
        return _UUID, value.bytes  # type: ignore[attr-defined]
    if kind is datetime:
        return _DATETIME, value.isoformat()  # type: ignore[attr-defined]
    if kind is date:
        return _DATE, value.toordinal()  # type: ignore[attr-defined]
    return _PICKLED, pickle.dumps(value)


def _allowance_state(allowance: KudosAllowance) -> bytes:
    """What an allowance holds: its attributes, but no pending events (they were collected
    into the batch before it was remembered)."""
    state = vars(allowance)
    if state.get("_pending_events"):
        raise ValueError("an allowance is remembered only once its events are collected")
    return msgspec.msgpack.encode(
        [
            (name, _NO_EVENTS, None) if name == "_pending_events" else (name, *_plain(value))
            for name, value in state.items()
        ]
    )


def _allowance(data: bytes) -> KudosAllowance:
    """The allowance again, as the library restores an aggregate from a snapshot."""
    allowance = object.__new__(KudosAllowance)
    allowance.__dict__.update(
        {name: _RESTORE[kind](value) for name, kind, value in msgspec.msgpack.decode(data)}
    )
    return allowance


def _in_chunks(ids: Collection[UUID]) -> Iterator[list[bytes]]:
    keys = [i.int.to_bytes(16) for i in ids]  # UUID.bytes, without its property's call
    for first in range(0, len(keys), LOOKUP_CHUNK):
        yield keys[first : first + LOOKUP_CHUNK]


class ImportStaging(PendingRecordings):
    """The scratch file of one import."""

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self._scratch = tempfile.TemporaryDirectory(prefix="callcraft-import-", dir=directory)
        self._db = sqlite3.connect(Path(self._scratch.name) / "staging.db", isolation_level=None)
        # Scratch space: durability would only cost time (the real store is never touched).
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        # Its pages are written once and read once, in order: a small cache keeps memory flat.
        self._db.execute("PRAGMA cache_size=-256")
        for statement in SCHEMA:
            self._db.execute(statement)
        self._batches = 0
        self._events = 0

    # --- what the file has decided so far (PendingRecordings) ------------------------------

    def recordings_among(self, ids: Collection[UUID]) -> dict[UUID, int]:
        found: dict[UUID, int] = {}
        for chunk in _in_chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, print FROM recordings WHERE id IN ({marks})",  # noqa: S608
                chunk,
            )
            found.update((UUID(bytes=key), value) for key, value in rows)
        return found

    def allowances_among(self, ids: Collection[UUID]) -> dict[UUID, KudosAllowance]:
        found: dict[UUID, KudosAllowance] = {}
        for chunk in _in_chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, state FROM allowances WHERE id IN ({marks})",  # noqa: S608
                chunk,
            )
            for key, state in rows:
                found[UUID(bytes=key)] = _allowance(state)
        return found

    def remember(
        self, recordings: Mapping[UUID, int], allowances: Mapping[UUID, KudosAllowance]
    ) -> None:
        """Both go to the scratch file: there are as many allowances as givers and days.
        In the order of their keys: inserted in order, the keys' B-tree pages are each
        visited once, not once a key (a third less time for a batch of random ids)."""
        states = sorted(
            (key.bytes, _allowance_state(allowance)) for key, allowance in allowances.items()
        )
        prints = sorted([(key.int.to_bytes(16), value) for key, value in recordings.items()])
        self._db.execute("BEGIN")  # one transaction, not one per row
        self._db.executemany("INSERT OR REPLACE INTO recordings VALUES (?, ?)", prints)
        self._db.executemany("INSERT OR REPLACE INTO allowances VALUES (?, ?)", states)
        self._db.execute("COMMIT")

    # --- the batches to record ----------------------------------------------------------

    def stage(
        self,
        lines: Sequence[int],
        decided_on: Mapping[UUID, int],
        rows: Sequence[StoredRow],
        *,
        created: int,
    ) -> None:
        """Keep one decided batch: the file's lines it holds, the agents' versions it was
        decided on, and its events as the store's rows."""
        versions = [(key.int.to_bytes(16), version) for key, version in decided_on.items()]
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
            self._db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._batches,
                    created,
                    array("q", lines).tobytes(),
                    pickle.dumps(versions),
                    self._events,
                    len(rows),
                ),
            )
        except BaseException:
            # Neither the batch nor its events: the numbering of both stays gapless.
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._batches += 1
        self._events += len(rows)

    def batch(self, number: int) -> StagedBatch:
        created, lines, versions, first, events = self._db.execute(
            "SELECT created, lines, decided_on, first_event, events FROM batches WHERE number = ?",
            (number,),
        ).fetchone()
        return StagedBatch(
            number=number,
            created=created,
            lines=array("q", lines).tolist(),
            decided_on={
                UUID(bytes=key): version
                for key, version in pickle.loads(versions)  # noqa: S301 - our own file
            },
            first_event=first,
            events=events,
        )

    def rows(self, batch: StagedBatch) -> Iterable[StoredRow]:
        """A batch's events as the store's rows, streamed from this file in staging order."""
        return self._db.execute(
            "SELECT originator_id, originator_version, topic, state FROM events "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
            (batch.first_event, batch.first_event + batch.events),
        )

    def batches(self) -> Iterator[StagedBatch]:
        for number in range(self._batches):
            yield self.batch(number)

    def close(self) -> None:
        self._db.close()
        self._scratch.cleanup()
