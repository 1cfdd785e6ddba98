"""What an auditor asks of the tamper-evident history: the public key, the latest
checkpoint, and a full verification of the store against the chain and the checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine

from domain.hash_chain import Checkpoint, IntegrityReport, audit
from domain.signatures import PublicKey
from projections.chain_store import (
    chain_head,
    chain_rows,
    checkpoints,
    latest_checkpoint,
    stored_events,
)
from projections.chain_tables import create_chain_tables

Progress = Callable[[int, int], None]
"""Called with (position reached, last notification id) now and then."""


@dataclass
class Integrity:
    recorder: ApplicationRecorder
    engine: Engine
    public_key: PublicKey
    _ready: bool = field(default=False, init=False, repr=False)

    def ensure_ready(self) -> None:
        if not self._ready:
            create_chain_tables(self.engine)
            self._ready = True

    def latest_checkpoint(self) -> Checkpoint | None:
        self.ensure_ready()
        return latest_checkpoint(self.engine)

    def verify(
        self, progress: Progress | None = None, public_key: PublicKey | None = None
    ) -> IntegrityReport:
        """Check every stored event against the chain and every checkpoint against the key."""
        self.ensure_ready()
        key = public_key or self.public_key
        # The chain as it is now: a sealer may go on while this reads, and what it seals
        # from here on is "not yet sealed" for this verification (its events come later in
        # the log than every event of the chain read here, so none is missed).
        with self.engine.connect() as connection:
            head, _ = chain_head(connection)
        last = int(self.recorder.max_notification_id() or 0)
        return audit(
            stored_events(self.recorder),
            chain_rows(self.engine, until=head),
            checkpoints(self.engine, until=head),
            key.signed,
            None if progress is None else (lambda position: progress(position, last)),
        )
