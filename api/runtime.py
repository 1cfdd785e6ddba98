"""What a running Callcraft process holds: the application, the read engine, the projector,
and — when asked — the projector's background thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from api.bootstrap import build_application, build_read_engine
from api.settings import Settings
from domain.application import Callcraft
from projections.projector import Projector

log = logging.getLogger("callcraft.projector")
STOP_TIMEOUT_SECONDS = 30.0


class ProjectorThread:
    """Runs ``Projector.run_forever`` in a daemon thread until ``stop()``.

    An error in one round is logged and the loop carries on after the poll interval (the
    projection's tracking position makes every retry safe)."""

    def __init__(self, projector: Projector, poll_seconds: float) -> None:
        self.projector = projector
        self.poll_seconds = poll_seconds
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
                self.projector.run_forever(self._stop, self.poll_seconds)
            except Exception:
                log.exception("the projector failed; retrying after %ss", self.poll_seconds)
                self._stop.wait(max(self.poll_seconds, 1.0))

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


@dataclass
class Runtime:
    settings: Settings
    app: Callcraft
    read_engine: Engine
    projector: Projector
    thread: ProjectorThread | None = field(default=None)

    def log_position(self) -> int:
        """The highest notification id in the event log (0 when empty)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def start_projector(self) -> None:
        if self.thread is None:
            self.thread = ProjectorThread(self.projector, self.settings.projector_poll_seconds)
        self.thread.start()

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
        self.read_engine.dispose()
        self.app.close()


def open_runtime(
    settings: Settings,
    *,
    now: datetime | None = None,
    schema: str | None = None,
) -> Runtime:
    """Open the store (publishing the default rulebook if none), the read models (creating
    missing tables) and a projector for them."""
    app = build_application(settings, schema=schema)
    app.ensure_default_rulebook(now=now or datetime.now(UTC))
    engine = build_read_engine(settings.effective_read_database_url, schema=schema)
    projector = Projector(
        app, engine, timezone=settings.zone, batch_size=settings.projector_batch_size
    )
    projector.ensure_ready()
    return Runtime(settings=settings, app=app, read_engine=engine, projector=projector)
