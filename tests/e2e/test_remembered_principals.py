"""A web process remembers who a session or token is, and forgets it at the next account event
— also one recorded by another process on the same store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest
from litestar import Request, get
from litestar.types import ControllerRouterHandler

from api.auth.guards import principal_of, signed_in
from api.auth.remembered import ACCOUNT_TOPICS
from domain.accounts import Role
from domain.application import Callcraft
from projections.projector import Projector
from tests.conftest import Database
from tests.e2e.http_helpers import World, open_world, sign_in


def probes(_world: World) -> list[ControllerRouterHandler]:
    @get("/api/v1/probe/principal", guards=[signed_in], sync_to_thread=False)
    def principal(request: Request[Any, Any, Any]) -> dict[str, Any]:
        who = principal_of(request)
        return {
            "roles": sorted(r.value for r in who.roles),
            "led": sorted(str(t) for t in who.led_team_ids),
        }

    return [principal]


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    with open_world(database, extra_handlers=probes) as opened:
        yield opened


@pytest.fixture
def other_process(database: Database) -> Iterator[Callcraft]:
    """A second application on the same store: what another web process would write with."""
    app = Callcraft(env=database.event_env())
    try:
        yield app
    finally:
        app.close()


def ask(world: World, **headers: str) -> Any:
    return world.client.get("/api/v1/probe/principal", headers=headers)


def test_a_disable_recorded_by_another_process_ends_the_session_on_the_next_request(
    world: World, other_process: Callcraft
) -> None:
    sign_in(world.client, "sam")
    assert ask(world).status_code == 200
    assert ask(world).status_code == 200  # remembered now

    other_process.disable_user(user_id=world.users["supervisor"], disabled_by="root")

    assert ask(world).status_code == 401


def test_a_role_revoked_by_another_process_is_gone_from_the_next_request(
    world: World, other_process: Callcraft
) -> None:
    sign_in(world.client, "sam")
    other_process.grant_role(user_id=world.users["supervisor"], role=Role.AUDITOR, granted_by="t")
    assert ask(world).json()["roles"] == ["auditor", "supervisor"]
    assert ask(world).json()["roles"] == ["auditor", "supervisor"]

    other_process.revoke_role(user_id=world.users["supervisor"], role=Role.AUDITOR, revoked_by="t")

    assert ask(world).json()["roles"] == ["supervisor"]


def test_a_token_revoked_by_another_process_is_refused_on_the_next_request(
    world: World, other_process: Callcraft
) -> None:
    token_id, secret = world.app.issue_token(name="QA", scopes=["read"], issued_by="root")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert world.client.get("/api/v1/me", headers=bearer).status_code == 200
    assert world.client.get("/api/v1/me", headers=bearer).status_code == 200

    other_process.revoke_token(token_id=token_id, revoked_by="root")

    assert world.client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_team_assigned_elsewhere_is_led_once_the_read_models_show_it(
    world: World, other_process: Callcraft, database: Database
) -> None:
    sign_in(world.client, "sam")
    before = ask(world).json()["led"]
    team_id = other_process.form_team(name="Retention", formed_by="root")
    other_process.assign_supervisor(
        team_id=team_id, user_id=world.users["supervisor"], assigned_by="root"
    )
    ask(world)  # asked before the projector applied it: not remembered past the event

    engine = database.read_engine()
    try:
        Projector(other_process, engine, timezone=UTC).catch_up()
    finally:
        engine.dispose()

    assert ask(world).json()["led"] == sorted([*before, str(team_id)])


def test_every_account_event_class_is_watched() -> None:
    names = {topic.rsplit(".", 1)[-1] for topic in ACCOUNT_TOPICS}
    assert {
        "UserRegistered",
        "RoleGranted",
        "RoleRevoked",
        "UserDisabled",
        "SupervisorAssigned",
        "SupervisorUnassigned",
        "ApiTokenRevoked",
    } <= names
