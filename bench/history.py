"""Agents with a short and a long history, to see what a recording costs as history grows.

Every recording is a stream of its own and an agent's stream holds only its life cycle, so a
recording should cost the same for an agent with 100 prior recordings as for one with 10,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from bench.data import ENROLLED_AT, NOW
from domain.agents import Agent
from domain.application import MAX_BATCH, Callcraft
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition

HISTORY_SHORT = 100
HISTORY_LONG = 10_000


@dataclass
class AgentWithHistory:
    app: Callcraft
    agent_id: UUID
    label: str
    recorded: int = field(default=0)

    def command(self, number: int) -> RecordRecognition:
        return RecordRecognition(
            kind=RecognitionKind.INITIATIVE_TAKEN,
            agent_id=self.agent_id,
            competencies=("leadership",),
            occurred_at=NOW - timedelta(seconds=number + 1),
            recorded_by="bench",
            description="Suggested a clearer script for refunds",
            idempotency_key=f"history-{self.label}-{number}",
        )

    def fill(self, count: int) -> None:
        """``count`` recordings, in full batches (set-up, not timed)."""
        commands = [self.command(self.recorded + n) for n in range(count)]
        for first in range(0, count, MAX_BATCH):
            self.app.record_many(commands[first : first + MAX_BATCH], now=NOW)
        self.recorded += count

    def more(self, count: int) -> Callable[[int], object]:
        """The timed part: step ``i`` records the ``i``-th of ``count`` more recordings."""
        commands = [self.command(self.recorded + n) for n in range(count)]
        self.recorded += count
        return lambda i: self.app.record(commands[i], now=NOW)


def agents_with_history(
    app: Callcraft, team_id: UUID, sizes: tuple[int, ...]
) -> list[AgentWithHistory]:
    """One new agent per size, in the team given, each with that many recordings."""
    found = []
    for size in sizes:
        agent = Agent.enrol(
            handle=f"history{size}",
            name=f"History {size}",
            team_id=team_id,
            enrolled_at=ENROLLED_AT,
            enrolled_by="bench",
        )
        app.save(agent)
        with_history = AgentWithHistory(app, agent.id, str(size))
        with_history.fill(size)
        found.append(with_history)
    return found
