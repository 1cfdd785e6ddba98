"""The level curve: how much XP each level needs.

Level 1 starts at 0 XP. With the default *triangular* curve every level costs ``step`` XP more
than the one before, so reaching level ``n`` needs ``step * (n - 1) * n / 2`` XP in total
(0, 100, 300, 600, 1000, ... for ``step = 100``). A *linear* curve costs the same ``step`` for
every level. Levels stop at ``max_level``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

CurveKind = Literal["triangular", "linear"]
CURVE_KINDS: tuple[str, ...] = get_args(CurveKind)


@dataclass(frozen=True, slots=True)
class LevelCurve:
    """The shape of the level curve, as published in a rulebook."""

    kind: CurveKind = "triangular"
    step: int = 100
    max_level: int = 30

    def __post_init__(self) -> None:
        if self.kind not in CURVE_KINDS:
            raise ValueError(f"unknown level curve {self.kind!r}")
        if self.step < 1:
            raise ValueError("the level step must be at least 1 XP")
        if self.max_level < 1:
            raise ValueError("the maximum level must be at least 1")


@dataclass(frozen=True, slots=True)
class LevelProgress:
    """Where an agent stands on the curve.

    ``xp_into_level`` is the XP earned since reaching ``level``; ``xp_for_next_level`` is the
    XP that separates ``level`` from the next one (the length of the progress bar), or
    ``None`` at the maximum level.
    """

    level: int
    xp_into_level: int
    xp_for_next_level: int | None

    @property
    def is_max(self) -> bool:
        return self.xp_for_next_level is None

    @property
    def xp_to_next_level(self) -> int | None:
        """XP still missing before the next level, or ``None`` at the maximum level."""
        if self.xp_for_next_level is None:
            return None
        return self.xp_for_next_level - self.xp_into_level


def threshold(level: int, curve: LevelCurve | None = None) -> int:
    """Total XP needed to reach ``level`` (level 1 needs 0 XP)."""
    curve = curve or LevelCurve()
    if level < 1 or level > curve.max_level:
        raise ValueError(f"level must be between 1 and {curve.max_level}, got {level}")
    if curve.kind == "linear":
        return curve.step * (level - 1)
    # (level - 1) * level is always even, so the division is exact.
    return curve.step * (level - 1) * level // 2


def level_for(xp: int, curve: LevelCurve | None = None) -> LevelProgress:
    """The level reached with ``xp`` total XP, and the progress towards the next one."""
    curve = curve or LevelCurve()
    if xp < 0:
        raise ValueError(f"XP cannot be negative, got {xp}")
    level = _highest_level_within(xp, curve)
    base = threshold(level, curve)
    if level == curve.max_level:
        return LevelProgress(level=level, xp_into_level=xp - base, xp_for_next_level=None)
    return LevelProgress(
        level=level,
        xp_into_level=xp - base,
        xp_for_next_level=threshold(level + 1, curve) - base,
    )


def _highest_level_within(xp: int, curve: LevelCurve) -> int:
    """Binary search for the greatest level whose threshold is at most ``xp``."""
    low, high = 1, curve.max_level
    while low < high:
        middle = (low + high + 1) // 2
        if threshold(middle, curve) <= xp:
            low = middle
        else:
            high = middle - 1
    return low
