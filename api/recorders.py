"""The library's built-in recorders, with one more question they answer in one query.

A command reads several short streams before it decides: the agents it names, the recording
an idempotency key points at, the giver's kudos allowance for the day. Asked one at a time
that is a round trip each (and a batch of 1,000 recordings would make thousands); these
recorders answer "every event of these streams after these versions" with one statement.
``Callcraft`` uses it when its recorder has it (``api/store.py`` names these classes in the
library's ``APPLICATION_RECORDER_TOPIC``); the library's own recorders would still work.

They also append on a condition, ``insert_events_unless_changed``: the events are written
only if none of the streams a command decided on has changed since it read them, checked
inside the writing transaction. With that check a command may decide on what it remembers
(its cache) without reading first; a stale memory costs a retry after reading.
``insert_rows_unless_changed`` does the same for events already in the driver's terms (an
import's staged rows: the stream as hex text, version, topic, state), with no Python object per
row on the way in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from itertools import chain, islice
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

# SQLite binds at most 32,766 parameters in one statement (3.32 and later); two per stream.
SQLITE_STREAMS_PER_STATEMENT = 10_000
# What one conditional insert statement takes at most (more take a transaction of their own).
SQLITE_EVENTS_IN_ONE_STATEMENT = 8
SQLITE_STREAMS_IN_ONE_STATEMENT = 8
# Fewer are padded to these (a recording, and its kudos allowance, decided on an agent, the
# giver and the next rulebook), so that one recording after another is the same statement.
SQLITE_PADDED_EVENTS = 2
SQLITE_PADDED_STREAMS = 3
_NO_ROW = (None, None, None, None, None)
_NO_STREAM = (None, 0)

# A stored event as the drivers take it: the stream's id as 32 hex digits, its version, the
# topic and the encoded state.
StoredRow = tuple[str, int, str, bytes]


def _chunks(wanted: Mapping[UUID, int], size: int) -> list[list[tuple[UUID, int]]]:
    items = iter(wanted.items())
    chunks = []
    while chunk := list(islice(items, size)):
        chunks.append(chunk)
    return chunks


class _Changed(Exception):
    """A stream decided on has changed: nothing is written."""


_SQLITE_ERRORS: tuple[tuple[type[sqlite3.Error], type[PersistenceError]], ...] = (
    (sqlite3.InterfaceError, InterfaceError),
    (sqlite3.DataError, DataError),
    (sqlite3.OperationalError, OperationalError),
    (sqlite3.IntegrityError, IntegrityError),
    (sqlite3.InternalError, InternalError),
    (sqlite3.ProgrammingError, ProgrammingError),
    (sqlite3.NotSupportedError, NotSupportedError),
    (sqlite3.DatabaseError, DatabaseError),
)


def _library_error(error: sqlite3.Error) -> PersistenceError:
    """The library's exception for a ``sqlite3`` one, as its own transactions raise them."""
    for theirs, ours in _SQLITE_ERRORS:
        if isinstance(error, theirs):
            return ours(error)
    return PersistenceError(error)


class StreamsSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        # The text of the conditional insert, by its number of events and of streams.
        self._conditional_inserts: dict[tuple[int, int], str] = {}

    def insert_events_unless_changed(
        self, stored_events: Sequence[StoredEvent], unchanged: Mapping[UUID, int]
    ) -> Sequence[int] | None:
        """Append ``stored_events`` in one transaction unless a stream in ``unchanged`` (none
        of them written here) has an event after the version given: then write nothing and
        return None. Raises the library's ``IntegrityError`` when a version is taken.

        A few events on a few streams (one recording: its event, perhaps an allowance's,
        on two or three streams) are one statement, ``_insert_unless_changed``, that is its
        own transaction; more take a transaction of their own (``_insert_then_check``)."""
        if not stored_events:
            return []
        if len(stored_events) <= SQLITE_EVENTS_IN_ONE_STATEMENT and (
            len(unchanged) <= SQLITE_STREAMS_IN_ONE_STATEMENT
        ):
            return self._insert_unless_changed(stored_events, unchanged)
        return self._insert_then_check(stored_events, unchanged)

    def _insert_unless_changed(
        self, stored_events: Sequence[StoredEvent], unchanged: Mapping[UUID, int]
    ) -> Sequence[int] | None:
        """One ``INSERT … SELECT … WHERE NOT EXISTS …`` outside any ``BEGIN``: SQLite runs it
        as a transaction of its own, committed (with the same durability as any commit) when
        the statement ends, or rolled back as a whole when it fails. A writing statement
        takes the write lock before it reads, so its check sees every other writer's
        committed events; the rows go in in the order given (``ORDER BY`` their place).

        The library's connections keep one prepared statement (``cached_statements=True``),
        and preparing this one costs more than running it: so that one recording after
        another, kudos or not, is the same text, the rows are padded to
        ``SQLITE_PADDED_EVENTS`` with rows of no place (never inserted) and the streams to
        ``SQLITE_PADDED_STREAMS`` with streams of no id (never changed)."""
        events = max(len(stored_events), SQLITE_PADDED_EVENTS)
        streams = max(len(unchanged), SQLITE_PADDED_STREAMS)
        statement = self._conditional_inserts.get((events, streams))
        if statement is None:
            statement = self._conditional_insert(events, streams)
        params: list[object] = []
        for place, e in enumerate(stored_events):
            originator_id = e.originator_id
            params += (
                place,
                originator_id.hex if isinstance(originator_id, UUID) else originator_id,
                e.originator_version,
                e.topic,
                e.state,
            )
        params += _NO_ROW * (events - len(stored_events))
        for stream, after in unchanged.items():
            params += (stream.hex, after)
        params += _NO_STREAM * (streams - len(unchanged))
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor().sqlite_cursor
            try:
                cursor.execute(statement, params)
                inserted, last = cursor.rowcount, cursor.lastrowid
            except sqlite3.Error as error:
                raise _library_error(error) from error
            finally:
                cursor.close()
        if inserted != len(stored_events):  # all rows or none: the condition is the same
            return None
        assert last is not None
        return list(range(last - inserted + 1, last + 1))

    def _conditional_insert(self, events: int, streams: int) -> str:
        rows = ",".join("(?,?,?,?,?)" for _ in range(events))
        checks = "".join(
            f" AND NOT EXISTS (SELECT 1 FROM {self.events_table_name} "  # noqa: S608
            "WHERE originator_id=? AND originator_version>?)"
            for _ in range(streams)
        )
        statement = (
            f"INSERT INTO {self.events_table_name} "  # noqa: S608 - placeholders only
            "(originator_id, originator_version, topic, state) "
            f"SELECT column2, column3, column4, column5 FROM (VALUES {rows}) "
            f"WHERE column1 IS NOT NULL{checks} ORDER BY column1"
        )
        self._conditional_inserts[(events, streams)] = statement
        return statement

    def _insert_then_check(
        self, stored_events: Sequence[StoredEvent], unchanged: Mapping[UUID, int]
    ) -> Sequence[int] | None:
        """The rows go first: the insert takes the write lock, so the check that follows,
        in the same transaction, sees every other writer's committed events."""
        try:
            with self.datastore.transaction(commit=True) as c:
                ids = self._insert_events(c, stored_events)
                if unchanged and self._any_changed(c, unchanged):
                    raise _Changed
                return ids
        except _Changed:
            return None

    def insert_rows_unless_changed(
        self, rows: Iterable[StoredRow], unchanged: Mapping[UUID, int]
    ) -> bool:
        """``insert_events_unless_changed`` for rows already in the driver's terms (taken
        from any iterable, a cursor of another database too, by one ``executemany``):
        True when they are written (or there were none: then the store is not asked),
        False when a stream in ``unchanged`` has changed. Raises the library's
        ``IntegrityError`` when a version is taken."""
        remaining = iter(rows)
        first = next(remaining, None)
        if first is None:
            return True
        try:
            with self.datastore.transaction(commit=True) as c:
                c.executemany(self.insert_events_statement, chain((first,), remaining))
                if unchanged and self._any_changed(c, unchanged):
                    raise _Changed
        except _Changed:
            return False
        return True

    def _any_changed(self, c: SQLiteCursor, unchanged: Mapping[UUID, int]) -> bool:
        for chunk in _chunks(unchanged, SQLITE_STREAMS_PER_STATEMENT):
            values = ",".join("(?,?)" for _ in chunk)
            c.execute(
                f"WITH wanted(id, after) AS (VALUES {values}) "  # noqa: S608 - placeholders only
                f"SELECT 1 FROM wanted JOIN {self.events_table_name} e "
                "ON e.originator_id = wanted.id AND e.originator_version > wanted.after LIMIT 1",
                [value for stream, after in chunk for value in (stream.hex, after)],
            )
            if c.fetchone() is not None:
                return True
        return False

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        """All the rows in one ``executemany`` (the library's recorder runs one statement
        per row to learn each row's id). Inside one write transaction nobody else inserts,
        so the rows take consecutive ids, ending at the connection's last inserted one."""
        rows = [
            (e.originator_id.hex, e.originator_version, e.topic, e.state)
            if isinstance(e.originator_id, UUID)
            else (e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        if len(rows) == 1:
            c.execute(self.insert_events_statement, rows[0])
            return [c.lastrowid]
        c.executemany(self.insert_events_statement, rows)
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        return list(range(last - len(stored_events) + 1, last + 1))

    def select_streams_after(self, wanted: Mapping[UUID, int]) -> Sequence[StoredEvent]:
        """Every event of each stream in ``wanted`` after the version given for it,
        ordered by stream and version."""
        found: list[StoredEvent] = []
        for chunk in _chunks(wanted, SQLITE_STREAMS_PER_STATEMENT):
            values = ",".join("(?,?)" for _ in chunk)
            statement = (
                f"WITH wanted(id, after) AS (VALUES {values}) "  # noqa: S608 - placeholders only
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                f"FROM wanted JOIN {self.events_table_name} e "
                "ON e.originator_id = wanted.id AND e.originator_version > wanted.after "
                "ORDER BY e.originator_id, e.originator_version"
            )
            params: list[object] = []
            for stream, after in chunk:
                params += (stream.hex, after)
            # One statement is a consistent read by itself: no BEGIN and ROLLBACK around it.
            with self.datastore.get_connection(commit=False) as connection:
                cursor = connection.cursor()
                cursor.execute(statement, params)
                found += [
                    StoredEvent(
                        originator_id=self.convert_originator_id(row[0]),
                        originator_version=row[1],
                        topic=row[2],
                        state=row[3],
                    )
                    for row in cursor.fetchall()
                ]
        return found


# The append's own check that no stream it was decided on has moved. A LATERAL probe with
# LIMIT 1 per stream keeps every plan — the generic one a prepared statement settles on
# too — to one index probe per stream: written as a plain join, the generic plan hashes the
# streams and scans the whole table, a cost that grows with the store (10 ms at 23,000
# events, by EXPLAIN ANALYZE).
_NO_LATER_EVENT = (
    "WHERE NOT EXISTS (SELECT FROM unnest(%b::uuid[], %b::bigint[]) AS wanted(id, after) "
    "CROSS JOIN LATERAL (SELECT FROM {schema}.{table} e "
    "WHERE e.originator_id = wanted.id AND e.originator_version > wanted.after LIMIT 1) "
    "AS later)"
)


class StreamsPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self._insert_columns_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

        self._insert_unless_changed_statement = SQL(
            # Constant text only: the names are bound by Identifier below.
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "  # noqa: S608
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            + _NO_LATER_EVENT
            + " RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self._insert_rows_unless_changed_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT id::uuid, version, topic, state "
            "FROM unnest(%b::text[], %b::bigint[], %b::text[], %b::bytea[]) "
            "AS r(id, version, topic, state) " + _NO_LATER_EVENT
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self._notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel_name))

    def insert_events_unless_changed(
        self, stored_events: Sequence[StoredEvent], unchanged: Mapping[UUID, int]
    ) -> Sequence[int] | None:
        """Append ``stored_events`` in one transaction unless a stream in ``unchanged`` (none
        of them written here) has an event after the version given: then write nothing and
        return None. Raises the library's ``IntegrityError`` when a version is taken.

        One round trip: the whole transaction (begin, the library's table lock and
        notification, the insert that checks ``unchanged`` itself, commit) is sent as one
        pipeline and synced once. The check runs after the lock is held, and every writer
        takes that lock, so it sees every other writer's committed events."""
        if not stored_events:
            return []
        inserting = self._insert_in_one_round_trip(
            self._insert_unless_changed_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
                list(unchanged),
                list(unchanged.values()),
            ),
            returning=True,
        )
        # All rows or none: the condition does not depend on the row.
        return inserting or None

    def insert_rows_unless_changed(
        self, rows: Iterable[StoredRow], unchanged: Mapping[UUID, int]
    ) -> bool:
        """``insert_events_unless_changed`` for rows already in the driver's terms: True when
        they are written (or there were none: then the store is not asked), False when a
        stream in ``unchanged`` has changed. The ids go as text, cast by the server; the rest
        as binary arrays."""
        columns = [list(column) for column in zip(*rows, strict=True)]
        if not columns:
            return True
        written = self._insert_in_one_round_trip(
            self._insert_rows_unless_changed_statement,
            (*columns, list(unchanged), list(unchanged.values())),
            returning=False,
        )
        return bool(written)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_in_one_round_trip(
        self, statement: SQL, params: tuple[list[Any], ...], *, returning: bool
    ) -> list[int]:
        """Run one insert in its own transaction as one pipeline, synced once: begin, the
        library's table lock and notification, the insert, commit. The notification ids
        it returned (``returning``), or else as many zeros as it wrote rows.

        The insert's own check of the streams runs after the lock is held, and every
        writer takes that lock, so it sees every other writer's committed events."""
        with self.datastore.get_connection() as connection:
            inserting = connection.cursor()
            other = connection.cursor()
            try:
                with connection.pipeline():
                    other.execute("BEGIN")
                    self._lock_table(other)
                    other.execute(self._notify_statement)
                    inserting.execute(statement, params, prepare=True)
                    other.execute("COMMIT")
            except BaseException:
                # An error skips the rest of the pipeline, the COMMIT too: end the
                # transaction before the connection goes back to the pool.
                if connection.info.transaction_status != TransactionStatus.IDLE:
                    with suppress(psycopg.Error):  # a broken connection: the pool drops it
                        connection.execute("ROLLBACK")
                raise
            if returning:
                return [row["notification_id"] for row in inserting.fetchall()]
            return [0] * max(0, inserting.rowcount)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        """As the library inserts (the table locked, the channel notified, the notification
        ids returned), but the rows as four arrays of plain values rather than one array of a
        composite type, which psycopg spells out as text and escapes byte by byte: sent
        binary, nothing is escaped."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    def select_streams_after(self, wanted: Mapping[UUID, int]) -> Sequence[StoredEvent]:
        """Every event of each stream in ``wanted`` after the version given for it,
        ordered by stream and version."""
        if not wanted:
            return []
        statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS wanted(id, after) "
            "JOIN {schema}.{table} e "
            "ON e.originator_id = wanted.id AND e.originator_version > wanted.after "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(statement, (list(wanted), list(wanted.values())), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in cursor.fetchall()
            ]
