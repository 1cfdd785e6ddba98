"""GET /api/v1/me: who the request is from, and what that principal may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, get

from api.auth.guards import ABOUT_THE_CALLER, principal_of
from api.routes.errors import error_responses
from domain.principals import (
    may_administer,
    may_audit,
    may_give_kudos,
    may_read,
)


@dataclass(frozen=True)
class Me:
    """A person (``is_token`` false: ``roles``, perhaps ``agent_id`` and ``led_team_ids``) or
    an integration's token (``token_scopes``). ``actor`` is the name the audit trail shows."""

    actor: str
    display_name: str
    is_token: bool
    roles: list[str]
    user_id: UUID | None
    agent_id: UUID | None
    led_team_ids: list[UUID]
    token_scopes: list[str] | None
    may_read: bool
    may_give_kudos: bool
    may_audit: bool
    may_administer: bool


@get(
    "/me",
    sync_to_thread=False,
    tags=["me"],
    responses=error_responses(401),
    opt={ABOUT_THE_CALLER: True},
)
def me(request: Request[Any, Any, Any]) -> Me:
    """The signed-in principal (any principal may ask, a record-only token too)."""
    principal = principal_of(request)
    return Me(
        actor=principal.actor,
        display_name=principal.display_name,
        is_token=principal.is_token,
        roles=sorted(role.value for role in principal.roles),
        user_id=principal.user_id,
        agent_id=principal.agent_id,
        led_team_ids=sorted(principal.led_team_ids, key=str),
        token_scopes=(
            sorted(scope.value for scope in principal.token_scopes)
            if principal.token_scopes is not None
            else None
        ),
        may_read=may_read(principal),
        may_give_kudos=may_give_kudos(principal),
        may_audit=may_audit(principal),
        may_administer=may_administer(principal),
    )
