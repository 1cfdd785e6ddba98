"""The cyclic garbage collector's pauses, kept out of a projecting process's batches.

CPython's collector, on a full collection, scans every object it tracks. A projecting process
keeps every agent's live facts in memory (:class:`projections.scoped.LiveFacts`: about ten
tracked objects a recognition; 342,000 objects at the benchmark's quick scale, and up to its
200,000 kept rows at full size), so the full collection the collector starts by itself every
few thousand recordings took 120–160 ms at the quick scale, in the middle of a batch: the
live lag's p99 on SQLite (measured 2026-12-02: one such pause in 1,500 recordings).

Between batches, :meth:`BatchCollector.settle` collects what is garbage now and freezes
everything still alive (``gc.freeze``): later collections no longer scan it, so each settle
scans only what the last batch left (0.16 ms at the median, under 3 ms at most, on the same
store). While it settles batches, the young collections wait for :data:`YOUNG_THRESHOLD`
allocations rather than 700. A frozen object is still freed as soon as its last reference
goes (reference counting); what freezing keeps is a reference cycle among frozen objects
that becomes garbage later. The live facts hold no cycles, and so that such leftovers stay
bounded, every ``full_every_seconds`` a settle unfreezes and collects everything once.

Only for a process that does nothing but project (``callcraft project``): in a web process,
requests in flight at a settle would be frozen with their cycles.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from projections.collection import YOUNG_THRESHOLD

FULL_EVERY_SECONDS = 600.0


class BatchCollector:
    """Collects and freezes between batches; a full collection every ``full_every_seconds``."""

    def __init__(
        self,
        full_every_seconds: float = FULL_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if full_every_seconds <= 0:
            raise ValueError("full_every_seconds must be positive")
        self.full_every_seconds = full_every_seconds
        self._clock = clock
        self._last_full = clock()
        self.full_collections = 0
        self._thresholds: tuple[int, int, int] | None = None  # the process's, while raised

    def settle(self) -> None:
        """Collect the garbage the objects not frozen yet hold, then freeze the rest
        (after a batch, or after the process has warmed its caches)."""
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(YOUNG_THRESHOLD, *self._thresholds[1:])
        now = self._clock()
        if now - self._last_full >= self.full_every_seconds:
            gc.unfreeze()
            self._last_full = now
            self.full_collections += 1
        gc.collect()
        gc.freeze()

    def release(self) -> None:
        """Give every frozen object back to the collector, and its thresholds back to the
        process (the process stops projecting)."""
        gc.unfreeze()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
