"""The agent: enrolled into a team, perhaps transferred, perhaps departed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.exceptions import AgentDeparted, InvalidInput, InvalidName
from domain.identity import agent_id_for
from domain.text import NAME_MAX_LENGTH, clean_identifier, clean_text

HANDLE_MAX_LENGTH = 64


def clean_handle(handle: str) -> str:
    return clean_identifier(handle, field="handle", max_length=HANDLE_MAX_LENGTH, error=InvalidName)


class Agent(Aggregate):
    class AgentEnrolled(Aggregate.Created):
        handle: str
        name: str
        team_id: UUID
        enrolled_at: datetime
        enrolled_by: str

    class AgentTransferred(Aggregate.Event):
        team_id: UUID
        transferred_by: str

    class AgentDeparted(Aggregate.Event):
        departed_at: datetime
        recorded_by: str

    @staticmethod
    def create_id(handle: str) -> UUID:
        return agent_id_for(handle)

    @event(AgentEnrolled)
    def __init__(
        self, handle: str, name: str, team_id: UUID, enrolled_at: datetime, enrolled_by: str
    ) -> None:
        self.handle = handle
        self.name = name
        self.team_id = team_id
        self.enrolled_at = enrolled_at
        self.departed_at: datetime | None = None

    @classmethod
    def enrol(
        cls, *, handle: str, name: str, team_id: UUID, enrolled_at: datetime, enrolled_by: str
    ) -> Agent:
        return cls(
            handle=clean_handle(handle),
            name=clean_text(
                name, field="name", max_length=NAME_MAX_LENGTH, error=InvalidName, multiline=False
            ),
            team_id=team_id,
            enrolled_at=enrolled_at,
            enrolled_by=enrolled_by,
        )

    @property
    def has_departed(self) -> bool:
        return self.departed_at is not None

    def ensure_present(self) -> None:
        if self.has_departed:
            raise AgentDeparted(f"{self.name} has departed; nothing more can be recorded")

    def transfer(self, *, team_id: UUID, transferred_by: str) -> None:
        self.ensure_present()
        if team_id == self.team_id:
            raise InvalidInput(f"{self.name} is already in that team", field="team")
        self._transfer(team_id=team_id, transferred_by=transferred_by)

    @event(AgentTransferred)
    def _transfer(self, team_id: UUID, transferred_by: str) -> None:
        self.team_id = team_id

    def depart(self, *, departed_at: datetime, recorded_by: str) -> None:
        self.ensure_present()
        if departed_at < self.enrolled_at:
            raise InvalidInput("an agent cannot depart before enrolling", field="departed_at")
        self._depart(departed_at=departed_at, recorded_by=recorded_by)

    @event(AgentDeparted)
    def _depart(self, departed_at: datetime, recorded_by: str) -> None:
        self.departed_at = departed_at
