"""The competency radar: XP per competency as a polygon on seven axes, computed for inline SVG.

Pure geometry, no I/O: the template draws what ``radar`` returns. The scale's outer ring is a
round number at or above the largest value, so the shape fills the chart without touching a
ring by accident; an agent with no XP yet gets an empty chart (every point at the centre).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.competencies import ALL_COMPETENCIES

WIDTH = 540
HEIGHT = 380
RADIUS = 130.0
LABEL_GAP = 16.0
RINGS = 4


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Axis:
    key: str
    label: str
    value: int
    end: Point  # the axis line's outer end (at the scale maximum)
    point: Point  # where the value lies on the axis
    label_at: Point
    anchor: str  # SVG text-anchor: start, middle or end

    @property
    def label_lines(self) -> tuple[str, ...]:
        """The label on one line per word, so long names stay inside the chart."""
        return tuple(self.label.split())


@dataclass(frozen=True)
class Radar:
    width: int
    height: int
    centre: Point
    scale_max: int
    axes: tuple[Axis, ...]
    rings: tuple[str, ...]  # SVG "points" of each ring, innermost first
    shape: str  # SVG "points" of the value polygon

    @property
    def empty(self) -> bool:
        return all(axis.value == 0 for axis in self.axes)


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least ``value`` (1 for 0 or less)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def _points(points: Sequence[Point]) -> str:
    return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def _anchor(cosine: float) -> str:
    if cosine > 0.3:
        return "start"
    if cosine < -0.3:
        return "end"
    return "middle"


def radar(
    values: Mapping[str, int],
    labels: Mapping[str, str] | None = None,
    *,
    keys: Sequence[str] | None = None,
) -> Radar:
    """The radar of ``values`` (competency value → XP) over ``keys`` (the seven competencies,
    in their canonical order, by default); the first axis points straight up and the rest
    follow clockwise. Negative values count as 0."""
    axis_keys = list(keys) if keys is not None else [c.value for c in ALL_COMPETENCIES]
    if len(axis_keys) < 3:
        raise ValueError("a radar needs at least three axes")
    names = labels or {c.value: c.label for c in ALL_COMPETENCIES}
    amounts = [max(0, int(values.get(key, 0))) for key in axis_keys]
    scale_max = nice_ceiling(max(amounts))
    centre = Point(WIDTH / 2, HEIGHT / 2)

    def at(index: int, fraction: float, extra: float = 0.0) -> Point:
        angle = -math.pi / 2 + 2 * math.pi * index / len(axis_keys)
        distance = RADIUS * fraction + extra
        return Point(centre.x + distance * math.cos(angle), centre.y + distance * math.sin(angle))

    axes = []
    for index, (key, amount) in enumerate(zip(axis_keys, amounts, strict=True)):
        angle = -math.pi / 2 + 2 * math.pi * index / len(axis_keys)
        axes.append(
            Axis(
                key=key,
                label=names.get(key, key),
                value=amount,
                end=at(index, 1.0),
                point=at(index, amount / scale_max),
                label_at=at(index, 1.0, LABEL_GAP),
                anchor=_anchor(math.cos(angle)),
            )
        )
    rings = tuple(
        _points([at(i, ring / RINGS) for i in range(len(axis_keys))])
        for ring in range(1, RINGS + 1)
    )
    return Radar(
        width=WIDTH,
        height=HEIGHT,
        centre=centre,
        scale_max=scale_max,
        axes=tuple(axes),
        rings=rings,
        shape=_points([axis.point for axis in axes]),
    )
