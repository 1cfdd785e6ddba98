"""A giver's kudos allowance for one day: the consistency boundary of the kudos cap.

Two kudos from the same giver on the same day touch the same allowance, so when they
race the event store refuses one of them and the cap holds. Kudos that are later
retracted still count towards the day's allowance.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.exceptions import KudosCapReached
from domain.identity import kudos_allowance_id_for


class KudosAllowance(Aggregate):
    class KudosAllowanceOpened(Aggregate.Created):
        giver: UUID
        day: date
        first_recording_id: UUID

    class KudosAllowanceUsed(Aggregate.Event):
        recording_id: UUID

    @staticmethod
    def create_id(giver: UUID, day: date) -> UUID:
        return kudos_allowance_id_for(giver, day)

    @event(KudosAllowanceOpened)
    def __init__(self, giver: UUID, day: date, first_recording_id: UUID) -> None:
        self.giver = giver
        self.day = day
        self.used = 1

    @classmethod
    def open(cls, *, giver: UUID, day: date, recording_id: UUID, cap: int) -> KudosAllowance:
        if cap < 1:
            raise KudosCapReached("giving kudos is switched off by the rulebook")
        return cls(giver=giver, day=day, first_recording_id=recording_id)

    def use(self, *, recording_id: UUID, cap: int) -> None:
        if self.used >= cap:
            raise KudosCapReached(
                f"the daily kudos cap is reached: {cap} a day, {self.used} given on "
                f"{self.day.isoformat()}"
            )
        self._use(recording_id=recording_id)

    @event(KudosAllowanceUsed)
    def _use(self, recording_id: UUID) -> None:
        self.used += 1
