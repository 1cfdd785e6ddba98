"""Teams and the supervisors who lead them."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.exceptions import Conflict, InvalidName
from domain.identity import team_id_for
from domain.text import NAME_MAX_LENGTH, clean_text


class Team(Aggregate):
    class TeamFormed(Aggregate.Created):
        name: str
        formed_by: str

    class SupervisorAssigned(Aggregate.Event):
        user_id: UUID
        assigned_by: str

    class SupervisorUnassigned(Aggregate.Event):
        user_id: UUID
        unassigned_by: str

    @staticmethod
    def create_id(name: str) -> UUID:
        return team_id_for(name)

    @event(TeamFormed)
    def __init__(self, name: str, formed_by: str) -> None:
        self.name = name
        self.supervisors: list[UUID] = []

    @classmethod
    def form(cls, *, name: str, formed_by: str) -> Team:
        cleaned = clean_text(
            name, field="name", max_length=NAME_MAX_LENGTH, error=InvalidName, multiline=False
        )
        return cls(name=cleaned, formed_by=formed_by)

    def assign_supervisor(self, *, user_id: UUID, assigned_by: str) -> None:
        if user_id in self.supervisors:
            raise Conflict("that user already supervises this team", field="user")
        self._assign(user_id=user_id, assigned_by=assigned_by)

    @event(SupervisorAssigned)
    def _assign(self, user_id: UUID, assigned_by: str) -> None:
        self.supervisors.append(user_id)

    def unassign_supervisor(self, *, user_id: UUID, unassigned_by: str) -> None:
        if user_id not in self.supervisors:
            raise Conflict("that user does not supervise this team", field="user")
        self._unassign(user_id=user_id, unassigned_by=unassigned_by)

    @event(SupervisorUnassigned)
    def _unassign(self, user_id: UUID, unassigned_by: str) -> None:
        self.supervisors.remove(user_id)
