"""What a running Callcraft process holds: the application, the read engine, the projector,
and — when asked — the projector's background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from api.bootstrap import build_application, build_event_store_engine, build_read_engine
from api.settings import Settings
from api.signing_key import load_signing_key
from domain.application import Callcraft
from projections.integrity import Integrity
from projections.projector import Progress, Projector
from projections.schema import earlier_layout
from projections.sealer import Sealer
from projections.wal_checkpointer import WalCheckpointer

log = logging.getLogger("callcraft.projector")
STOP_TIMEOUT_SECONDS = 30.0
SEAL_BATCHES_PER_ROUND = 10  # a long backlog is sealed over several rounds, between batches


class ProjectorThread:
    """Runs ``Projector.run_forever`` in a daemon thread until ``stop()``.

    After its first catch-up it warms the projector (:meth:`Projector.warm`, as
    ``callcraft project`` does at start), so that its batches do not read each agent's
    history again on the agent's first recording; :attr:`warmed` is set once that is done
    (or failed: the facts are then kept as the batches read them). Between rounds it waits
    for the poll interval or for :meth:`Projector.wake` (a write of this process, or a
    read-your-writes wait), whichever comes first. An error in one round is logged and the
    loop carries on after the poll interval (the projection's tracking position makes every
    retry safe)."""

    def __init__(
        self,
        projector: Projector,
        poll_seconds: float,
        after_round: Callable[[], None] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.projector = projector
        self.poll_seconds = poll_seconds
        self.after_round = after_round
        self.progress = progress  # after each batch, as ``Projector.catch_up`` calls it
        self.warmed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="callcraft-projector", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.projector.catch_up(self.progress)
                if not self.warmed.is_set():
                    try:
                        self.projector.warm()
                    finally:
                        self.warmed.set()
                if self.after_round is not None:
                    self.after_round()
                if not self._stop.is_set():
                    self.projector.idle(self.poll_seconds)
            except Exception:
                log.exception("the projector failed; retrying after %ss", self.poll_seconds)
                self._stop.wait(max(self.poll_seconds, 1.0))

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self._stop.set()
        self.projector.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


@dataclass
class Runtime:
    settings: Settings
    app: Callcraft
    read_engine: Engine
    projector: Projector
    chain_sealer: Sealer | None = field(default=None)
    chain_integrity: Integrity | None = field(default=None)
    thread: ProjectorThread | None = field(default=None)
    checkpointer: WalCheckpointer | None = field(default=None)

    @property
    def sealer(self) -> Sealer:
        """The hash chain's sealer (``open_runtime`` always opens one)."""
        if self.chain_sealer is None:
            raise RuntimeError("this runtime was opened without the hash chain")
        return self.chain_sealer

    @property
    def integrity(self) -> Integrity:
        """The tamper-evidence checks (``open_runtime`` always opens them)."""
        if self.chain_integrity is None:
            raise RuntimeError("this runtime was opened without the hash chain")
        return self.chain_integrity

    def log_position(self) -> int:
        """The highest notification id in the event log (0 when empty)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def start_projector(self) -> None:
        if self.thread is None:
            self.thread = ProjectorThread(
                self.projector, self.settings.projector_poll_seconds, self.seal_round
            )
        self.thread.start()

    def seal_round(self) -> None:
        """Extend the hash chain over what is new (a bounded amount) and sign when due;
        a failure is logged and the next round tries again (the chain's head decides)."""
        try:
            self.sealer.seal(max_batches=SEAL_BATCHES_PER_ROUND)
        except Exception:
            log.exception("the sealer failed; the next round tries again")

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.read_engine.dispose()
        if self.chain_integrity is not None:
            self.chain_integrity.engine.dispose()
        self.app.close()


def open_runtime(
    settings: Settings,
    *,
    now: datetime | None = None,
    schema: str | None = None,
    publish_default_rulebook: bool = True,
) -> Runtime:
    """Open the store (publishing the default rulebook if none, unless the caller will, as
    the demo does under its own clock), the read models (creating missing tables), a
    projector for them, and the hash chain's sealer (its signing key is loaded, or generated
    by default, first: a bad key stops the start)."""
    key = load_signing_key(settings)
    app = build_application(settings, schema=schema)
    if publish_default_rulebook:
        app.ensure_default_rulebook(now=now or datetime.now(UTC))
    engine = build_read_engine(settings.effective_read_database_url, schema=schema)
    checkpointer = WalCheckpointer.for_engine(engine)  # a thread from the first batch on
    projector = Projector(
        app,
        engine,
        timezone=settings.zone,
        batch_size=settings.projector_batch_size,
        checkpointer=checkpointer,
        kept_facts=settings.projector_kept_facts,
        page_cache_mib=settings.projector_cache_mib,
    )
    projector.ensure_ready()
    earlier = earlier_layout(engine)
    if earlier:
        log.warning(
            "the read models %s have the layout of an earlier Callcraft: they work as they "
            "are, and `callcraft rebuild` makes them smaller and faster to write",
            ", ".join(earlier),
        )
    chain_engine = build_event_store_engine(settings.database_url, schema=schema)
    sealer = Sealer(
        app.recorder,
        chain_engine,
        key,
        clock=lambda: datetime.now(UTC),
        checkpoint_every=settings.checkpoint_every,
        checkpoint_seconds=settings.checkpoint_seconds,
    )
    integrity = Integrity(app.recorder, chain_engine, key.public_key)
    sealer.ensure_ready()  # the chain's tables, before any thread or request can race for them
    integrity.ensure_ready()
    return Runtime(
        settings=settings,
        app=app,
        read_engine=engine,
        projector=projector,
        chain_sealer=sealer,
        chain_integrity=integrity,
        checkpointer=checkpointer,
    )
