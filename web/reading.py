"""What a page reads with, handed to it as one dependency (Litestar resolves two or more of a
handler's dependencies in a task group of their own, which costs more than the page)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine


@dataclass(frozen=True)
class Reading:
    """The read models' engine and the organisation's time zone."""

    engine: Engine
    zone: ZoneInfo
