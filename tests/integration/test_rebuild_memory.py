"""A rebuild's final scoring holds a bounded number of facts, whatever the size of the store.

The scoring phase (:func:`projections.rebuild_scoring.score_everyone`) must hold no more than
its budget of facts at once in a store and in the same store grown four times over (the same
agents, each with four times the history), and hold about as many Python objects at once
(``tracemalloc``: allocations counted, not timed) in a store of four times as many agents and
recognitions as in the smaller one. Before, it held every fact of up to 1,000 agents at once,
and all that was derived from them, so both grew with the log. (What one agent's own history
costs while it is scored grows with that history: :func:`domain.scoring.score_agent` takes it
whole; but an agent is never held with more than the budget of other facts.)
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
from tests.reference_model import fresh_database, opened

AGENTS = 40
SMALL = 1_000  # recognitions; the grown store has four times as many
BUDGET = 300  # facts a chunk may hold: no agent has half as many, even in the grown store
FLUSH = 20  # derived rows a table gathers before they are written (both stores fill them)


class _Store:
    """A centre of :data:`AGENTS` agents whose log grows by :meth:`record`."""

    def __init__(self, app: Callcraft, agents: int = AGENTS) -> None:
        self.app = app
        self.centre = make_centre(agents)
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
    the chunk's fact budget at :data:`BUDGET` and derived rows written every :data:`FLUSH`:
    the smaller store already fills both. (Agents are listed 1,000 at a time, as ever: the
    old code held all the facts of each such page.)"""
    real = projections.rebuild_scoring.score_everyone

    def observed(*args: Any) -> int:
        return around(real, args)

    with (
        mock.patch.object(projections.projector, "score_everyone", observed),
        mock.patch.object(projections.rebuild_scoring, "CHUNK_FACTS", BUDGET),
        mock.patch.object(projections.rebuild_scoring, "FLUSH_ROWS", FLUSH),
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


def _scoring_working_set(app: Callcraft, engine: Any) -> int:
    """The most the final scoring's Python allocations held at once beyond what they still
    hold when it is done (the interpreter's free lists and the drivers' caches, which fill up
    to their own bounds), in bytes."""
    held: list[int] = []

    def traced(real: Callable[..., int], args: tuple[Any, ...]) -> int:
        tracemalloc.start()
        try:
            return real(*args)
        finally:
            current, peak = tracemalloc.get_traced_memory()
            held.append(peak - current)
            tracemalloc.stop()

    with _scoring_observed(traced):
        rebuild(app, engine, timezone=UTC)
    (working,) = held
    return working


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
    # (The old code held every fact of the store's 40 agents: 1,148 and then 4,569.)
    assert 0 < small <= BUDGET
    assert 0 < grown <= BUDGET
    assert grown > BUDGET // 2  # the chunks are filled, not one agent at a time


def _working_set_of_a_store(kind: str, scale: int) -> int:
    """The scoring's working set in a fresh store of ``scale`` times :data:`AGENTS` agents
    and :data:`SMALL` recognitions (the second rebuild: the first fills the engine's
    caches)."""
    with fresh_database(kind) as db, opened(db) as (app, engine):
        _Store(app, scale * AGENTS).record(scale * SMALL)
        _scoring_working_set(app, engine)
        return _scoring_working_set(app, engine)


def test_the_final_scoring_s_working_set_does_not_grow_with_the_log(database: Database) -> None:
    small = _working_set_of_a_store(database.kind, 1)
    grown = _working_set_of_a_store(database.kind, 4)
    # Four times the agents and facts: holding them all came to four times as much (3.0 and
    # 12.1 MB on the old code); held a chunk at a time, 0.17-0.18 and 0.20-0.21 MB.
    assert grown < 2 * small, (small, grown)
