"""Reading and writing the chain's tables, and streaming the stored events, in batches.

Every stream reads one batch per query in position order, so memory stays flat however long
the history; the stored events are read as the library stores them
(``recorder.select_notifications``), never re-encoded from domain events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import Connection, Engine, func, insert, select, true

from domain.hash_chain import GENESIS, ChainRow, Checkpoint
from projections.chain_tables import chain_checkpoints, chain_links

BATCH = 5000


def stored_events(
    recorder: ApplicationRecorder, batch: int = BATCH, after: int = 0
) -> Iterator[Notification]:
    while True:
        notifications = recorder.select_notifications(
            start=after, limit=batch, inclusive_of_start=False
        )
        yield from notifications
        if len(notifications) < batch:
            return
        after = notifications[-1].id


def chain_rows(
    engine: Engine, batch: int = BATCH, after: int = 0, until: int | None = None
) -> Iterator[ChainRow]:
    """The chain's rows after ``after`` (and up to ``until``), in position order."""
    c = chain_links.c
    bound = c.notification_id <= until if until is not None else true()
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                select(c.notification_id, c.content_hash, c.link)
                .where(c.notification_id > after, bound)
                .order_by(c.notification_id)
                .limit(batch)
            ).all()
        for row in rows:
            yield ChainRow(int(row[0]), bytes(row[1]), bytes(row[2]))
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


def _checkpoint(row: Sequence[object]) -> Checkpoint:
    position, head_link, signed_at, key_id, signature = row
    return Checkpoint(
        position=int(position),  # type: ignore[call-overload]
        head_link=bytes(head_link),  # type: ignore[call-overload]
        signed_at=datetime.fromisoformat(str(signed_at)),
        key_id=str(key_id),
        signature=bytes(signature),  # type: ignore[call-overload]
    )


CHECKPOINT_COLUMNS = (
    chain_checkpoints.c.position,
    chain_checkpoints.c.head_link,
    chain_checkpoints.c.signed_at,
    chain_checkpoints.c.key_id,
    chain_checkpoints.c.signature,
)


def checkpoints(
    engine: Engine, batch: int = BATCH, until: int | None = None
) -> Iterator[Checkpoint]:
    """The checkpoints (up to position ``until``), in position order."""
    position = chain_checkpoints.c.position
    bound = position <= until if until is not None else true()
    after = -1
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                select(*CHECKPOINT_COLUMNS)
                .where(position > after, bound)
                .order_by(chain_checkpoints.c.position)
                .limit(batch)
            ).all()
        for row in rows:
            yield _checkpoint(tuple(row))
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


def latest_checkpoint(engine: Engine) -> Checkpoint | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(*CHECKPOINT_COLUMNS).order_by(chain_checkpoints.c.position.desc()).limit(1)
        ).first()
    return None if row is None else _checkpoint(tuple(row))


def chain_head(connection: Connection) -> tuple[int, bytes]:
    """(the last sealed position, the link there); (0, GENESIS) before any seal."""
    row = connection.execute(
        select(chain_links.c.notification_id, chain_links.c.link)
        .order_by(chain_links.c.notification_id.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))


def chain_length(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(chain_links)).scalar_one())


def insert_rows(connection: Connection, rows: Sequence[ChainRow]) -> None:
    connection.execute(
        insert(chain_links),
        [
            {"notification_id": r.position, "content_hash": r.content_hash, "link": r.link}
            for r in rows
        ],
    )


def insert_checkpoint(connection: Connection, checkpoint: Checkpoint, signed_at: str) -> None:
    connection.execute(
        insert(chain_checkpoints).values(
            position=checkpoint.position,
            head_link=checkpoint.head_link,
            signed_at=signed_at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
        )
    )
