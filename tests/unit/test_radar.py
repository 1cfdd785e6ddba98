"""The competency radar's geometry: seven axes, a round scale, points on their axes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.competencies import ALL_COMPETENCIES
from web.radar import RADIUS, nice_ceiling, radar

KEYS = [c.value for c in ALL_COMPETENCIES]


def distance(x: float, y: float, cx: float, cy: float) -> float:
    return math.hypot(x - cx, y - cy)


def test_the_radar_has_one_axis_per_competency_in_canonical_order() -> None:
    chart = radar({"teamwork": 10})
    assert [a.key for a in chart.axes] == KEYS
    assert [a.label for a in chart.axes] == [c.label for c in ALL_COMPETENCIES]


def test_the_first_axis_points_straight_up() -> None:
    chart = radar({"communication": 50})
    first = chart.axes[0]
    assert first.end.x == pytest.approx(chart.centre.x)
    assert first.end.y == pytest.approx(chart.centre.y - RADIUS)
    assert first.anchor == "middle"


def test_the_scale_is_a_round_number_at_or_above_the_largest_value() -> None:
    assert radar({"communication": 140, "teamwork": 55}).scale_max == 200
    assert radar({"leadership": 300}).scale_max == 500


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (140, 200), (501, 1000)],
)
def test_nice_ceiling_rounds_up_to_one_two_or_five_times_a_power_of_ten(
    value: int, ceiling: int
) -> None:
    assert nice_ceiling(value) == ceiling


def test_an_agent_without_xp_gets_an_empty_chart_with_every_point_at_the_centre() -> None:
    chart = radar({})
    assert chart.empty
    assert chart.scale_max == 1
    assert all(a.point == chart.centre for a in chart.axes)
    assert len(chart.rings) == 4


def test_negative_values_count_as_nothing() -> None:
    chart = radar({"communication": -5, "teamwork": 10})
    assert chart.axes[0].value == 0
    assert chart.axes[0].point == chart.centre


def test_a_radar_needs_three_axes() -> None:
    with pytest.raises(ValueError, match="three axes"):
        radar({"a": 1, "b": 2}, keys=["a", "b"])


def test_the_shape_lists_one_point_per_axis() -> None:
    chart = radar({k: i * 10 for i, k in enumerate(KEYS)})
    assert len(chart.shape.split()) == len(KEYS)
    assert all(len(ring.split()) == len(KEYS) for ring in chart.rings)


@given(st.dictionaries(st.sampled_from(KEYS), st.integers(min_value=0, max_value=10**7)))
def test_every_point_lies_on_its_axis_at_its_share_of_the_scale(values: dict[str, int]) -> None:
    chart = radar(values)
    assert chart.scale_max >= max(values.values(), default=0)
    for axis in chart.axes:
        share = axis.value / chart.scale_max
        assert 0 <= share <= 1
        cx, cy = chart.centre.x, chart.centre.y
        assert distance(axis.point.x, axis.point.y, cx, cy) == pytest.approx(
            RADIUS * share, abs=1e-6
        )
        assert 0 <= axis.label_at.x <= chart.width
        assert 0 <= axis.label_at.y <= chart.height
