"""Work that allocates by the thousand runs with the collector's young collections spaced
out, and leaves the process's thresholds as it found them."""

from __future__ import annotations

import gc

import pytest

from projections.collection import fewer_collections


class Failed(Exception):
    pass


def test_the_young_generation_waits_for_the_threshold_given_and_comes_back_after() -> None:
    before = gc.get_threshold()
    with fewer_collections(before[0] + 1_000):
        assert gc.get_threshold() == (before[0] + 1_000, *before[1:])
    assert gc.get_threshold() == before


def test_a_higher_threshold_already_set_is_kept() -> None:
    before = gc.get_threshold()
    with fewer_collections(before[0] - 1):
        assert gc.get_threshold() == before
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_when_the_work_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(Failed), fewer_collections(before[0] + 5):
        raise Failed
    assert gc.get_threshold() == before
