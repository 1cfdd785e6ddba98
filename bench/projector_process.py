"""The projector in a process of its own, as ``callcraft project`` runs it (the live-lag
benchmark's writer is then alone in its interpreter, as the web workers are in production).

``python -m bench.projector_process DATABASE_URL READ_URL SCHEMA POLL_SECONDS``: applies the
log batch by batch (``Projector.run_once``, polling every ``POLL_SECONDS`` when idle, the loop
of ``callcraft project``) and prints ``position monotonic-seconds`` after each batch, until its
standard input closes. ``time.monotonic`` is the system's clock, so the writer compares it
with its own commit times.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC

from api.bootstrap import build_read_engine
from api.collector import BatchCollector
from api.log_waker import waker_for
from api.settings import load_settings
from api.store import event_store_env
from domain.application import Callcraft
from projections.projector import Projector
from projections.wal_checkpointer import WalCheckpointer


def main(database_url: str, read_url: str, schema: str | None, poll_seconds: float) -> None:
    app = Callcraft(env=event_store_env(database_url, schema=schema))
    engine = build_read_engine(read_url, schema=schema)
    checkpointer = WalCheckpointer.for_engine(engine)  # as `callcraft project`'s runtime has
    settings = load_settings()  # CALLCRAFT_PROJECTOR_KEPT_FACTS and _CACHE_MIB, as the CLI's
    projector = Projector(
        app,
        engine,
        timezone=UTC,
        checkpointer=checkpointer,
        kept_facts=settings.projector_kept_facts,
        page_cache_mib=settings.projector_cache_mib,
    )
    projector.catch_up()
    projector.warm()  # as `callcraft project` does at start
    collector = BatchCollector()  # as `callcraft project` does: settled between batches
    collector.settle()
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    print(f"ready {projector.position()}", flush=True)
    waker = waker_for(app.recorder, stop)  # as `callcraft project`: PostgreSQL wakes it
    while not stop.is_set():
        if projector.run_once():
            print(f"{projector.position()} {time.monotonic()}", flush=True)
            collector.settle()
        else:
            waker.wait(poll_seconds)
    waker.close()
    checkpointer.stop()
    engine.dispose()
    app.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] or None, float(sys.argv[4]))
