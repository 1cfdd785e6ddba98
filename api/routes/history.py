"""An agent's history: the recognitions they received, newest first, from the read models.

Notes and retraction reasons are private: they are shown only to those who may see the
agent's private history (the agent, supervisors of their team, auditors, admins, read tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, func, select

from projections.tables import recognitions


@dataclass(frozen=True)
class HistoryItem:
    recording_id: UUID
    type: str
    competencies: list[str]
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    points: int
    rule: str
    capped: bool
    retracted: bool
    rating: int | None
    feedback_kind: str | None
    given_by: str | None
    course: str | None
    score: int | None
    call_ref: str | None
    description: str | None
    from_agent: UUID | None
    note: str | None
    retraction_reason: str | None


@dataclass(frozen=True)
class History:
    """``private`` says whether notes are included (``note`` is null when not)."""

    agent_id: UUID
    private: bool
    total: int
    offset: int
    limit: int
    items: list[HistoryItem]


def agent_history(
    engine: Engine, agent_id: UUID, *, private: bool, limit: int, offset: int
) -> History:
    mine = recognitions.c.agent_id == agent_id
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).where(mine)).scalar_one()
        rows = connection.execute(
            select(recognitions)
            .where(mine)
            .order_by(recognitions.c.occurred_at.desc(), recognitions.c.notification_id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    items = [
        HistoryItem(
            recording_id=r.recording_id,
            type=r.kind,
            competencies=[c for c in r.competencies.split(";") if c],
            occurred_at=r.occurred_at,
            recorded_at=r.recorded_at,
            recorded_by=r.recorded_by,
            points=0 if r.retracted else int(r.points),
            rule=r.rule or "",
            capped=bool(r.capped),
            retracted=bool(r.retracted),
            rating=r.rating,
            feedback_kind=r.feedback_kind,
            given_by=r.given_by,
            course=r.course,
            score=r.score,
            call_ref=r.call_ref,
            description=r.description,
            from_agent=r.from_agent,
            note=r.note if private else None,
            retraction_reason=r.retraction_reason if private else None,
        )
        for r in rows
    ]
    return History(
        agent_id=agent_id,
        private=private,
        total=int(total),
        offset=offset,
        limit=limit,
        items=items,
    )
