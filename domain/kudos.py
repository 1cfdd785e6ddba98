"""A giver's kudos allowance for one day: the consistency boundary of the kudos cap.

Two kudos from the same giver on the same day touch the same allowance, so when they
race the event store refuses one of them and the cap holds. Kudos that are later
retracted still count towards the day's allowance.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

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
        if cls is not KudosAllowance or not _OPENED_AT_ONCE:
            return cls(giver=giver, day=day, first_recording_id=recording_id)
        return _opened(giver, day, recording_id)

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


_OPENED = KudosAllowance.KudosAllowanceOpened
_ALLOWANCE_TOPIC = get_topic(KudosAllowance)
# The event's fields in the order ``_opened`` writes them down (what the library's
# construction leaves on the aggregate is checked by a property test). Should they change,
# the library's constructor is used.
_OPENED_AT_ONCE = tuple(f.name for f in fields(_OPENED)) == (
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "giver",
    "day",
    "first_recording_id",
)


def _opened(giver: UUID, day: date, recording_id: UUID) -> KudosAllowance:
    """``KudosAllowance(giver=..., day=..., first_recording_id=...)``: the same aggregate with
    the same pending event, attributes in the same order, set at once rather than through the
    library's construction (signature matching, a frozen dataclass's one ``object.__setattr__``
    a field, the topic resolved back to the class): a third of the time. A property test holds
    both equal."""
    allowance_id = KudosAllowance.create_id(giver, day)
    timestamp = _OPENED.create_timestamp()
    opened = object.__new__(_OPENED)
    object.__setattr__(
        opened,
        "__dict__",
        {
            "originator_id": allowance_id,
            "originator_version": KudosAllowance.INITIAL_VERSION,
            "timestamp": timestamp,
            "originator_topic": _ALLOWANCE_TOPIC,
            "giver": giver,
            "day": day,
            "first_recording_id": recording_id,
        },
    )
    opened.__post_init__()  # the library's own check of the originator id
    allowance = object.__new__(KudosAllowance)
    state: dict[str, Any] = {
        "_id": allowance_id,
        "_version": KudosAllowance.INITIAL_VERSION,
        "_created_on": timestamp,
        "_modified_on": timestamp,
        "_pending_events": [opened],
        "giver": giver,
        "day": day,
        "used": 1,
    }
    allowance.__dict__.update(state)
    return allowance
