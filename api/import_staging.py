"""Where an import keeps what it decided until it records it: a scratch SQLite file.

The check pass decides every row once and leaves here, batch by batch, the stored events it
would append (encoded as the event store will hold them) and, for the batches to fall back on,
their commands. It also keeps here what the file itself has decided so far — the recordings of
earlier rows (for a repeated row or a reused idempotency key) and the kudos allowances as they
will be — so that an import's memory stays flat however long the file is. The file is
private scratch space, deleted afterwards; nothing in it needs to survive a crash (an import
run again records only what is missing).
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.application import PendingRecordings
from domain.kudos import KudosAllowance
from domain.recordings import RecordRecognition

SCHEMA = (
    "CREATE TABLE recordings (id BLOB PRIMARY KEY, print INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE allowances (id BLOB PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE batches (number INTEGER PRIMARY KEY, created INTEGER NOT NULL, "
    "commands BLOB NOT NULL, "
    "agent_versions BLOB NOT NULL, events BLOB NOT NULL)",
)
# Bound parameters per statement stay far below SQLite's limit of 32,766.
LOOKUP_CHUNK = 5000


@dataclass(frozen=True)
class StagedBatch:
    """One batch as the check pass decided it."""

    number: int
    commands: list[tuple[int, RecordRecognition]]  # (line, command)
    agent_versions: dict[UUID, int]
    events: list[StoredEvent]
    created: int  # how many of the commands are new recordings (the others are replays)


def _in_chunks(ids: Collection[UUID]) -> Iterator[list[bytes]]:
    keys = [i.bytes for i in ids]
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
        for statement in SCHEMA:
            self._db.execute(statement)
        self._batches = 0

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
            found.update((UUID(bytes=key), pickle.loads(state)) for key, state in rows)  # noqa: S301 - our own scratch file
        return found

    def remember(
        self, recordings: Mapping[UUID, int], allowances: Mapping[UUID, KudosAllowance]
    ) -> None:
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO recordings VALUES (?, ?)",
            [(key.bytes, value) for key, value in recordings.items()],
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO allowances VALUES (?, ?)",
            [(key.bytes, pickle.dumps(value)) for key, value in allowances.items()],
        )
        self._db.execute("COMMIT")

    # --- the batches to record ----------------------------------------------------------

    def stage(
        self,
        commands: Sequence[tuple[int, RecordRecognition]],
        agent_versions: Mapping[UUID, int],
        events: Sequence[StoredEvent],
        *,
        created: int,
    ) -> None:
        rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in events]
        self._db.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
            (
                self._batches,
                created,
                pickle.dumps(list(commands)),
                pickle.dumps(dict(agent_versions)),
                pickle.dumps(rows),
            ),
        )
        self._batches += 1

    def batches(self) -> Iterator[StagedBatch]:
        for number in range(self._batches):
            row = self._db.execute(
                "SELECT created, commands, agent_versions, events FROM batches WHERE number = ?",
                (number,),
            ).fetchone()
            commands, versions, events = (pickle.loads(blob) for blob in row[1:])  # noqa: S301
            yield StagedBatch(
                number=number,
                created=row[0],
                commands=commands,
                agent_versions=versions,
                events=[StoredEvent(*event) for event in events],
            )

    def close(self) -> None:
        self._db.close()
        self._scratch.cleanup()
