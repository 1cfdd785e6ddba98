"""Events to facts: one thin function per event type, writing through a BatchContext.

Handlers only mirror what happened (directory rows, recognitions, retractions, the activity
feed) and say which agents' scores are now stale; scoring itself is :mod:`projections.scoring`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update

from domain.accounts import User
from domain.agents import Agent
from domain.facts import RecognitionKind
from domain.organisation import Team
from domain.publications import RulebookPublication
from domain.recordings import Recording
from projections.context import AgentInfo, BatchContext
from projections.event_log import log_event
from projections.tables import (
    activity,
    agents,
    recognitions,
    rulebooks,
    team_supervisors,
    teams,
    users,
)
from projections.tokens import TOKEN_HANDLERS

KIND_LABELS: dict[str, str] = {kind.value: kind.label for kind in RecognitionKind}
SUMMARY_DETAIL_MAX = 80

Handler = Callable[[BatchContext, int, Any], None]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_DETAIL_MAX else text[: SUMMARY_DETAIL_MAX - 1] + "…"


def _who(ctx: BatchContext, agent_id: UUID) -> str:
    info = ctx.agent(agent_id)
    return info.name if info else str(agent_id)


def _activity(
    ctx: BatchContext,
    notification_id: int,
    event: Any,
    *,
    occurred_at: datetime,
    agent_id: UUID | None,
    team_id: UUID | None,
    kind: str,
    summary: str,
    recording_id: UUID | None = None,
) -> None:
    ctx.insert(
        activity,
        {
            "notification_id": notification_id,
            "occurred_at": occurred_at,
            "recorded_at": event.timestamp,
            "agent_id": agent_id,
            "team_id": team_id,
            "kind": kind,
            "summary": summary,
            "recording_id": recording_id,
            "retracted": False,
        },
    )


# ------------------------------------------------------------------------------- rules


def rulebook_published(
    ctx: BatchContext, _nid: int, event: RulebookPublication.RulebookPublished
) -> None:
    ctx.insert(
        rulebooks,
        {"version": event.version, "effective_from": event.effective_from, "rules": event.rules},
    )
    ctx.every_agent_dirty = True
    ctx.rulebooks_changed = True


# ------------------------------------------------------------------------ organisation


def team_formed(ctx: BatchContext, _nid: int, event: Team.TeamFormed) -> None:
    ctx.insert(teams, {"team_id": event.originator_id, "name": event.name})
    ctx.remember_team(event.originator_id, event.name)


def supervisor_assigned(ctx: BatchContext, _nid: int, event: Team.SupervisorAssigned) -> None:
    ctx.insert(team_supervisors, {"team_id": event.originator_id, "user_id": event.user_id})


def supervisor_unassigned(ctx: BatchContext, _nid: int, event: Team.SupervisorUnassigned) -> None:
    ctx.execute(
        delete(team_supervisors).where(
            team_supervisors.c.team_id == event.originator_id,
            team_supervisors.c.user_id == event.user_id,
        )
    )


# ---------------------------------------------------------------------------- accounts


def user_registered(ctx: BatchContext, _nid: int, event: User.UserRegistered) -> None:
    ctx.insert(
        users,
        {
            "user_id": event.originator_id,
            "username": event.username,
            "display_name": event.display_name,
            "agent_id": event.agent_id,
            "roles": "",
            "disabled": False,
        },
    )


def _change_roles(ctx: BatchContext, user_id: UUID, change: Callable[[set[str]], None]) -> None:
    current = ctx.execute(select(users.c.roles).where(users.c.user_id == user_id)).scalar_one()
    roles = {r for r in current.split(";") if r}
    change(roles)
    ctx.execute(
        update(users).where(users.c.user_id == user_id).values(roles=";".join(sorted(roles)))
    )


def role_granted(ctx: BatchContext, _nid: int, event: User.RoleGranted) -> None:
    _change_roles(ctx, event.originator_id, lambda roles: roles.add(event.role))


def role_revoked(ctx: BatchContext, _nid: int, event: User.RoleRevoked) -> None:
    _change_roles(ctx, event.originator_id, lambda roles: roles.discard(event.role))


def user_disabled(ctx: BatchContext, _nid: int, event: User.UserDisabled) -> None:
    ctx.execute(update(users).where(users.c.user_id == event.originator_id).values(disabled=True))


# ------------------------------------------------------------------------------ agents


def agent_enrolled(ctx: BatchContext, nid: int, event: Agent.AgentEnrolled) -> None:
    agent_id = event.originator_id
    ctx.insert(
        agents,
        {
            "agent_id": agent_id,
            "handle": event.handle,
            "name": event.name,
            "team_id": event.team_id,
            "enrolled_at": event.enrolled_at,
            "departed_at": None,
        },
    )
    ctx.remember_agent(agent_id, AgentInfo(event.handle, event.name, event.team_id))
    ctx.mark_dirty(agent_id)
    ctx.changes.moved.add(agent_id)
    team = ctx.team_name(event.team_id) or "a team"
    _activity(
        ctx,
        nid,
        event,
        occurred_at=event.enrolled_at,
        agent_id=agent_id,
        team_id=event.team_id,
        kind="AgentEnrolled",
        summary=f"{event.name} joined {team}",
    )


def agent_transferred(ctx: BatchContext, nid: int, event: Agent.AgentTransferred) -> None:
    agent_id = event.originator_id
    ctx.execute(update(agents).where(agents.c.agent_id == agent_id).values(team_id=event.team_id))
    info = ctx.agent(agent_id)
    if info is not None:
        info.team_id = event.team_id
    ctx.mark_dirty(agent_id)
    ctx.changes.moved.add(agent_id)
    team = ctx.team_name(event.team_id) or "another team"
    _activity(
        ctx,
        nid,
        event,
        occurred_at=event.timestamp,
        agent_id=agent_id,
        team_id=event.team_id,
        kind="AgentTransferred",
        summary=f"{_who(ctx, agent_id)} moved to {team}",
    )


def agent_departed(ctx: BatchContext, nid: int, event: Agent.AgentDeparted) -> None:
    agent_id = event.originator_id
    ctx.execute(
        update(agents).where(agents.c.agent_id == agent_id).values(departed_at=event.departed_at)
    )
    ctx.mark_dirty(agent_id)
    ctx.changes.moved.add(agent_id)
    info = ctx.agent(agent_id)
    if info is not None:
        info.departed_at = event.departed_at
    _activity(
        ctx,
        nid,
        event,
        occurred_at=event.departed_at,
        agent_id=agent_id,
        team_id=info.team_id if info else None,
        kind="AgentDeparted",
        summary=f"{_who(ctx, agent_id)} departed",
    )


# ------------------------------------------------------------------------- recognitions


def _detail(ctx: BatchContext, event: Recording.Recognised) -> str:
    if isinstance(event, Recording.FeedbackGiven):
        return f"{event.kind}, rated {event.rating}/5"
    if isinstance(event, Recording.TrainingCompleted):
        return f"{_clip(event.course)}, scored {event.score}"
    if isinstance(event, Recording.ToughCallHandledWithGrace):
        return f"call {_clip(event.call_ref)}"
    if isinstance(event, Recording.InitiativeTaken):
        return _clip(event.description)
    if isinstance(event, Recording.KudosGiven):
        return f"from {_who(ctx, event.from_agent)}"
    return ""


def recognised(ctx: BatchContext, nid: int, event: Recording.Recognised) -> None:
    kind = type(event).recognition_kind.value
    day = event.occurred_at.astimezone(ctx.timezone).date()
    row: dict[str, Any] = {
        "recording_id": event.originator_id,
        "notification_id": nid,
        "agent_id": event.agent_id,
        "kind": kind,
        "competencies": ";".join(event.competencies),
        "occurred_at": event.occurred_at,
        "local_day": day,
        "recorded_at": event.timestamp,
        "recorded_by": event.recorded_by,
        "note": event.note,
        "rating": getattr(event, "rating", None),
        "feedback_kind": event.kind if isinstance(event, Recording.FeedbackGiven) else None,
        "given_by": getattr(event, "given_by", None),
        "course": getattr(event, "course", None),
        "score": getattr(event, "score", None),
        "call_ref": getattr(event, "call_ref", None),
        "description": getattr(event, "description", None),
        "from_agent": getattr(event, "from_agent", None),
        "retracted": False,
        "retracted_at": None,
        "retracted_by": None,
        "retraction_reason": None,
        "points": 0,
        "rulebook_version": None,
        "rule": None,
        "capped": False,
    }
    ctx.insert(recognitions, row)
    ctx.changes.recorded.add(event.originator_id)
    ctx.mark_dirty(event.agent_id, row["from_agent"])
    ctx.mark_group(event.agent_id, day, kind)
    info = ctx.agent(event.agent_id)
    competencies = ", ".join(c.replace("_", " ") for c in event.competencies)
    detail = _detail(ctx, event)
    summary = f"{KIND_LABELS[kind]} for {_who(ctx, event.agent_id)}"
    summary += f" ({detail})" if detail else ""
    _activity(
        ctx,
        nid,
        event,
        occurred_at=event.occurred_at,
        agent_id=event.agent_id,
        team_id=info.team_id if info else None,
        kind=kind,
        summary=f"{summary}: {competencies}",
        recording_id=event.originator_id,
    )


def recording_retracted(ctx: BatchContext, nid: int, event: Recording.RecordingRetracted) -> None:
    recording_id = event.originator_id
    found = ctx.execute(
        select(
            recognitions.c.agent_id,
            recognitions.c.from_agent,
            recognitions.c.kind,
            recognitions.c.local_day,
            recognitions.c.retracted,
        ).where(recognitions.c.recording_id == recording_id)
    ).first()
    ctx.execute(
        update(recognitions)
        .where(recognitions.c.recording_id == recording_id)
        .values(
            retracted=True,
            retracted_at=event.timestamp,
            retracted_by=event.retracted_by,
            retraction_reason=event.reason,
        )
    )
    ctx.execute(
        update(activity).where(activity.c.recording_id == recording_id).values(retracted=True)
    )
    if found is None:
        return
    if not found.retracted:
        ctx.changes.retracted.add(recording_id)
    ctx.mark_dirty(found.agent_id, found.from_agent)
    ctx.mark_group(found.agent_id, found.local_day, found.kind)
    info = ctx.agent(found.agent_id)
    _activity(
        ctx,
        nid,
        event,
        occurred_at=event.timestamp,
        agent_id=found.agent_id,
        team_id=info.team_id if info else None,
        kind="RecordingRetracted",
        summary=f"{KIND_LABELS.get(found.kind, found.kind)} for {_who(ctx, found.agent_id)} "
        f"was retracted: {_clip(event.reason)}",
        recording_id=recording_id,
    )


# ------------------------------------------------------------------------------ dispatch

HANDLERS: dict[type[Any], Handler] = {
    RulebookPublication.RulebookPublished: rulebook_published,
    Team.TeamFormed: team_formed,
    Team.SupervisorAssigned: supervisor_assigned,
    Team.SupervisorUnassigned: supervisor_unassigned,
    User.UserRegistered: user_registered,
    User.RoleGranted: role_granted,
    User.RoleRevoked: role_revoked,
    User.UserDisabled: user_disabled,
    Agent.AgentEnrolled: agent_enrolled,
    Agent.AgentTransferred: agent_transferred,
    Agent.AgentDeparted: agent_departed,
    Recording.FeedbackGiven: recognised,
    Recording.TrainingCompleted: recognised,
    Recording.ToughCallHandledWithGrace: recognised,
    Recording.InitiativeTaken: recognised,
    Recording.KudosGiven: recognised,
    Recording.RecordingRetracted: recording_retracted,
    **TOKEN_HANDLERS,
}
"""Events not listed (kudos allowances, password changes, ...) change no read model."""


def agents_named(event: object) -> tuple[UUID | None, ...]:
    """The agents whose directory entries applying ``event`` reads (looked up per batch)."""
    if isinstance(event, Recording.Recognised):
        return (event.agent_id, getattr(event, "from_agent", None))
    if isinstance(event, Agent.AgentTransferred | Agent.AgentDeparted):
        return (event.originator_id,)
    return ()


def apply_event(ctx: BatchContext, notification_id: int, event: object) -> None:
    handler = HANDLERS.get(type(event))
    if handler is not None:
        handler(ctx, notification_id, event)
    log_event(ctx, notification_id, event)  # every event, listed above or not
