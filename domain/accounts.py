"""User accounts and roles, as events: who gave whom which rights, and when, is replayable."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.exceptions import Conflict, InvalidInput, InvalidName
from domain.identity import user_id_for
from domain.text import NAME_MAX_LENGTH, clean_identifier, clean_text

USERNAME_MAX_LENGTH = 64


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"unknown role {value!r}; expected one of: {known}", field="role"
        ) from None


def clean_username(username: str) -> str:
    return clean_identifier(
        username, field="username", max_length=USERNAME_MAX_LENGTH, error=InvalidName
    )


class User(Aggregate):
    class UserRegistered(Aggregate.Created):
        username: str
        display_name: str
        password_hash: str
        agent_id: UUID | None
        registered_by: str

    class RoleGranted(Aggregate.Event):
        role: str
        granted_by: str

    class RoleRevoked(Aggregate.Event):
        role: str
        revoked_by: str

    class UserDisabled(Aggregate.Event):
        disabled_by: str

    class PasswordChanged(Aggregate.Event):
        password_hash: str
        changed_by: str

    @staticmethod
    def create_id(username: str) -> UUID:
        return user_id_for(username)

    @event(UserRegistered)
    def __init__(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        agent_id: UUID | None,
        registered_by: str,
    ) -> None:
        self.username = username
        self.display_name = display_name
        self.password_hash = password_hash
        self.agent_id = agent_id
        self.roles: list[str] = []
        self.disabled = False

    @classmethod
    def register(
        cls,
        *,
        username: str,
        display_name: str,
        password_hash: str,
        agent_id: UUID | None,
        registered_by: str,
    ) -> User:
        return cls(
            username=clean_username(username),
            display_name=clean_text(
                display_name,
                field="display_name",
                max_length=NAME_MAX_LENGTH,
                error=InvalidName,
                multiline=False,
            ),
            password_hash=password_hash,
            agent_id=agent_id,
            registered_by=registered_by,
        )

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    def grant(self, *, role: Role, granted_by: str) -> None:
        if self.has_role(role):
            raise Conflict(f"{self.username} already has the role {role}", field="role")
        self._grant(role=role.value, granted_by=granted_by)

    @event(RoleGranted)
    def _grant(self, role: str, granted_by: str) -> None:
        self.roles.append(role)

    def revoke(self, *, role: Role, revoked_by: str) -> None:
        if not self.has_role(role):
            raise Conflict(f"{self.username} does not have the role {role}", field="role")
        self._revoke(role=role.value, revoked_by=revoked_by)

    @event(RoleRevoked)
    def _revoke(self, role: str, revoked_by: str) -> None:
        self.roles.remove(role)

    def disable(self, *, disabled_by: str) -> None:
        if self.disabled:
            raise Conflict(f"{self.username} is already disabled", field="user")
        self._disable(disabled_by=disabled_by)

    @event(UserDisabled)
    def _disable(self, disabled_by: str) -> None:
        self.disabled = True

    def change_password(self, *, password_hash: str, changed_by: str) -> None:
        self._change_password(password_hash=password_hash, changed_by=changed_by)

    @event(PasswordChanged)
    def _change_password(self, password_hash: str, changed_by: str) -> None:
        self.password_hash = password_hash
