"""The tamper-evident history's figures: sealing the log, and `callcraft audit verify`.

Issue #5's target: verify 1,000,000 events in at most 30 s; the figure's name carries the
extrapolation from the measured rate (the work is linear in the number of events).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from api.bootstrap import build_event_store_engine
from bench.measure import Figure, Series
from bench.places import Place
from domain.application import Callcraft
from domain.signatures import SigningKey
from projections.integrity import Integrity
from projections.sealer import Sealer

MILLION = 1_000_000


def integrity_figures(
    kind: str, app: Callcraft, place: Place, runs: int, raw_read: Series
) -> list[Figure]:
    """Seal the whole log once (timed), then verify it ``runs`` times."""
    engine = build_event_store_engine(place.database_url, schema=place.schema)
    key = SigningKey.generate()
    sealer = Sealer(app.recorder, engine, key, clock=lambda: datetime.now(UTC), batch_size=5000)
    integrity = Integrity(app.recorder, engine, key.public_key)
    try:
        print(f"  {kind}: sealing the log", file=sys.stderr, flush=True)
        started = time.perf_counter()
        outcome = sealer.seal(force_checkpoint=True)
        seal = Series(
            "sealer: chain + sign", "/s", [outcome.sealed / (time.perf_counter() - started)]
        )
        verify = Series("callcraft audit verify", "/s")
        for run in range(runs):
            print(f"  {kind}: verify run {run + 1}/{runs}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            report = integrity.verify()
            seconds = time.perf_counter() - started
            if not report.clean:
                raise RuntimeError(f"an untouched store did not verify: {report.problems[:5]}")
            verify.runs.append(report.events_checked / seconds)
        total = outcome.head
        projected = MILLION / verify.median
        return [
            Figure(f"seal the hash chain ({total:,} events)", kind, seal, raw_read),
            Figure(
                f"audit verify ({total:,} events; 1M → {projected:.0f} s)", kind, verify, raw_read
            ),
        ]
    finally:
        engine.dispose()
