"""The projecting process's collector: garbage goes at each settle, the rest is frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from api.collector import BatchCollector
from projections.collection import YOUNG_THRESHOLD


class Node:
    """A container the collector tracks, able to sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _unfrozen_afterwards() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.collect()


def test_a_settle_collects_the_cycles_that_are_garbage_and_freezes_what_is_alive() -> None:
    kept = Node()
    garbage = _cycle()
    gc.disable()  # only the settle may collect here
    try:
        BatchCollector().settle()
        assert garbage() is None
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # frozen: no collection scans it
    finally:
        gc.enable()


def test_a_frozen_object_is_still_freed_when_its_last_reference_goes() -> None:
    kept = Node()
    gone = weakref.ref(kept)
    BatchCollector().settle()
    del kept
    assert gone() is None


def test_a_frozen_cycle_that_becomes_garbage_waits_for_the_next_full_collection() -> None:
    clock = Clock()
    collector = BatchCollector(full_every_seconds=600, clock=clock)
    first, second = Node(), Node()
    first.other, second.other = second, first
    left = weakref.ref(first)
    collector.settle()  # frozen while alive
    del first, second
    clock.now = 599
    collector.settle()
    assert left() is not None  # frozen cycles are not scanned between full collections
    assert collector.full_collections == 0
    clock.now = 600
    collector.settle()
    assert left() is None
    assert collector.full_collections == 1


def test_release_gives_every_frozen_object_back_to_the_collector() -> None:
    collector = BatchCollector()
    collector.settle()
    collector.release()
    assert gc.get_freeze_count() == 0


def test_while_settling_batches_the_young_collections_wait_for_more_allocations() -> None:
    before = gc.get_threshold()
    collector = BatchCollector()
    collector.settle()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
    collector.settle()
    collector.release()
    assert gc.get_threshold() == before


def test_the_full_collection_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BatchCollector(full_every_seconds=0)
