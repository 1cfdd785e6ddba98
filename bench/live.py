"""Live lag and rebuild memory: how soon a recording is visible, and what a rebuild holds.

* **Live lag**: one writer records at a fixed rate (500 recordings/s by default) through
  ``Callcraft.record``, one durable commit each, into a store whose read models are already
  built; a projector thread in the same process (the embedded default's shape) keeps them
  up to date, woken by each write as the web layer's read-your-writes wait wakes it. The lag
  of a recording is from its commit returning to the end of the projector transaction that
  made it visible in every read model. The writer falls behind the rate when recording
  itself is slower: the rate reached is reported beside the lag.
* **Rebuild memory**: the growth of the process's peak resident set during a rebuild, in a
  fresh process per store size, so that one size's allocations do not hide the other's. Linux's
  ``VmHWM`` is read, not ``ru_maxrss``: the latter survives ``exec`` and so starts at the
  benchmark's own (large) peak.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import Engine

from api.runtime import ProjectorThread
from api.settings import load_settings
from bench.data import NOW, command_for
from bench.places import Place
from domain.application import Callcraft
from domain.recordings import RecordRecognition
from projections.projector import Projector
from projections.wal_checkpointer import WalCheckpointer


@dataclass(frozen=True)
class LiveLag:
    lags_ms: list[float]
    rate: float  # recordings per second the writer reached


PROCESS_POLL_SECONDS = 0.01


def live_lag_separate(
    app: Callcraft,
    place: Place,
    rows: list[dict[str, str]],
    target_rate: float,
    poll_seconds: float = PROCESS_POLL_SECONDS,
) -> Callable[[], LiveLag]:
    """The live lag with the projector in a process of its own (``callcraft project``'s
    loop, polling every ``poll_seconds``), the writer alone in this one."""
    commands = [command_for(row) for row in rows]

    def run() -> LiveLag:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "bench.projector_process",
                place.database_url,
                place.read_url,
                place.schema or "",
                str(poll_seconds),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        output = child.stdout
        if not output.readline().startswith("ready"):
            raise RuntimeError("the projector process did not start")
        visible: list[tuple[int, float]] = []

        def read() -> None:
            for line in output:
                position, at = line.split()
                visible.append((int(position), float(at)))

        reader = threading.Thread(target=read, name="bench-projector-output", daemon=True)
        reader.start()
        committed, reached = _paced_writes(app, commands, target_rate)
        last = committed[-1][0]
        deadline = time.monotonic() + 120
        while (not visible or visible[-1][0] < last) and time.monotonic() < deadline:
            time.sleep(0.01)
        child.stdin.close()
        child.wait(30)
        reader.join(5)
        return LiveLag(_lags(committed, visible), reached)

    return run


def _paced_writes(
    app: Callcraft,
    commands: list[RecordRecognition],
    target_rate: float,
    after_each: Callable[[], None] = lambda: None,
) -> tuple[list[tuple[int, float]], float]:
    """Record ``commands`` one at a time at ``target_rate`` (or as fast as recording allows):
    each commit's log position with its moment (``time.monotonic``, which a child process
    reads alike), and the rate reached."""
    committed: list[tuple[int, float]] = []
    started = time.monotonic()
    for index, command in enumerate(commands):
        pause = started + index / target_rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        app.record(command, now=NOW)
        committed.append((app.recorder.max_notification_id() or 0, time.monotonic()))
        after_each()
    return committed, len(commands) / (time.monotonic() - started)


def _lags(committed: list[tuple[int, float]], visible: list[tuple[int, float]]) -> list[float]:
    """Milliseconds from each commit to the first batch end that shows it."""
    lags: list[float] = []
    cursor = 0
    for position, at in committed:
        while cursor < len(visible) and visible[cursor][0] < position:
            cursor += 1
        if cursor == len(visible):
            break
        lags.append((visible[cursor][1] - at) * 1000)
    return lags


def live_lag(
    app: Callcraft,
    engine: Engine,
    rows: list[dict[str, str]],
    target_rate: float,
    poll_seconds: float = 0.2,
) -> Callable[[], LiveLag]:
    """The live lag with the projector a thread of this process (``callcraft serve``'s
    default), woken by each write."""
    commands = [command_for(row) for row in rows]

    def run() -> LiveLag:
        checkpointer = WalCheckpointer.for_engine(engine)  # as `callcraft serve`'s runtime has
        kept = load_settings().projector_kept_facts  # as `serve`'s runtime and the process
        projector = Projector(app, engine, timezone=UTC, checkpointer=checkpointer, kept_facts=kept)
        projector.catch_up()
        visible: list[tuple[int, float]] = []  # (position, when it became visible)
        thread = ProjectorThread(
            projector,
            poll_seconds,
            progress=lambda position, _last: visible.append((position, time.monotonic())),
        )
        thread.start()
        thread.warmed.wait(600)  # as `serve` is, once started: the facts kept in memory
        try:
            committed, reached = _paced_writes(app, commands, target_rate, projector.wake)
            last = committed[-1][0]
            deadline = time.monotonic() + 60
            while (not visible or visible[-1][0] < last) and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            thread.stop()
            checkpointer.stop()
        return LiveLag(_lags(committed, visible), reached)

    return run


def rebuild_peak_growth(database_url: str, read_url: str, schema: str | None) -> float:
    """MiB the peak resident set grew by during one rebuild, in a fresh process."""
    script = (
        "import json, resource, sys\n"
        "from datetime import UTC\n"
        "from api.bootstrap import build_read_engine\n"
        "from api.store import event_store_env\n"
        "from domain.application import Callcraft\n"
        "from projections.rebuild import rebuild\n"
        "url, read_url, schema = sys.argv[1], sys.argv[2], sys.argv[3] or None\n"
        "app = Callcraft(env=event_store_env(url, schema=schema))\n"
        "engine = build_read_engine(read_url, schema=schema)\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1])\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "app.recorder.select_notifications(start=0, limit=1)\n"
        "before = peak()\n"
        "rebuild(app, engine, timezone=UTC)\n"
        "after = peak()\n"
        "print(json.dumps((after - before) / 1024))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, database_url, read_url, schema or ""],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1]))
