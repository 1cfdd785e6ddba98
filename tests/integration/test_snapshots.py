"""Long streams do not slow commands down: agents are snapshotted, and every recording is
a stream of its own, so recording never reads an agent's recognition history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.agents import Agent
from domain.application import Callcraft
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
INTERVAL = Callcraft.snapshotting_intervals[Agent]


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    application = Callcraft(env=database.event_env())
    try:
        yield application
    finally:
        application.close()


def replayed_from_events_only(app: Callcraft, aggregate_id: UUID) -> Any:
    aggregate = None
    for event in app.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


def test_agents_are_snapshotted_at_an_interval() -> None:
    assert 0 < INTERVAL <= 100


def test_after_many_transfers_a_snapshot_exists_and_the_agent_loads_the_same_either_way(
    app: Callcraft,
) -> None:
    teams = [app.form_team(name=n, formed_by="admin") for n in ("Blue", "Green")]
    ann = app.enrol_agent(
        handle="ann",
        name="Ann",
        team_id=teams[0],
        enrolled_at=NOW - timedelta(days=400),
        enrolled_by="admin",
        now=NOW,
    )
    transfers = INTERVAL * 2 + 7
    for n in range(transfers):
        app.transfer_agent(agent_id=ann, team_id=teams[(n + 1) % 2], transferred_by="admin")

    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(ann))
    assert [s.originator_version for s in snapshots] == [INTERVAL, 2 * INTERVAL]

    from_snapshot = app.repository.get(ann)
    from_events = replayed_from_events_only(app, ann)
    assert from_snapshot.version == from_events.version == transfers + 1
    assert vars(from_snapshot) == vars(from_events)
    assert from_snapshot.team_id == teams[transfers % 2]

    # the state at a snapshotted version is the same as replaying up to it
    at_snapshot = app.repository.get(ann, version=INTERVAL)
    replayed = None
    for event in app.events.get(ann, lte=INTERVAL):
        replayed = event.mutate(replayed)
    assert vars(at_snapshot) == vars(replayed)


def test_a_snapshotted_departed_agent_is_still_departed(app: Callcraft) -> None:
    teams = [app.form_team(name=n, formed_by="admin") for n in ("Blue", "Green")]
    ann = app.enrol_agent(
        handle="ann",
        name="Ann",
        team_id=teams[0],
        enrolled_at=NOW - timedelta(days=400),
        enrolled_by="admin",
        now=NOW,
    )
    for n in range(INTERVAL - 2):
        app.transfer_agent(agent_id=ann, team_id=teams[(n + 1) % 2], transferred_by="admin")
    app.depart_agent(
        now=NOW, agent_id=ann, departed_at=NOW - timedelta(days=1), recorded_by="admin"
    )
    assert app.snapshots is not None
    [snapshot] = app.snapshots.get(ann)
    assert snapshot.originator_version == INTERVAL
    assert app.agent(ann).departed_at == NOW - timedelta(days=1)


def test_a_recording_is_a_one_event_stream_however_long_the_agents_history(
    app: Callcraft,
) -> None:
    team = app.form_team(name="Blue", formed_by="admin")
    ann = app.enrol_agent(
        handle="ann",
        name="Ann",
        team_id=team,
        enrolled_at=NOW - timedelta(days=400),
        enrolled_by="admin",
        now=NOW,
    )
    stream_lengths = []
    for n in range(60):
        outcome = app.record(
            RecordRecognition(
                kind=RecognitionKind.INITIATIVE_TAKEN,
                agent_id=ann,
                competencies=("leadership",),
                occurred_at=NOW - timedelta(days=n),
                recorded_by="sue",
                description=f"idea {n}",
            ),
            now=NOW,
        )
        stream_lengths.append(len(app.recorder.select_events(outcome.recording_id)))
    assert stream_lengths == [1] * 60
    # recording reads the agent but never appends to (or lengthens) the agent's stream
    assert len(app.recorder.select_events(ann)) == 1
