"""The cyclic garbage collector's young collections, paced for work that allocates by the
thousand and keeps what it allocates until a batch is written."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
