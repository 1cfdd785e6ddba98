"""The replay check's throughput (`callcraft audit replay`'s code path) and its extrapolation
to issue #5's 1,000,000 events (target: 30 s at most).

It runs on the benchmark's rebuilt store: a scratch rebuild up to the live position, then the
row-by-row comparison of every read-model table. Its ceiling is `callcraft rebuild` measured in
the same run, since a replay is a rebuild plus a comparison.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC

from sqlalchemy import Engine

from bench.measure import Figure, Series
from bench.places import Place
from domain.application import Callcraft

FULL_SCALE_EVENTS = 1_000_000
TARGET_SECONDS = 30.0


def replay_figures(
    kind: str, place: Place, app: Callcraft, live: Engine, events: int, runs: int, rebuild: Series
) -> list[Figure]:
    from api.replay import scratch_read_engine
    from projections.replay import Difference, replay_check

    ours = Series("callcraft audit replay", "/s")
    for run in range(runs):
        print(f"  {kind}: replay check run {run + 1}/{runs}", file=sys.stderr, flush=True)
        found: list[Difference] = []
        with scratch_read_engine(place.read_url) as scratch:
            started = time.perf_counter()
            summary = replay_check(app, live, scratch, timezone=UTC, on_difference=found.append)
            seconds = time.perf_counter() - started
        if found:
            raise RuntimeError(f"the replay check found {len(found)} differences: {found[:3]}")
        ours.runs.append(max(summary.position, events) / seconds)
    at_full = Series(
        f"replay check at {FULL_SCALE_EVENTS:,} events (extrapolated)",
        "s",
        [FULL_SCALE_EVENTS / r for r in ours.runs],
    )
    target = Series("issue #5 target", "s", [TARGET_SECONDS])
    return [
        Figure(f"replay check ({events:,} events)", kind, ours, rebuild),
        Figure(f"replay check at {FULL_SCALE_EVENTS:,} events, linear", kind, at_full, target),
    ]
