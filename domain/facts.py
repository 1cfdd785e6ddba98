"""Plain facts the pure rules consume: what happened, stripped of storage concerns.

The projections and the reference model both turn stored events into these values,
so the rules never see an aggregate, a database row or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.competencies import Competency


class RecognitionKind(StrEnum):
    """The recognition event types of the catalogue, by their event names."""

    FEEDBACK_GIVEN = "FeedbackGiven"
    TRAINING_COMPLETED = "TrainingCompleted"
    TOUGH_CALL_HANDLED_WITH_GRACE = "ToughCallHandledWithGrace"
    INITIATIVE_TAKEN = "InitiativeTaken"
    KUDOS_GIVEN = "KudosGiven"

    @property
    def label(self) -> str:
        """The kind in words a person reads ("Tough call handled with grace")."""
        return _KIND_LABELS[self]


_KIND_LABELS: dict[RecognitionKind, str] = {
    RecognitionKind.FEEDBACK_GIVEN: "Feedback given",
    RecognitionKind.TRAINING_COMPLETED: "Training completed",
    RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE: "Tough call handled with grace",
    RecognitionKind.INITIATIVE_TAKEN: "Initiative taken",
    RecognitionKind.KUDOS_GIVEN: "Kudos given",
}


class FeedbackKind(StrEnum):
    PRAISE = "praise"
    COACHING = "coaching"


@dataclass(frozen=True, slots=True)
class Recognition:
    """One recorded recognition of an agent, as the rules see it.

    ``sequence`` orders recognitions that share an ``occurred_at`` (the position of
    the recording in the event log); the rules never depend on anything else for order.
    """

    recording_id: UUID
    agent_id: UUID
    kind: RecognitionKind
    competencies: tuple[Competency, ...]
    occurred_at: datetime
    sequence: int
    rating: int | None = None
    feedback_kind: FeedbackKind | None = None
    score: int | None = None
    from_agent: UUID | None = None

    @property
    def order_key(self) -> tuple[datetime, int]:
        return (self.occurred_at, self.sequence)


@dataclass(frozen=True, slots=True)
class AgentHistory:
    """Everything the rules need about one agent: recognitions received (not retracted)
    and the kudos the agent gave to colleagues (not retracted)."""

    agent_id: UUID
    received: tuple[Recognition, ...] = ()
    kudos_given: tuple[Recognition, ...] = field(default=())
