"""The event store's guarantees, on both databases: stale writes are refused (not merged)
and a save of several aggregates is stored whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from domain.agents import Agent
from domain.application import Callcraft
from domain.facts import RecognitionKind
from domain.recordings import Recording, RecordRecognition, event_fields_for
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    application = Callcraft(env=database.event_env())
    try:
        yield application
    finally:
        application.close()


def teams_and_agents(app: Callcraft) -> tuple[list[UUID], list[UUID]]:
    teams = [app.form_team(name=n, formed_by="admin") for n in ("Blue", "Green", "Red")]
    agents = [
        app.enrol_agent(
            handle=h,
            name=h.title(),
            team_id=teams[0],
            enrolled_at=NOW - timedelta(days=30),
            enrolled_by="admin",
            now=NOW,
        )
        for h in ("ann", "bob")
    ]
    return teams, agents


def load_agent(app: Callcraft, agent_id: UUID) -> Agent:
    agent = app.repository.get(agent_id)
    assert isinstance(agent, Agent)
    return agent


def test_a_stale_copy_of_an_aggregate_cannot_overwrite_a_newer_change(app: Callcraft) -> None:
    (_, green, red), (ann, _) = teams_and_agents(app)
    first, second = load_agent(app, ann), load_agent(app, ann)
    first.transfer(team_id=green, transferred_by="sue")
    second.transfer(team_id=red, transferred_by="tom")
    app.save(first)
    position = app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        app.save(second)

    assert app.recorder.max_notification_id() == position
    stored = app.recorder.select_events(ann)
    assert [e.originator_version for e in stored] == [1, 2]
    transferred = list(app.events.get(ann))[-1]
    assert isinstance(transferred, Agent.AgentTransferred)
    assert (transferred.team_id, transferred.transferred_by) == (green, "sue")
    assert app.agent(ann).team_id == green


def test_two_creations_of_the_same_aggregate_keep_only_the_first(app: Callcraft) -> None:
    (blue, green, _), _ = teams_and_agents(app)
    one = Agent.enrol(
        handle="cid", name="Cid One", team_id=blue, enrolled_at=NOW, enrolled_by="admin"
    )
    two = Agent.enrol(
        handle="cid", name="Cid Two", team_id=green, enrolled_at=NOW, enrolled_by="admin"
    )
    app.save(one)
    with pytest.raises(IntegrityError):
        app.save(two)
    assert app.agent(one.id).name == "Cid One"


def test_a_save_of_several_aggregates_where_one_conflicts_stores_none_of_them(
    app: Callcraft,
) -> None:
    (blue, green, red), (ann, bob) = teams_and_agents(app)
    stale_bob = load_agent(app, bob)
    app.transfer_agent(agent_id=bob, team_id=red, transferred_by="sue")

    fresh_ann = load_agent(app, ann)
    fresh_ann.transfer(team_id=green, transferred_by="tom")
    stale_bob.transfer(team_id=green, transferred_by="tom")
    ann_agent = Agent.enrol(
        handle="cid", name="Cid", team_id=blue, enrolled_at=NOW, enrolled_by="admin"
    )
    recording = Recording._create(
        Recording.InitiativeTaken,
        id=UUID(int=42),
        **event_fields_for(
            RecordRecognition(
                kind=RecognitionKind.INITIATIVE_TAKEN,
                agent_id=ann,
                competencies=("leadership",),
                occurred_at=NOW,
                recorded_by="tom",
                description="New queue rota",
            ),
            fresh_ann,
            NOW,
        ),
    )
    position = app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        app.save(fresh_ann, ann_agent, recording, stale_bob)

    assert app.recorder.max_notification_id() == position
    assert len(app.recorder.select_events(ann)) == 1
    assert app.recorder.select_events(ann_agent.id) == []
    assert app.recorder.select_events(recording.id) == []
    assert [e.originator_version for e in app.recorder.select_events(bob)] == [1, 2]
    assert (app.agent(ann).team_id, app.agent(bob).team_id) == (blue, red)


def test_a_save_of_several_aggregates_stores_them_all_in_order(app: Callcraft) -> None:
    (_, green, red), (ann, bob) = teams_and_agents(app)
    a, b = load_agent(app, ann), load_agent(app, bob)
    a.transfer(team_id=green, transferred_by="sue")
    b.transfer(team_id=red, transferred_by="sue")
    b.transfer(team_id=green, transferred_by="sue")
    position = app.recorder.max_notification_id() or 0
    app.save(a, b)
    notifications = app.recorder.select_notifications(position, 10, inclusive_of_start=False)
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (ann, 2),
        (bob, 2),
        (bob, 3),
    ]
    ids = [n.id for n in notifications]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


def test_a_refused_write_leaves_the_store_usable(app: Callcraft) -> None:
    (_, green, red), (ann, _) = teams_and_agents(app)
    stale = load_agent(app, ann)
    app.transfer_agent(agent_id=ann, team_id=green, transferred_by="sue")
    stale.transfer(team_id=red, transferred_by="tom")
    with pytest.raises(IntegrityError):
        app.save(stale)
    app.transfer_agent(agent_id=ann, team_id=red, transferred_by="tom")
    assert app.agent(ann).team_id == red
    assert [e.originator_version for e in app.recorder.select_events(ann)] == [1, 2, 3]
