"""Memory of an export: how far the resident set grows while exporting the whole log.

Each measurement runs in a Python process of its own (``python -m bench.export_memory``): the
resident set after opening the store (and one warm-up line) is the baseline, and a thread
samples it every 2 ms while every line is written to ``/dev/null``; the figure is the peak
less the baseline. Beside
the streamed export, the same export held in memory (every piece joined into one string, as a
non-streaming export would) is the figure to stay well below; a flat export grows by the same
few MiB whatever the length of the log.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from bench.measure import Figure, Series
from bench.places import Place

CASES = (
    ("export JSON Lines (whole log, from the store): peak RSS growth", "jsonl", False),
    ("export CSV (from the event log read model): peak RSS growth", "csv", False),
    ("export JSON Lines, filtered (read model): peak RSS growth", "jsonl", True),
)


PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
SAMPLE_SECONDS = 0.002


def _rss_mib() -> float:
    """The resident set now (Linux: the second field of /proc/self/statm, in pages)."""
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * PAGE_MIB


class PeakSampler:
    """Samples the resident set every few milliseconds on a thread of its own."""

    def __init__(self) -> None:
        self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


def _measure(place: dict[str, str | None], export_format: str, filtered: bool, hold: bool) -> float:
    from datetime import UTC, datetime

    from api.bootstrap import build_read_engine
    from api.exporter import export_lines
    from domain.application import Callcraft
    from projections.event_filters import EventFilter

    app = Callcraft(env=json.loads(str(place["event_env"])))
    engine = build_read_engine(str(place["read_url"]), schema=place["schema"])
    wanted = EventFilter(since=datetime(2000, 1, 1, tzinfo=UTC)) if filtered else EventFilter()
    next(iter(export_lines(app, engine, wanted, export_format)), None)  # warm imports, caches
    gc.collect()
    before = _rss_mib()
    with PeakSampler() as sampler, Path(os.devnull).open("w", encoding="utf-8") as sink:
        pieces = export_lines(app, engine, wanted, export_format)
        if hold:
            sink.write("".join(pieces))
        else:
            for piece in pieces:
                sink.write(piece)
    return sampler.peak - before


def rss_growth(place: Place, export_format: str, *, filtered: bool, hold: bool) -> float:
    """MiB the resident set grew by while exporting, measured in a fresh process."""
    argument = json.dumps(
        {
            "event_env": json.dumps(place.event_env()),
            "read_url": place.read_url,
            "schema": place.schema,
            "format": export_format,
            "filtered": filtered,
            "hold": hold,
        }
    )
    done = subprocess.run(  # noqa: S603 - our own module, with our own arguments
        [sys.executable, "-m", "bench.export_memory", argument],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def export_memory_figures(kind: str, place: Place, runs: int) -> list[Figure]:
    """Streamed exports beside the same exports held in memory (MiB of peak RSS growth)."""
    figures = []
    for name, export_format, filtered in CASES:
        ours = Series("streamed", "MiB")
        held = Series("the same export held in memory", "MiB")
        for _ in range(runs):
            ours.runs.append(rss_growth(place, export_format, filtered=filtered, hold=False))
            held.runs.append(rss_growth(place, export_format, filtered=filtered, hold=True))
        figures.append(Figure(name, kind, ours, held))
    return figures


if __name__ == "__main__":
    options = json.loads(sys.argv[1])
    growth = _measure(options, options["format"], options["filtered"], options["hold"])
    print(f"{growth:.3f}")
