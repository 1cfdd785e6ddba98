"""Reach past the application into the event store's database, as a tamperer would.

``RawStore`` speaks plain SQL to the stored events and to the chain's tables on SQLite
(``stored_events``, ids in ``rowid``) and PostgreSQL (``callcraft_events``, ids in
``notification_id``); ``snapshot``/``restore`` put every row back, ids included, so one
sealed store serves many hypothesis examples.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from api.bootstrap import build_event_store_engine
from api.settings import sqlite_path
from domain.application import Callcraft
from domain.signatures import SigningKey
from projections.integrity import Integrity
from projections.sealer import Sealer
from tests.conftest import POSTGRES_URL, Database

TEST_KEY = SigningKey.generate()
OTHER_KEY = SigningKey.generate()
RENUMBER_OFFSET = 10_000_000


class RawStore:
    def __init__(self, database: Database) -> None:
        self.kind = database.kind
        if database.kind == "sqlite":
            self._sqlite = sqlite3.connect(sqlite_path(database.database_url), timeout=30)
            self.events, self.id = "stored_events", "rowid"
        else:
            url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
            self._pg = psycopg.connect(
                url, autocommit=True, options=f"-csearch_path={database.schema}"
            )
            self.events, self.id = "callcraft_events", "notification_id"

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            cursor = self._sqlite.execute(sql, tuple(params))
            rows = cursor.fetchall()
            self._sqlite.commit()
            return rows
        with self._pg.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), tuple(params))  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        if self.kind == "sqlite":
            self._sqlite.close()
        else:
            self._pg.close()

    # --- reading -----------------------------------------------------------------------

    def event_ids(self) -> list[int]:
        return [r[0] for r in self.run(f"SELECT {self.id} FROM {self.events} ORDER BY 1")]

    def row(self, notification_id: int) -> tuple[Any, ...]:
        (found,) = self.run(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events} "
            f"WHERE {self.id} = ?",
            (notification_id,),
        )
        return found

    # --- tampering -----------------------------------------------------------------------

    def change_bytes(self, notification_id: int) -> None:
        state = bytes(self.row(notification_id)[3])
        changed = bytes([state[0] ^ 0x01]) + state[1:] if state else b"x"
        self.run(
            f"UPDATE {self.events} SET state = ? WHERE {self.id} = ?", (changed, notification_id)
        )

    def delete(self, notification_id: int) -> None:
        self.run(f"DELETE FROM {self.events} WHERE {self.id} = ?", (notification_id,))

    def swap(self, first: int, second: int) -> None:
        a, b = self.row(first), self.row(second)
        update = (
            f"UPDATE {self.events} SET originator_id = ?, originator_version = ?, topic = ?, "
            f"state = ? WHERE {self.id} = ?"
        )
        self.run(update, (a[0], -1 - a[1], a[2], a[3], first))  # out of the key's way
        self.run(update, (*a, second))
        self.run(update, (*b, first))

    def insert(self, notification_id: int) -> None:
        """A new, plausible event (a copy of the first one's bytes for a new aggregate) at
        an id the store never used."""
        _, _, topic, state = self.row(self.event_ids()[0])
        new_id = uuid.uuid4()
        originator = new_id.hex if self.kind == "sqlite" else new_id
        self.run(
            f"INSERT INTO {self.events} ({self.id}, originator_id, originator_version, topic, "
            "state) VALUES (?, ?, 1, ?, ?)",
            (notification_id, originator, topic, state),
        )

    def alter_chain_row(self, position: int, column: str) -> None:
        self.run(
            f"UPDATE callcraft_chain SET {column} = ? WHERE notification_id = ?",
            (uuid.uuid4().bytes * 2, position),
        )

    def corrupt_signature(self, position: int) -> None:
        (signature,) = self.run(
            "SELECT signature FROM callcraft_checkpoints WHERE position = ?", (position,)
        )[0]
        flipped = bytes([bytes(signature)[0] ^ 0x80]) + bytes(signature)[1:]
        self.run(
            "UPDATE callcraft_checkpoints SET signature = ? WHERE position = ?",
            (flipped, position),
        )

    def resign_with_other_key(self, position: int) -> None:
        """Re-sign a checkpoint with a key that is not the server's (a forger's key)."""
        from domain.hash_chain import checkpoint_message

        (link, signed_at) = self.run(
            "SELECT head_link, signed_at FROM callcraft_checkpoints WHERE position = ?",
            (position,),
        )[0]
        message = checkpoint_message(
            position, bytes(link), datetime.fromisoformat(signed_at), OTHER_KEY.key_id
        )
        self.run(
            "UPDATE callcraft_checkpoints SET key_id = ?, signature = ? WHERE position = ?",
            (OTHER_KEY.key_id, OTHER_KEY.sign(message), position),
        )

    # --- building a store with gaps, and putting it back -----------------------------------

    def spread_ids(self) -> None:
        """Renumber the events to even ids (before sealing): the store then has gaps, as a
        PostgreSQL store gets from rolled-back transactions, where an event can be inserted."""
        self.run(f"UPDATE {self.events} SET {self.id} = {self.id} + {RENUMBER_OFFSET}")
        self.run(f"UPDATE {self.events} SET {self.id} = ({self.id} - {RENUMBER_OFFSET}) * 2")
        if self.kind == "postgres":
            self.run(
                f"SELECT setval(pg_get_serial_sequence('{self.events}', 'notification_id'), "
                f"(SELECT max(notification_id) FROM {self.events}))"
            )

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            "events": self.run(
                f"SELECT {self.id}, originator_id, originator_version, topic, state "
                f"FROM {self.events}"
            ),
            "chain": self.run("SELECT notification_id, content_hash, link FROM callcraft_chain"),
            "checkpoints": self.run(
                "SELECT position, head_link, signed_at, key_id, signature "
                "FROM callcraft_checkpoints"
            ),
        }

    def restore(self, snapshot: dict[str, list[tuple[Any, ...]]]) -> None:
        tables = {
            "events": (self.events, f"{self.id}, originator_id, originator_version, topic, state"),
            "chain": ("callcraft_chain", "notification_id, content_hash, link"),
            "checkpoints": (
                "callcraft_checkpoints",
                "position, head_link, signed_at, key_id, signature",
            ),
        }
        for name, (table, columns) in tables.items():
            self.run(f"DELETE FROM {table}")
            marks = ", ".join("?" * len(columns.split(",")))
            for row in snapshot[name]:
                self.run(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)


@dataclass
class Sealed:
    app: Callcraft
    sealer: Sealer
    integrity: Integrity
    raw: RawStore


@contextmanager
def sealing(
    database: Database, *, checkpoint_every: int = 7, batch_size: int = 5
) -> Iterator[Sealed]:
    """The application, a sealer and an integrity checker on ``database``, and raw access."""
    app = Callcraft(env=database.event_env())
    engine = build_event_store_engine(database.database_url, schema=database.schema)
    sealer = Sealer(
        app.recorder,
        engine,
        TEST_KEY,
        clock=lambda: datetime.now(UTC),
        checkpoint_every=checkpoint_every,
        checkpoint_seconds=3600,
        batch_size=batch_size,
    )
    sealer.ensure_ready()
    raw = RawStore(database)
    try:
        yield Sealed(app, sealer, Integrity(app.recorder, engine, TEST_KEY.public_key), raw)
    finally:
        raw.close()
        engine.dispose()
        app.close()
