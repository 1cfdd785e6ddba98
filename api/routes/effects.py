"""What a write did, seen through the read models: the XP each new recording earned.

After a write the handler waits, briefly and with a bound, for the projector to reach the end
of the log (read-your-writes); if it does not get there in time the answer says so
(``projected: false``) instead of showing stale numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select

from api.runtime import Runtime
from projections.tables import recognitions

CHUNK = 500


@dataclass(frozen=True)
class Earned:
    """The XP one recording earned and the rule that gave it (0 when retracted)."""

    points: int
    rule: str
    rulebook_version: int
    capped: bool


def await_projection(runtime: Runtime) -> bool:
    """Wait until the read models include everything written so far; False on time-out."""
    position = runtime.log_position()
    return runtime.projector.wait_until(position, runtime.settings.read_your_writes_timeout)


def earned_by(runtime: Runtime, recording_ids: Iterable[UUID]) -> dict[UUID, Earned]:
    """The projected XP of each recording (those not projected yet are left out)."""
    wanted = list(dict.fromkeys(recording_ids))
    found: dict[UUID, Earned] = {}
    with runtime.read_engine.connect() as connection:
        for start in range(0, len(wanted), CHUNK):
            rows = connection.execute(
                select(
                    recognitions.c.recording_id,
                    recognitions.c.points,
                    recognitions.c.rule,
                    recognitions.c.rulebook_version,
                    recognitions.c.capped,
                    recognitions.c.retracted,
                ).where(recognitions.c.recording_id.in_(wanted[start : start + CHUNK]))
            ).all()
            for row in rows:
                found[row.recording_id] = Earned(
                    points=0 if row.retracted else int(row.points),
                    rule="retracted" if row.retracted else (row.rule or ""),
                    rulebook_version=int(row.rulebook_version or 0),
                    capped=bool(row.capped),
                )
    return found
