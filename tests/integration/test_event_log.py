"""The event log read model: one row per notification, in log order, equal after a rebuild;
its filters and pages; and its exports, which say exactly what the event store says."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from api.exporter import CSV_COLUMNS, export_lines, history_lines
from domain.accounts import Role
from domain.application import Callcraft
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from projections.event_filters import EventFilter
from projections.event_log import EVENT_TYPES, event_log
from projections.event_log_queries import events_page, stream_events
from projections.projector import Projector
from projections.rebuild import rebuild
from tests.conftest import Database
from tests.reference_model import (
    RECORDERS,
    Command,
    Enrol,
    Record,
    Retract,
    Transfer,
    World,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database

PROPERTY = on_a_database(10)


def _log_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(event_log).order_by(event_log.c.notification_id))
        ]


def _store(app: Callcraft) -> list[dict[str, Any]]:
    return [json.loads(line) for line in history_lines(app, page_size=7)]


@PROPERTY
@given(
    history=histories(),
    catch_ups=st.lists(st.booleans(), min_size=30, max_size=30),
    batch_size=st.integers(1, 9),
)
def test_the_log_has_one_row_per_notification_in_log_order_and_equals_a_rebuild(
    database: Database, history: list[Command], catch_ups: list[bool], batch_size: int
) -> None:
    with fresh_database(database.kind) as db, opened(db) as (app, engine):
        world = World(app)
        projector = Projector(app, engine, timezone=UTC, batch_size=batch_size)
        for index, command in enumerate(history):
            world.run(command)
            if catch_ups[index % len(catch_ups)]:
                projector.catch_up()
        projector.catch_up()
        incremental = _log_rows(engine)
        store = _store(app)
        assert [row[0] for row in incremental] == [line["id"] for line in store]
        assert [row[1] for row in incremental] == [line["type"] for line in store]
        assert [json.loads(row[-1]) for row in incremental] == [line["data"] for line in store]
        rebuild(app, engine, timezone=UTC, batch_size=batch_size + 2)
        assert _log_rows(engine) == incremental


def _accounts_and_tokens(app: Callcraft, world: World) -> None:
    """Events the generated histories do not make: accounts, roles, tokens, kudos."""
    user = app.register_user(
        username="aud",
        display_name="Aud Itor",
        password_hash="secret-password-hash",
        agent_id=None,
        registered_by="admin",
    )
    app.grant_role(user_id=user, role=Role.AUDITOR, granted_by="admin")
    app.issue_token(name="qa", scopes=["record"], recording_identity="token:qa", issued_by="admin")
    app.record(
        RecordRecognition(
            kind=RecognitionKind.KUDOS_GIVEN,
            agent_id=world.agent_id(0),
            competencies=("teamwork",),
            occurred_at=world.now - timedelta(hours=2),
            recorded_by="token:qa",
            from_agent=world.agent_id(1),
        ),
        now=world.now,
    )


def _centre(app: Callcraft) -> World:
    world = World(app)
    for agent, team in ((0, 0), (1, 1), (2, 0)):
        world.run(Enrol(agent=agent, team=team, quarters_before=4 * 24 * 10))
    for index in range(12):
        world.run(
            Record(
                RecognitionKind.FEEDBACK_GIVEN,
                agent=index % 3,
                competencies=("communication",),
                fraction=5 + index * 7,
                recorder=index % 2,
            )
        )
    world.run(Retract(which=3, by_admin=False))
    world.run(Transfer(agent=2, team=1))
    world.run(
        Record(RecognitionKind.INITIATIVE_TAKEN, agent=2, competencies=("leadership",), fraction=95)
    )
    _accounts_and_tokens(app, world)
    return world


def test_every_kind_of_event_names_its_recorder_agent_and_team_and_keeps_no_secret(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = _centre(app)
        Projector(app, engine, timezone=UTC).catch_up()
        events = list(stream_events(engine, EventFilter(), chunk=4))
        by_type = {e.type: e for e in events}
        assert set(by_type) <= set(EVENT_TYPES)
        assert by_type["UserRegistered"].data["password_hash"] == "<redacted>"
        assert by_type["ApiTokenIssued"].data["token_hash"] == "<redacted>"
        assert "secret-password-hash" not in "".join(e.data_json for e in events)
        assert by_type["RoleGranted"].recorded_by == "admin"
        assert by_type["TeamFormed"].team_id == by_type["TeamFormed"].originator_id
        kudos = by_type["KudosGiven"]
        assert (kudos.recorded_by, kudos.agent_id) == ("token:qa", world.agent_id(0))
        assert kudos.team_id == world.team_ids[0]
        assert kudos.occurred_at == world.now - timedelta(hours=2)
        transfer = by_type["AgentTransferred"]
        assert (transfer.agent_id, transfer.team_id) == (world.agent_id(2), world.team_ids[1])
        later = [e for e in events if e.type == "InitiativeTaken"][-1]
        assert later.team_id == world.team_ids[1]  # the agent's team at that moment
        enrolled = next(e for e in events if e.agent_id == world.agent_id(2))
        assert enrolled.team_id == world.team_ids[0]


def test_a_retraction_and_its_recording_name_each_other(database: Database) -> None:
    with opened(database) as (app, engine):
        world = _centre(app)
        Projector(app, engine, timezone=UTC).catch_up()
        retraction = events_page(engine, EventFilter(types=("RecordingRetracted",)), limit=5)
        [undo] = retraction.events
        recording_id = world.recordings[3][0]
        assert undo.originator_id == recording_id
        assert undo.recorded_by in RECORDERS
        assert undo.agent_id is not None
        recording = next(
            e for e in stream_events(engine, EventFilter()) if e.notification_id == undo.retracts
        )
        assert recording.originator_id == recording_id
        assert recording.retracted_by == undo.notification_id
        assert recording.agent_id == undo.agent_id


def _reference(events: list[Any], wanted: EventFilter) -> list[int]:
    """The filter applied naively, in Python, to every event of the log."""
    picked = []
    for e in events:
        if wanted.agent_id is not None and e.agent_id != wanted.agent_id:
            continue
        if wanted.team_id is not None and e.team_id != wanted.team_id:
            continue
        if wanted.types and e.type not in wanted.types:
            continue
        if wanted.recorder is not None and e.recorded_by != wanted.recorder:
            continue
        if wanted.since is not None and e.recorded_at < wanted.since:
            continue
        if wanted.until is not None and e.recorded_at >= wanted.until:
            continue
        if wanted.occurred_since is not None and (
            e.occurred_at is None or e.occurred_at < wanted.occurred_since
        ):
            continue
        if wanted.occurred_until is not None and (
            e.occurred_at is None or e.occurred_at >= wanted.occurred_until
        ):
            continue
        picked.append(e.notification_id)
    return picked


@st.composite
def filters(
    draw: st.DrawFn, agents: list[UUID], teams: list[UUID], moments: list[datetime]
) -> EventFilter:
    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        """Now and then: with every filter set at once, nothing would ever match."""
        return draw(strategy) if draw(st.integers(0, 3)) == 0 else None

    return EventFilter(
        agent_id=maybe(st.sampled_from(agents)),
        team_id=maybe(st.sampled_from(teams)),
        types=maybe(
            st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=4, unique=True).map(tuple)
        )
        or (),
        recorder=maybe(st.sampled_from([*RECORDERS, "admin", "token:qa", "nobody"])),
        since=maybe(st.sampled_from(moments)),
        until=maybe(st.sampled_from(moments)),
        occurred_since=maybe(st.sampled_from(moments)),
        occurred_until=maybe(st.sampled_from(moments)),
    )


def test_concatenating_every_page_gives_the_filtered_log_for_any_filter_and_page_size(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = _centre(app)
        Projector(app, engine, timezone=UTC, batch_size=5).catch_up()
        everything = list(stream_events(engine, EventFilter(), chunk=3))
        moments = sorted(
            {e.recorded_at for e in everything}
            | {e.occurred_at for e in everything if e.occurred_at}
        )
        agents = [world.agent_id(i) for i in range(3)]

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(wanted=filters(agents, world.team_ids, moments), limit=st.integers(1, 7))
        def pages_add_up(wanted: EventFilter, limit: int) -> None:
            expected = _reference(everything, wanted)
            paged: list[int] = []
            after = None
            while True:
                page = events_page(engine, wanted, after=after, limit=limit)
                assert len(page.events) <= limit
                paged += [e.notification_id for e in page.events]
                if page.next_after is None:
                    break
                after = page.next_after
            assert paged == expected
            assert [
                e.notification_id for e in stream_events(engine, wanted, chunk=limit)
            ] == expected

        pages_add_up()


def test_the_filtered_json_lines_export_is_the_whole_export_filtered(database: Database) -> None:
    with opened(database) as (app, engine):
        world = _centre(app)
        Projector(app, engine, timezone=UTC).catch_up()
        whole = list(history_lines(app))
        assert "".join(whole) == "".join(export_lines(app, engine, EventFilter(), "jsonl"))
        everything = EventFilter(since=datetime(2000, 1, 1, tzinfo=UTC))
        assert "".join(export_lines(app, engine, everything, "jsonl")) == "".join(whole)
        wanted = EventFilter(agent_id=world.agent_id(0))
        ids = set(_reference(list(stream_events(engine, EventFilter())), wanted))
        part = "".join(export_lines(app, engine, wanted, "jsonl")).splitlines(keepends=True)
        assert part == [line for line in whole if json.loads(line)["id"] in ids]
        assert part


def test_the_csv_export_round_trips_to_the_json_lines_export(database: Database) -> None:
    with opened(database) as (app, engine):
        _centre(app)
        Projector(app, engine, timezone=UTC).catch_up()
        text = "".join(export_lines(app, engine, EventFilter(), "csv"))
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert [
            {
                "id": int(r["id"]),
                "type": r["type"],
                "originator_id": r["originator_id"],
                "originator_version": int(r["originator_version"]),
                "timestamp": r["timestamp"],
                "topic": r["topic"],
                "data": json.loads(r["data"]),
            }
            for r in rows
        ] == _store(app)
        retraction = next(r for r in rows if r["type"] == "RecordingRetracted")
        recording = next(r for r in rows if r["id"] == retraction["retracts"])
        assert recording["retracted_by"] == retraction["id"]
