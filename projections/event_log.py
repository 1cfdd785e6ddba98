"""The event log read model: one row per notification of the event store, for every event.

What an auditor filters by is pulled out of each event once, when it is projected: its type,
the agent it concerns, the team (the agent's team at that moment, or the team the event is
about), who recorded it (a username or ``token:<name>``, as the event carries it), when it
happened and when it was recorded. The event's own fields are kept as JSON text, exactly as
``callcraft export`` writes them — secrets (password and token hashes) replaced by
``"<redacted>"`` — so a filtered export from here is byte for byte what the event store says.

A retraction is an event of the recording's own stream: the recording and its retraction share
an ``originator_id`` (versions 1 and 2), the recording's id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Index, Integer, String, Table, Text, Uuid, select

from domain.accounts import User
from domain.agents import Agent
from domain.kudos import KudosAllowance
from domain.organisation import Team
from domain.publications import RulebookPublication
from domain.recordings import Recording
from domain.tokens import ApiToken
from projections.context import BatchContext
from projections.tables import SHORT, Position, UtcDateTime, metadata, recognitions

event_log = Table(
    "event_log",
    metadata,
    Column("notification_id", Position, primary_key=True, autoincrement=False),
    Column("type", String(80), nullable=False),
    Column("originator_id", Uuid, nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("agent_id", Uuid, nullable=True),
    Column("team_id", Uuid, nullable=True),
    Column("recorded_by", String(SHORT), nullable=True),
    Column("occurred_at", UtcDateTime, nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_event_log_agent", "agent_id", "notification_id"),
    Index("ix_event_log_team", "team_id", "notification_id"),
    Index("ix_event_log_type", "type", "notification_id"),
    Index("ix_event_log_recorder", "recorded_by", "notification_id"),
)
"""Few indexes, each one costs every rebuild: time ranges scan in log order (the log is
nearly in time order), and a recording finds its retraction through ``recognitions`` and
``activity``, which are indexed by recording already."""

REDACTED = "<redacted>"
REDACTED_FIELDS = frozenset({"password_hash", "token_hash"})
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)

RECOGNITION_CLASSES: tuple[type[Any], ...] = (
    Recording.FeedbackGiven,
    Recording.TrainingCompleted,
    Recording.ToughCallHandledWithGrace,
    Recording.InitiativeTaken,
    Recording.KudosGiven,
)
EVENT_CLASSES: tuple[type[Any], ...] = (
    RulebookPublication.RulebookPublished,
    Team.TeamFormed,
    Team.SupervisorAssigned,
    Team.SupervisorUnassigned,
    User.UserRegistered,
    User.RoleGranted,
    User.RoleRevoked,
    User.UserDisabled,
    User.PasswordChanged,
    ApiToken.ApiTokenIssued,
    ApiToken.ApiTokenRevoked,
    Agent.AgentEnrolled,
    Agent.AgentTransferred,
    Agent.AgentDeparted,
    *RECOGNITION_CLASSES,
    Recording.RecordingRetracted,
    KudosAllowance.KudosAllowanceOpened,
    KudosAllowance.KudosAllowanceUsed,
)
"""The event catalogue, in the order a person reads it."""

EVENT_TYPES: tuple[str, ...] = tuple(cls.__name__ for cls in EVENT_CLASSES)
TOPICS: dict[str, str] = {cls.__name__: get_topic(cls) for cls in EVENT_CLASSES}
RECOGNITION_TYPES = frozenset(cls.__name__ for cls in RECOGNITION_CLASSES)
RETRACTION = Recording.RecordingRetracted.__name__


def _plain(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself: the same forms ``callcraft export`` uses."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted((json.loads(json.dumps(v, default=_plain)) for v in value), key=str)
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def event_data(event: object) -> dict[str, Any]:
    """The event's own fields (not the envelope), secrets redacted."""
    return {
        key: REDACTED if key in REDACTED_FIELDS else value
        for key, value in vars(event).items()
        if key not in ENVELOPE_FIELDS
    }


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_plain)  # one, not one per event
# The C encoder ``_ENCODER.encode`` would build for each call, built once (no circular
# check: an event's fields are decoded JSON, never circular); None where there is none.
_MAKE_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Any = (
    _MAKE_C_ENCODER(
        None, _plain, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    if _MAKE_C_ENCODER is not None
    else None
)
# Top-level values whose ``_plain`` form is cheaper taken here than through the encoder's
# callback: exactly these types (a subclass may be encoded natively, e.g. a str enum).
_PLAIN_TOP: dict[type[Any], Callable[[Any], Any]] = {
    UUID: str,
    datetime: datetime.isoformat,
    date: date.isoformat,
}


def data_json(event: object) -> str:
    """The event's data as the export writes it (``json.dumps`` defaults, UTF-8 kept)."""
    if _C_ENCODE is None:
        return _ENCODER.encode(event_data(event))
    data: dict[str, Any] = {}
    plain = _PLAIN_TOP.get
    for key, value in vars(event).items():
        if key in ENVELOPE_FIELDS:
            continue
        if key in REDACTED_FIELDS:
            data[key] = REDACTED
            continue
        convert = plain(type(value))
        data[key] = value if convert is None else convert(value)
    return "".join(_C_ENCODE(data, 0))


# ------------------------------------------------------------------ who, whom, which team


@dataclass(frozen=True)
class About:
    agent_id: UUID | None = None
    team_id: UUID | None = None


NOBODY = About()
Aboutness = Callable[[BatchContext, Any], About]


def _team_of(ctx: BatchContext, agent_id: UUID | None) -> UUID | None:
    if agent_id is None:
        return None
    info = ctx.agent(agent_id)
    return info.team_id if info else None


def _recognised(ctx: BatchContext, event: Any) -> About:
    return About(event.agent_id, _team_of(ctx, event.agent_id))


def _retracted(ctx: BatchContext, event: Any) -> About:
    agent_id = ctx.execute(
        select(recognitions.c.agent_id).where(recognitions.c.recording_id == event.originator_id)
    ).scalar_one_or_none()
    return About(agent_id, _team_of(ctx, agent_id))


def _agent_moved(_ctx: BatchContext, event: Any) -> About:
    return About(event.originator_id, event.team_id)


def _agent_left(ctx: BatchContext, event: Any) -> About:
    return About(event.originator_id, _team_of(ctx, event.originator_id))


def _team(_ctx: BatchContext, event: Any) -> About:
    return About(team_id=event.originator_id)


def _user(_ctx: BatchContext, event: Any) -> About:
    return About(agent_id=event.agent_id)


def _giver(_ctx: BatchContext, event: Any) -> About:
    return About(agent_id=event.giver)


@dataclass(frozen=True)
class Shape:
    """Where an event type keeps its recorder and its moment, and whom it concerns."""

    recorder: str | None = None
    occurred: str | None = None
    about: Aboutness | None = None


SHAPES: dict[type[Any], Shape] = {
    RulebookPublication.RulebookPublished: Shape("published_by", "effective_from"),
    Team.TeamFormed: Shape("formed_by", None, _team),
    Team.SupervisorAssigned: Shape("assigned_by", None, _team),
    Team.SupervisorUnassigned: Shape("unassigned_by", None, _team),
    User.UserRegistered: Shape("registered_by", None, _user),
    User.RoleGranted: Shape("granted_by"),
    User.RoleRevoked: Shape("revoked_by"),
    User.UserDisabled: Shape("disabled_by"),
    User.PasswordChanged: Shape("changed_by"),
    ApiToken.ApiTokenIssued: Shape("issued_by"),
    ApiToken.ApiTokenRevoked: Shape("revoked_by"),
    Agent.AgentEnrolled: Shape("enrolled_by", "enrolled_at", _agent_moved),
    Agent.AgentTransferred: Shape("transferred_by", None, _agent_moved),
    Agent.AgentDeparted: Shape("recorded_by", "departed_at", _agent_left),
    **{cls: Shape("recorded_by", "occurred_at", _recognised) for cls in RECOGNITION_CLASSES},
    Recording.RecordingRetracted: Shape("retracted_by", None, _retracted),
    KudosAllowance.KudosAllowanceOpened: Shape(None, None, _giver),
}
UNKNOWN_SHAPE = Shape()


def log_event(ctx: BatchContext, notification_id: int, event: Any) -> None:
    """Add the event's row to the log (after its own handler ran, so the directory is current)."""
    shape = SHAPES.get(type(event), UNKNOWN_SHAPE)
    about = shape.about(ctx, event) if shape.about is not None else NOBODY
    ctx.insert(
        event_log,
        {
            "notification_id": notification_id,
            "type": type(event).__name__,
            "originator_id": event.originator_id,
            "originator_version": event.originator_version,
            "agent_id": about.agent_id,
            "team_id": about.team_id,
            "recorded_by": getattr(event, shape.recorder) if shape.recorder else None,
            "occurred_at": getattr(event, shape.occurred) if shape.occurred else None,
            "recorded_at": event.timestamp,
            "data": data_json(event),
        },
    )
