"""An agent's explanations from the read model's facts: the recognitions the agent received
and the kudos they gave (retracted ones excluded), scored by the pure rules of the domain.

The facts are the ``recognitions`` rows the projector keeps; the notification id of each
recognition's event is its ``sequence``, so every line links to the event in the log.
"""

from __future__ import annotations

from datetime import date, tzinfo
from uuid import UUID

from sqlalchemy import Engine, select

from domain.explanations import Explanation, explain, parse_figure
from domain.facts import AgentHistory, RecognitionKind
from projections.queries import latest_rulebook_history
from projections.scoring import RECOGNITION_COLUMNS, recognition_from_row
from projections.tables import agents, recognitions


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
            select(*RECOGNITION_COLUMNS).where(recognitions.c.agent_id == agent_id, live)
        ).all()
        given = connection.execute(
            select(*RECOGNITION_COLUMNS).where(
                recognitions.c.from_agent == agent_id,
                recognitions.c.kind == RecognitionKind.KUDOS_GIVEN.value,
                live,
            )
        ).all()
    return AgentHistory(
        agent_id=agent_id,
        received=tuple(recognition_from_row(r) for r in received),
        kudos_given=tuple(recognition_from_row(r) for r in given),
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
