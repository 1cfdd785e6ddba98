"""Teams, agents and accounts through the service layer, on both databases: each refusal
names what is wrong and leaves the log as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.accounts import Role
from domain.application import Callcraft
from domain.exceptions import (
    AgentDeparted,
    AlreadyExists,
    Conflict,
    InvalidInput,
    InvalidOccurredAt,
    UnknownAgent,
    UnknownTeam,
    UnknownUser,
)
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    application = Callcraft(env=database.event_env())
    try:
        yield application
    finally:
        application.close()


@contextmanager
def nothing_recorded(app: Callcraft) -> Iterator[None]:
    before = app.recorder.max_notification_id()
    yield
    assert app.recorder.max_notification_id() == before, "a refused command changed the log"


def enrol(app: Callcraft, team: UUID, handle: str = "ann", **changes: object) -> UUID:
    arguments: dict[str, object] = {
        "handle": handle,
        "name": handle.title(),
        "team_id": team,
        "enrolled_at": NOW - timedelta(days=10),
        "enrolled_by": "admin",
        "now": NOW,
        **changes,
    }
    return app.enrol_agent(**arguments)  # type: ignore[arg-type]


def test_an_enrolled_agent_can_be_looked_up_by_id_and_handle(app: Callcraft) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    ann = enrol(app, team, "Ann")
    record = app.agent_with_handle("ANN")
    assert (record.id, record.handle, record.team_id, record.departed_at) == (
        ann,
        "ann",
        team,
        None,
    )
    assert record.enrolled_at == NOW - timedelta(days=10)


def test_a_handle_is_taken_once(app: Callcraft) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    enrol(app, team, "ann")
    with nothing_recorded(app), pytest.raises(AlreadyExists) as refused:
        enrol(app, team, "Ann")
    assert refused.value.field == "handle"


def test_an_agent_is_enrolled_only_into_an_existing_team(app: Callcraft) -> None:
    with nothing_recorded(app), pytest.raises(UnknownTeam):
        enrol(app, uuid4())


@pytest.mark.parametrize(
    "enrolled_at", [datetime(2025, 3, 1, 9), NOW + timedelta(minutes=6)], ids=["naive", "future"]
)
def test_an_enrolment_needs_a_past_time_with_a_time_zone(
    app: Callcraft, enrolled_at: datetime
) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    with nothing_recorded(app), pytest.raises(InvalidOccurredAt) as refused:
        enrol(app, team, enrolled_at=enrolled_at)
    assert refused.value.field == "enrolled_at"


def test_a_team_name_is_taken_once(app: Callcraft) -> None:
    app.form_team(name="Night shift", formed_by="admin")
    with nothing_recorded(app), pytest.raises(AlreadyExists):
        app.form_team(name="night  SHIFT", formed_by="admin")


def test_transfers_and_departures_are_refused_for_unknown_agents_and_teams(
    app: Callcraft,
) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    ann = enrol(app, team)
    with nothing_recorded(app):
        with pytest.raises(UnknownTeam):
            app.transfer_agent(agent_id=ann, team_id=uuid4(), transferred_by="admin")
        with pytest.raises(UnknownAgent):
            app.transfer_agent(agent_id=uuid4(), team_id=team, transferred_by="admin")
        with pytest.raises(UnknownAgent):
            app.depart_agent(now=NOW, agent_id=uuid4(), departed_at=NOW, recorded_by="admin")
        with pytest.raises(InvalidInput):
            app.transfer_agent(agent_id=ann, team_id=team, transferred_by="admin")


def test_a_departure_needs_a_time_zone_and_happens_once(app: Callcraft) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    ann = enrol(app, team)
    with nothing_recorded(app), pytest.raises(InvalidOccurredAt) as refused:
        app.depart_agent(
            now=NOW, agent_id=ann, departed_at=datetime(2025, 3, 9, 17), recorded_by="admin"
        )
    assert refused.value.field == "departed_at"
    app.depart_agent(
        now=NOW, agent_id=ann, departed_at=NOW - timedelta(days=1), recorded_by="admin"
    )
    assert app.agent(ann).departed_at == NOW - timedelta(days=1)
    with nothing_recorded(app), pytest.raises(AgentDeparted):
        app.depart_agent(now=NOW, agent_id=ann, departed_at=NOW, recorded_by="admin")


def test_users_roles_and_supervisors_are_recorded_and_read_back(app: Callcraft) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    ann = enrol(app, team)
    sue = app.register_user(
        username="Sue", display_name="Sue Park", password_hash="h", registered_by="admin"
    )
    app.register_user(
        username="ann", display_name="Ann", password_hash="h", agent_id=ann, registered_by="admin"
    )
    app.grant_role(user_id=sue, role=Role.SUPERVISOR, granted_by="admin")
    app.assign_supervisor(team_id=team, user_id=sue, assigned_by="admin")
    assert app.user_named("SUE").roles == frozenset({Role.SUPERVISOR})
    assert app.user_named("ann").agent_id == ann
    assert app.team(team).supervisors == (sue,)
    with nothing_recorded(app):
        with pytest.raises(AlreadyExists):
            app.register_user(
                username="sue", display_name="Other", password_hash="h", registered_by="admin"
            )
        with pytest.raises(UnknownAgent):
            app.register_user(
                username="zed",
                display_name="Zed",
                password_hash="h",
                agent_id=uuid4(),
                registered_by="admin",
            )
        with pytest.raises(Conflict):
            app.grant_role(user_id=sue, role=Role.SUPERVISOR, granted_by="admin")
        with pytest.raises(UnknownUser):
            app.assign_supervisor(team_id=team, user_id=uuid4(), assigned_by="admin")
        with pytest.raises(UnknownUser):
            app.user_named("nobody")
