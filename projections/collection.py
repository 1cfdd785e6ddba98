"""The cyclic garbage collector's young collections, paced for work that allocates by the
thousand and keeps what it allocates until a batch is written."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""Allocations (less deallocations) between two of the collector's young collections while a
process projects or rebuilds; CPython's default is 700. A batch keeps most of what it
allocates until it ends (rows, their dictionaries, the facts it keeps), so at 700 the
collector scanned those objects again and again and moved them into older generations it
then scanned whole: 3.6% of a full-size live batch's time (``py-spy`` of ``python -m
bench.batches``); 2.8 s of collections (4,321) for a rebuild's first 100,000 events of the
full-size store, 0.6 s (21) at this threshold. Cyclic garbage waits for at most this many
objects longer."""


@contextmanager
def fewer_collections(young: int) -> Iterator[None]:
    """Run the block with the collector's youngest generation collected once every
    ``young`` allocations (less deallocations) at least, not every 700; the process's
    thresholds come back afterwards. Still collected, so cyclic garbage stays bounded."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], young), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
