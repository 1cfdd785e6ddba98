"""Timing helpers and the shape of one figure in the table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class Series:
    """Several runs of one measurement, in its unit (events/s, ms, …)."""

    label: str
    unit: str
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")


@dataclass
class Figure:
    """One row of the table: our figure, and the ceiling it is measured against."""

    name: str
    database: str
    ours: Series
    ceiling: Series | None = None
    missing: str = ""  # why the figure could not be measured (e.g. a module not built yet)

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or not self.ours.runs or not self.ceiling.runs:
            return None
        if not self.ceiling.median:  # e.g. no memory growth at all to compare with
            return None
        return self.ours.median / self.ceiling.median


def rate(count: int, action: Callable[[], object]) -> float:
    """Run ``action`` once; return ``count`` divided by the seconds it took."""
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def rates_taking_turns(
    count: int, steps: Mapping[str, Callable[[int], object]]
) -> dict[str, float]:
    """Per second, for each named step: step ``i`` of every name in turn, ``i`` = 0 … count-1,
    each call timed on its own. On a shared machine a slow moment (another process's fsync,
    a busy core) then falls on every step alike instead of on whichever ran in that second,
    so the ratios between them hold even when the rates themselves wobble."""
    spent = dict.fromkeys(steps, 0.0)
    for i in range(count):
        for name, step in steps.items():
            started = time.perf_counter()
            step(i)
            spent[name] += time.perf_counter() - started
    return {name: count / seconds for name, seconds in spent.items()}


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction 0.5 = median, 0.99 = p99)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]
