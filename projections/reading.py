"""Where a request runs its reads: on the event loop for SQLite, on a worker thread otherwise.

A read of a local SQLite file is a few microseconds of work on a warm connection; handing
it to a worker thread costs more than the read itself (two context switches, the GIL passed
back and forth, and — with many requests in flight — one pooled connection per thread, each
with a cold page cache). WAL mode means a reader never waits for the projector's writes. A
PostgreSQL read waits on the network, so it goes to a worker thread and the loop keeps
serving other requests meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread
from sqlalchemy import Engine

T = TypeVar("T")


def reads_inline(*engines: Engine) -> bool:
    """Whether reads on every one of ``engines`` may run on the event loop (all SQLite)."""
    return all(engine.dialect.name == "sqlite" for engine in engines)


async def run_reads(inline: bool, function: Callable[..., T], *args: object) -> T:
    """``function(*args)``: here when ``inline``, else on a worker thread."""
    if inline:
        return function(*args)
    return await to_thread.run_sync(function, *args)
