"""A rebuild's final scoring holds a bounded number of facts, whatever the size of the store.

The same store is rebuilt, then grown four times over (same agents, so each agent's history
grows too) and rebuilt again. The scoring phase (:func:`projections.rebuild_scoring
.score_everyone`) must hold no more facts at once, and allocate no more at its peak
(``tracemalloc``: Python objects, counted, not timed), in the larger store than in the
smaller one: before, it held every fact of up to 1,000 agents at once, so both grew with the
log.
"""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date
from typing import Any
from unittest import mock

import projections.projector
import projections.rebuild_scoring
from bench.data import NOW, command_for, enrol_centre, make_centre, recognition_rows
from domain.application import MAX_BATCH, Callcraft
from projections.rebuild import rebuild
from tests.conftest import Database
from tests.reference_model import opened

AGENTS = 40
SMALL = 1_000  # recognitions; the grown store has four times as many
BUDGET = 150  # facts a scoring chunk may hold: each agent has fewer, even in the grown store


class _Store:
    """A centre of :data:`AGENTS` agents whose log grows by :meth:`record`."""

    def __init__(self, app: Callcraft) -> None:
        self.app = app
        self.centre = make_centre(AGENTS)
        enrol_centre(app, self.centre)
        self.given: Counter[tuple[int, date]] = Counter()  # the givers' kudos caps, store-wide
        self.seed = 0

    def record(self, count: int) -> None:
        self.seed += 1
        rows = recognition_rows(
            self.seed, self.centre, count, key_prefix=f"m{self.seed}", kudos_given=self.given
        )
        commands = [command_for(row) for row in rows]
        for start in range(0, len(commands), MAX_BATCH):
            self.app.record_many(commands[start : start + MAX_BATCH], now=NOW)


@contextmanager
def _scoring_observed(
    around: Callable[[Callable[..., int], tuple[Any, ...]], int],
) -> Iterator[None]:
    """Run the rebuild's final scoring through ``around(score_everyone, args)``, with the
    chunk's fact budget at :data:`BUDGET`."""
    real = projections.rebuild_scoring.score_everyone

    def observed(*args: Any) -> int:
        return around(real, args)

    with (
        mock.patch.object(projections.projector, "score_everyone", observed),
        mock.patch.object(projections.rebuild_scoring, "CHUNK_FACTS", BUDGET),
    ):
        yield


def _facts_held_at_once(app: Callcraft, engine: Any) -> int:
    """The most facts one scoring chunk decoded (rows read into recognitions)."""
    real_decode = projections.rebuild_scoring.recognition_from_row
    real_chunk = projections.rebuild_scoring.score_chunk
    decoded = [0]
    most = [0]

    def decode(row: Any) -> Any:
        decoded[0] += 1
        return real_decode(row)

    def chunk(*args: Any) -> int:
        decoded[0] = 0
        scored = real_chunk(*args)
        most[0] = max(most[0], decoded[0])
        return scored

    with (
        mock.patch.object(projections.rebuild_scoring, "recognition_from_row", decode),
        mock.patch.object(projections.rebuild_scoring, "score_chunk", chunk),
        _scoring_observed(lambda real, args: real(*args)),
    ):
        rebuild(app, engine, timezone=UTC)
    return most[0]


def _scoring_peak(app: Callcraft, engine: Any) -> int:
    """The peak of the Python allocations made during the final scoring, in bytes."""
    peaks: list[int] = []

    def traced(real: Callable[..., int], args: tuple[Any, ...]) -> int:
        tracemalloc.start()
        try:
            return real(*args)
        finally:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    with _scoring_observed(traced):
        rebuild(app, engine, timezone=UTC)
    (peak,) = peaks
    return peak


def test_a_scoring_chunk_holds_at_most_its_budget_of_facts_however_long_the_log(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        store = _Store(app)
        store.record(SMALL)
        small = _facts_held_at_once(app, engine)
        store.record(3 * SMALL)
        grown = _facts_held_at_once(app, engine)
    # At most the budget (no agent has more facts alone), and about as many either way.
    assert 0 < small <= BUDGET
    assert 0 < grown <= BUDGET
    assert grown > BUDGET // 2  # the chunks are filled, not one agent at a time


def test_the_final_scoring_s_memory_peak_does_not_grow_with_the_log(database: Database) -> None:
    with opened(database) as (app, engine):
        store = _Store(app)
        store.record(SMALL)
        _scoring_peak(app, engine)  # once first: what the first run caches is not the log's
        small = _scoring_peak(app, engine)
        store.record(3 * SMALL)
        grown = _scoring_peak(app, engine)
    # Four times the facts: holding them all would come near four times the peak.
    assert grown < 1.5 * small, (small, grown)
