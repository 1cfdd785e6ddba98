"""What one live batch costs the projector on a large store, batch by batch.

``python -m bench.batches [--scale full] [--recordings 1500] [--batch 50] [--kept N]
[--stores DIR]``: builds (or reuses, under ``--stores``) a store of the scale — its centre and
bulk recognitions recorded through the application, every read model rebuilt, as
``--live-only`` builds its own —, copies it to a scratch directory, appends ``--recordings``
of the live-lag benchmark's rows (backdated over the history, as ``bench/run.py`` makes them),
then warms a projector as ``callcraft project`` does and applies them ``--batch`` at a time
(with the WAL checkpointer of ``callcraft project``), printing the warm-up, the resident size
after it, each batch's wall and CPU time (p50 and p90) and, on Linux, the process's read and
write calls and bytes a batch (``/proc/self/io``, the checkpointer's thread included): those
counts do not move with the machine's pace, which the times do. No writer runs beside it: this
is the projector's own cost a batch, which the live-lag figure at 500/s turns into lag.
SQLite only. Not part of ``make bench``: at the full size the store alone takes minutes.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import UTC
from pathlib import Path

from api.collector import BatchCollector
from bench.data import NOW, command_for, make_centre
from bench.full_store import STORES, cached_store, code_fingerprint
from bench.measure import percentile
from bench.places import Place
from bench.run import fill_live_store, live_rows
from bench.scale import SCALES, Scale
from domain.application import MAX_BATCH, Callcraft
from projections.projector import Projector
from projections.wal_checkpointer import WalCheckpointer


def build_store(directory: Path, scale: Scale, seed: int) -> None:
    """The store of the live-lag figures at ``scale`` (:func:`bench.run.fill_live_store`)."""
    place = Place.sqlite_in(directory)
    app = Callcraft(env=place.event_env())
    engine = place.read_engine()
    try:
        fill_live_store(app, engine, make_centre(scale.agents), scale, seed)
    finally:
        engine.dispose()
        app.close()


IO_FILE = Path("/proc/self/io")
IO_COUNTS = ("syscr", "rchar", "syscw", "wchar")


def io_counts() -> dict[str, int] | None:
    """This process's read and write calls and bytes so far (Linux), or None."""
    try:
        lines = IO_FILE.read_text().splitlines()
    except OSError:
        return None
    found = dict(line.split(": ", 1) for line in lines if ": " in line)
    return {name: int(found[name]) for name in IO_COUNTS if name in found}


def measure(
    store: Path, scale: Scale, seed: int, recordings: int, batch: int, kept: int
) -> dict[str, float]:
    """Copy ``store``, append the live rows, warm, apply them; the figures."""
    with tempfile.TemporaryDirectory(prefix="batches-") as scratch:
        directory = Path(scratch) / "store"
        shutil.copytree(store, directory)
        place = Place.sqlite_in(directory)
        app = Callcraft(env=place.event_env())
        engine = place.read_engine()
        checkpointer = WalCheckpointer.for_engine(engine)
        try:
            rows = live_rows(seed, make_centre(scale.agents), recordings)
            commands = [command_for(row) for row in rows]
            for first in range(0, len(commands), MAX_BATCH):
                app.record_many(commands[first : first + MAX_BATCH], now=NOW)
            projector = Projector(
                app,
                engine,
                timezone=UTC,
                batch_size=batch,
                kept_facts=kept,
                checkpointer=checkpointer,
            )
            started = time.perf_counter()
            projector.warm()
            collector = BatchCollector()  # as `callcraft project` does: settled between batches
            collector.settle()
            warm = time.perf_counter() - started
            resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            walls: list[float] = []
            cpus: list[float] = []
            io_before = io_counts()
            while True:
                wall, cpu = time.perf_counter(), time.process_time()
                if not projector.run_once():
                    break
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                collector.settle()
            io_after = io_counts()
            collector.release()
        finally:
            checkpointer.stop()
            engine.dispose()
            app.close()
    io: dict[str, float] = {}
    if io_before is not None and io_after is not None and walls:
        spent = {name: io_after[name] - io_before[name] for name in io_before}
        io = {
            "read calls/batch": spent["syscr"] / len(walls),
            "read MB/batch": spent["rchar"] / len(walls) / 1e6,
            "write calls/batch": spent["syscw"] / len(walls),
            "write MB/batch": spent["wchar"] / len(walls) / 1e6,
        }
    return {
        "batches": len(walls),
        "warm-up s": warm,
        "peak resident MiB": resident,
        "wall p50 ms": percentile(walls, 0.5),
        "wall p90 ms": percentile(walls, 0.9),
        "CPU p50 ms": percentile(cpus, 0.5),
        "CPU p90 ms": percentile(cpus, 0.9),
        **io,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.batches")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--recordings", type=int, default=1_500)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--kept", type=int, default=1_000_000, help="facts kept (the setting)")
    parser.add_argument("--stores", type=Path, default=STORES, help="where the store is kept")
    options = parser.parse_args(argv)
    scale = SCALES[options.scale]
    key = f"batches-{scale.name}-{options.seed}-{code_fingerprint()}"
    store = cached_store(
        key,
        lambda directory: build_store(directory, scale, options.seed),
        root=options.stores,
        say=print,
    )
    figures = measure(store, scale, options.seed, options.recordings, options.batch, options.kept)
    print(
        f"{options.recordings:,} live recordings, {options.batch} a batch, "
        f"{options.kept:,} facts kept, {scale.agents:,} agents / {scale.events:,} events:"
    )
    for name, value in figures.items():
        print(f"  {name:18} {value:10,.1f}")
    return figures


if __name__ == "__main__":
    main()
