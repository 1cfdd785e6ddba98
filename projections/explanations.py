"""An agent's explanations from the read model's facts: the recognitions the agent received
and the kudos they gave (retracted ones excluded), scored by the pure rules of the domain.

The facts are the ``recognitions`` rows the projector keeps; the notification id of each
recognition's event is its ``sequence``, so every line links to the event in the log.
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Row, select

from domain.competencies import Competency
from domain.explanations import Explanation, explain, parse_figure
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from projections.queries import latest_rulebook_history
from projections.tables import agents, recognitions

_COLUMNS = (
    recognitions.c.recording_id,
    recognitions.c.notification_id,
    recognitions.c.agent_id,
    recognitions.c.kind,
    recognitions.c.competencies,
    recognitions.c.occurred_at,
    recognitions.c.rating,
    recognitions.c.feedback_kind,
    recognitions.c.score,
    recognitions.c.from_agent,
)


def _recognition(row: Row[Any]) -> Recognition:
    return Recognition(
        recording_id=row.recording_id,
        agent_id=row.agent_id,
        kind=RecognitionKind(row.kind),
        competencies=tuple(Competency(c) for c in row.competencies.split(";") if c),
        occurred_at=row.occurred_at,
        sequence=int(row.notification_id),
        rating=row.rating,
        feedback_kind=FeedbackKind(row.feedback_kind) if row.feedback_kind else None,
        score=row.score,
        from_agent=row.from_agent,
    )


def agent_facts(engine: Engine, agent_id: UUID) -> AgentHistory | None:
    """The agent's history as the rules see it; None when there is no such agent."""
    live = recognitions.c.retracted.is_(False)
    with engine.connect() as connection:
        known = connection.execute(
            select(agents.c.agent_id).where(agents.c.agent_id == agent_id)
        ).first()
        if known is None:
            return None
        received = connection.execute(
            select(*_COLUMNS).where(recognitions.c.agent_id == agent_id, live)
        ).all()
        given = connection.execute(
            select(*_COLUMNS).where(
                recognitions.c.from_agent == agent_id,
                recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
                live,
            )
        ).all()
    return AgentHistory(
        agent_id=agent_id,
        received=tuple(_recognition(r) for r in received),
        kudos_given=tuple(_recognition(r) for r in given),
    )


def explain_figure(
    engine: Engine, agent_id: UUID, figure: str, *, today: date, timezone: tzinfo
) -> Explanation | None:
    """The explanation of ``figure`` (see :func:`domain.explanations.parse_figure`; a bad
    name raises ``InvalidFigure``); None when there is no such agent."""
    rulebooks = latest_rulebook_history(engine)
    chosen = parse_figure(figure, rulebooks.latest)
    history = agent_facts(engine, agent_id)
    if history is None:
        return None
    return explain(chosen, history, rulebooks, timezone, today)
