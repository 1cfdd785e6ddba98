from __future__ import annotations

from uuid import UUID

import pytest

from domain.accounts import Role
from domain.principals import (
    Principal,
    TokenScope,
    may_administer,
    may_audit,
    may_give_kudos,
    may_read,
    may_record_for,
    may_see_private_history,
)

BLUE, RED = UUID(int=1), UUID(int=2)
ANN = UUID(int=10)


def person(*roles: Role, leads: tuple[UUID, ...] = (), agent: UUID | None = None) -> Principal:
    return Principal(
        actor="someone",
        display_name="Someone",
        roles=frozenset(roles),
        agent_id=agent,
        led_team_ids=frozenset(leads),
    )


def token(*scopes: TokenScope) -> Principal:
    return Principal(actor="token:qa", display_name="QA", token_scopes=frozenset(scopes))


def test_a_supervisor_records_only_for_the_teams_they_lead() -> None:
    sue = person(Role.SUPERVISOR, leads=(BLUE,))
    assert may_record_for(sue, BLUE)
    assert not may_record_for(sue, RED)


def test_an_admin_records_for_anyone_and_an_auditor_for_nobody() -> None:
    assert may_record_for(person(Role.ADMIN), RED)
    assert not may_record_for(person(Role.AUDITOR), RED)
    assert not may_record_for(person(Role.AGENT, agent=ANN), BLUE)


def test_a_token_records_only_with_the_record_scope() -> None:
    assert may_record_for(token(TokenScope.RECORD), RED)
    assert not may_record_for(token(TokenScope.READ), RED)
    assert may_read(token(TokenScope.READ))
    assert not may_read(token(TokenScope.RECORD))


def test_an_agent_sees_their_own_private_history_but_not_a_colleagues() -> None:
    ann = person(Role.AGENT, agent=ANN)
    assert may_see_private_history(ann, ANN, BLUE)
    assert not may_see_private_history(ann, UUID(int=11), BLUE)


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (person(Role.SUPERVISOR, leads=(BLUE,)), True),
        (person(Role.SUPERVISOR, leads=(RED,)), False),
        (person(Role.AUDITOR), True),
        (person(Role.ADMIN), True),
    ],
)
def test_who_sees_an_agents_private_history(principal: Principal, allowed: bool) -> None:
    assert may_see_private_history(principal, ANN, BLUE) is allowed


def test_kudos_come_from_a_person_who_is_an_agent() -> None:
    assert may_give_kudos(person(Role.AGENT, agent=ANN))
    assert not may_give_kudos(person(Role.SUPERVISOR))
    assert not may_give_kudos(token(TokenScope.RECORD))


def test_administering_and_auditing_need_their_roles_and_a_person() -> None:
    assert may_administer(person(Role.ADMIN))
    assert not may_administer(person(Role.AUDITOR))
    assert may_audit(person(Role.AUDITOR))
    assert may_audit(person(Role.ADMIN))
    assert not may_audit(token(TokenScope.READ))
