"""GET /healthz: the process answers, and how far the projections are behind the log."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import get
from litestar.di import NamedDependency

from api.runtime import Runtime


@dataclass(frozen=True)
class Health:
    status: str
    projector_position: int
    log_position: int
    projector_running: bool


@get("/healthz", sync_to_thread=True, tags=["health"])
def health(runtime: NamedDependency[Runtime]) -> Health:
    return Health(
        status="ok",
        projector_position=runtime.projector.position(),
        log_position=runtime.log_position(),
        projector_running=runtime.thread is not None and runtime.thread.running,
    )
