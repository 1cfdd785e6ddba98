from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.levels import LevelCurve, LevelProgress, level_for, threshold

DEFAULT = LevelCurve()
curves = st.builds(
    LevelCurve,
    kind=st.sampled_from(["triangular", "linear"]),
    step=st.integers(1, 500),
    max_level=st.integers(1, 60),
)


def test_the_triangular_curve_needs_one_more_step_for_each_level() -> None:
    assert [threshold(n, DEFAULT) for n in range(1, 7)] == [0, 100, 300, 600, 1000, 1500]


def test_the_linear_curve_costs_the_same_for_every_level() -> None:
    curve = LevelCurve(kind="linear", step=250, max_level=10)
    assert [threshold(n, curve) for n in range(1, 5)] == [0, 250, 500, 750]


def test_a_new_agent_is_level_one_with_the_first_hundred_xp_ahead() -> None:
    assert level_for(0, DEFAULT) == LevelProgress(level=1, xp_into_level=0, xp_for_next_level=100)


def test_reaching_the_threshold_exactly_reaches_the_level() -> None:
    assert level_for(99, DEFAULT).level == 1
    assert level_for(100, DEFAULT) == LevelProgress(level=2, xp_into_level=0, xp_for_next_level=200)
    assert level_for(450, DEFAULT) == LevelProgress(
        level=3, xp_into_level=150, xp_for_next_level=300
    )
    assert level_for(450, DEFAULT).xp_to_next_level == 150


def test_levels_stop_at_the_maximum_level() -> None:
    curve = LevelCurve(step=100, max_level=3)
    progress = level_for(10_000, curve)
    assert progress == LevelProgress(level=3, xp_into_level=9_700, xp_for_next_level=None)
    assert progress.is_max
    assert progress.xp_to_next_level is None


def test_negative_xp_and_levels_off_the_curve_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        level_for(-1, DEFAULT)
    with pytest.raises(ValueError, match="level must be between"):
        threshold(0, DEFAULT)
    with pytest.raises(ValueError, match="level must be between"):
        threshold(DEFAULT.max_level + 1, DEFAULT)


def test_a_curve_needs_a_positive_step() -> None:
    with pytest.raises(ValueError, match="step"):
        LevelCurve(step=0)


@given(curves, st.integers(0, 10**6), st.integers(0, 10**6))
def test_level_never_drops_when_xp_grows(curve: LevelCurve, xp: int, more: int) -> None:
    assert level_for(xp, curve).level <= level_for(xp + more, curve).level


@given(curves, st.integers(0, 10**6))
def test_progress_lies_between_this_level_and_the_next(curve: LevelCurve, xp: int) -> None:
    progress = level_for(xp, curve)
    assert threshold(progress.level, curve) + progress.xp_into_level == xp
    if progress.xp_for_next_level is None:
        assert progress.level == curve.max_level
    else:
        assert 0 <= progress.xp_into_level < progress.xp_for_next_level
        assert threshold(progress.level + 1, curve) > xp


@given(curves)
def test_thresholds_strictly_increase(curve: LevelCurve) -> None:
    values = [threshold(n, curve) for n in range(1, curve.max_level + 1)]
    assert values == sorted(set(values))
