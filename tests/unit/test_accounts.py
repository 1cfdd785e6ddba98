from __future__ import annotations

import pytest

from domain.accounts import Role, User, parse_role
from domain.exceptions import Conflict, InvalidInput, InvalidName
from domain.identity import user_id_for


def sue() -> User:
    return User.register(
        username="Sue",
        display_name="Sue Park",
        password_hash="hash",
        agent_id=None,
        registered_by="admin",
    )


def test_a_user_is_identified_by_the_case_folded_username() -> None:
    user = sue()
    assert user.username == "sue"
    assert user.id == user_id_for("SUE")
    assert user.roles == []
    assert not user.disabled


@pytest.mark.parametrize("username", ["", "sue park", "s" * 65, "su\te"])
def test_an_unusable_username_is_refused(username: str) -> None:
    with pytest.raises(InvalidName) as refused:
        User.register(
            username=username,
            display_name="Sue",
            password_hash="h",
            agent_id=None,
            registered_by="admin",
        )
    assert refused.value.field == "username"


def test_roles_are_granted_and_revoked_as_events_that_say_who_did_it() -> None:
    user = sue()
    user.grant(role=Role.SUPERVISOR, granted_by="admin")
    user.grant(role=Role.ADMIN, granted_by="root")
    assert user.has_role(Role.SUPERVISOR)
    assert user.has_role(Role.ADMIN)
    user.revoke(role=Role.SUPERVISOR, revoked_by="root")
    assert not user.has_role(Role.SUPERVISOR)
    events = user.collect_events()
    assert [
        (type(e).__name__, getattr(e, "granted_by", getattr(e, "revoked_by", None)))
        for e in events[1:]
    ] == [
        ("RoleGranted", "admin"),
        ("RoleGranted", "root"),
        ("RoleRevoked", "root"),
    ]


def test_a_role_cannot_be_granted_twice_nor_revoked_when_not_held() -> None:
    user = sue()
    user.grant(role=Role.AUDITOR, granted_by="admin")
    with pytest.raises(Conflict):
        user.grant(role=Role.AUDITOR, granted_by="admin")
    with pytest.raises(Conflict):
        user.revoke(role=Role.ADMIN, revoked_by="admin")


def test_a_user_is_disabled_once() -> None:
    user = sue()
    user.disable(disabled_by="admin")
    assert user.disabled
    with pytest.raises(Conflict, match="already disabled"):
        user.disable(disabled_by="admin")


def test_a_password_change_replaces_the_hash() -> None:
    user = sue()
    user.change_password(password_hash="new", changed_by="sue")
    assert user.password_hash == "new"


def test_roles_are_parsed_from_their_names_and_unknown_ones_refused() -> None:
    assert parse_role(" Supervisor ") is Role.SUPERVISOR
    with pytest.raises(InvalidInput, match="unknown role") as refused:
        parse_role("overlord")
    assert refused.value.field == "role"
