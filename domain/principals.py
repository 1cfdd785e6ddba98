"""Who is acting, and what they may do: pure policy, no I/O.

A principal is a signed-in person (a user) or an integration holding an API token. The
web and API layers build one per request from the session or the bearer token; every
permission question is answered here, from the principal and plain facts about the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from domain.accounts import Role


class TokenScope(StrEnum):
    READ = "read"
    RECORD = "record"


@dataclass(frozen=True)
class Principal:
    """The identity behind a request.

    ``actor`` is what the audit trail records as the recorder: the username for a person,
    ``token:<name>`` for an integration.
    """

    actor: str
    display_name: str
    roles: frozenset[Role] = frozenset()
    user_id: UUID | None = None
    agent_id: UUID | None = None
    led_team_ids: frozenset[UUID] = frozenset()
    token_scopes: frozenset[TokenScope] | None = None  # None: a person, not a token
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_token(self) -> bool:
        return self.token_scopes is not None

    def has(self, role: Role) -> bool:
        return role in self.roles


def may_read(principal: Principal) -> bool:
    if principal.is_token:
        return TokenScope.READ in (principal.token_scopes or frozenset())
    return bool(principal.roles)


def may_record_for(principal: Principal, agent_team_id: UUID) -> bool:
    """Supervisors record for agents of the teams they lead; admins and record-scoped
    tokens (bound to their own recording identity) for anyone; auditors never write."""
    if principal.is_token:
        return TokenScope.RECORD in (principal.token_scopes or frozenset())
    if principal.has(Role.ADMIN):
        return True
    return principal.has(Role.SUPERVISOR) and agent_team_id in principal.led_team_ids


def may_give_kudos(principal: Principal) -> bool:
    """Kudos come from an agent, in their own name."""
    return not principal.is_token and principal.agent_id is not None


def may_see_private_history(principal: Principal, agent_id: UUID, agent_team_id: UUID) -> bool:
    """Notes and the full history: the agent themselves, supervisors of their team,
    auditors and admins."""
    if principal.is_token:
        return TokenScope.READ in (principal.token_scopes or frozenset())
    if principal.agent_id == agent_id:
        return True
    if principal.has(Role.AUDITOR) or principal.has(Role.ADMIN):
        return True
    return principal.has(Role.SUPERVISOR) and agent_team_id in principal.led_team_ids


def may_administer(principal: Principal) -> bool:
    return not principal.is_token and principal.has(Role.ADMIN)


def may_audit(principal: Principal) -> bool:
    return not principal.is_token and (principal.has(Role.AUDITOR) or principal.has(Role.ADMIN))
