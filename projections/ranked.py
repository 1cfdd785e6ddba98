"""The values a ranked board is read as: which board, and one row of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class BoardKey:
    window: str
    period_start: date
    competency: str  # a competency's value, or "*" for the total
    team_id: UUID | None = None

    def values(self) -> dict[str, Any]:
        """The statement parameters that name this board."""
        return {"w": self.window, "p": self.period_start, "c": self.competency, "t": self.team_id}


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    agent_id: UUID
    handle: str
    name: str
    team_id: UUID
    team_name: str
    xp: int
    level: int
