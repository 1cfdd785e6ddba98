"""The sealer: extends the hash chain over new notifications and signs checkpoints.

It runs in the projector's loop (``api.runtime``) and in ``callcraft audit seal``. Each batch
is one transaction that inserts the chain rows after the current head; when two sealers race,
the loser's insert hits the primary key of a row the winner wrote, rolls back, and starts
again from the new head, so the chain never forks. A checkpoint is signed once
``checkpoint_every`` events are sealed past the last one, and after catching up when the
last one is older than ``checkpoint_seconds`` (so signing is bounded in frequency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from domain.hash_chain import Checkpoint, checkpoint_message, extend, moment_text
from domain.signatures import SigningKey
from projections.chain_store import chain_head, insert_checkpoint, insert_rows, latest_checkpoint
from projections.chain_tables import create_chain_tables

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SealOutcome:
    sealed: int
    head: int
    checkpoint: Checkpoint | None


class Sealer:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        engine: Engine,
        key: SigningKey,
        *,
        clock: Clock,
        checkpoint_every: int = 10_000,
        checkpoint_seconds: float = 60.0,
        batch_size: int = 1000,
    ) -> None:
        self.recorder = recorder
        self.engine = engine
        self.key = key
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.batch_size = batch_size
        self._ready = False

    def ensure_ready(self) -> None:
        if not self._ready:
            create_chain_tables(self.engine)
            self._ready = True

    def seal(
        self, *, force_checkpoint: bool = False, max_batches: int | None = None
    ) -> SealOutcome:
        """Seal what is new (at most ``max_batches`` batches) and sign when due."""
        self.ensure_ready()
        sealed = batches = 0
        last = latest_checkpoint(self.engine)
        signed = None
        while max_batches is None or batches < max_batches:
            added, head, link = self._seal_batch()
            sealed += added
            batches += 1
            if added and head - (last.position if last else 0) >= self.checkpoint_every:
                last = signed = self._sign(head, link)
            if added < self.batch_size:
                caught_up = True
                break
        else:
            caught_up = False
        with self.engine.connect() as connection:
            head, link = chain_head(connection)
        unsigned = head > (last.position if last else 0)
        if unsigned and (force_checkpoint or (caught_up and self._due(last))):
            signed = self._sign(head, link)
        return SealOutcome(sealed=sealed, head=head, checkpoint=signed)

    def _due(self, last: Checkpoint | None) -> bool:
        if last is None:
            return True
        return (self.clock() - last.signed_at).total_seconds() >= self.checkpoint_seconds

    def _seal_batch(self) -> tuple[int, int, bytes]:
        """(rows added, the head after, its link); retries when another sealer moved first."""
        while True:
            with self.engine.connect() as connection:
                head, link = chain_head(connection)
            notifications = self.recorder.select_notifications(
                start=head, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return 0, head, link
            rows = extend(link, notifications)
            try:
                with self.engine.begin() as connection:
                    insert_rows(connection, rows)
            except IntegrityError:
                continue  # another sealer sealed these first: start again from its head
            return len(rows), rows[-1].position, rows[-1].link

    def _sign(self, position: int, head_link: bytes) -> Checkpoint | None:
        signed_at = self.clock()
        text = moment_text(signed_at)
        signed_at = datetime.fromisoformat(text)
        key_id = self.key.key_id
        checkpoint = Checkpoint(
            position=position,
            head_link=head_link,
            signed_at=signed_at,
            key_id=key_id,
            signature=self.key.sign(checkpoint_message(position, head_link, signed_at, key_id)),
        )
        try:
            with self.engine.begin() as connection:
                insert_checkpoint(connection, checkpoint, text)
        except IntegrityError:
            return None  # another sealer signed this position already
        return checkpoint
