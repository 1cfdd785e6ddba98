"""Dependencies the handlers ask for by name: the running process's pieces and "today"."""

from __future__ import annotations

from datetime import date, datetime

from litestar.datastructures import State
from litestar.di import Provide

from api.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def today(runtime: Runtime) -> date:
    """Today in the organisation's time zone."""
    return datetime.now(runtime.settings.zone).date()


DEPENDENCIES = {"runtime": Provide(provide_runtime, sync_to_thread=False)}
