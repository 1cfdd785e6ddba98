"""What a recording decides on, read in one query, on both databases: the agents (cached
copies brought up to date with what other processes wrote), the recordings of idempotency
keys, the givers' allowances and newly published rulebooks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from api.recorders import StreamsPostgresRecorder, StreamsSQLiteRecorder
from api.store import event_store_env
from domain.application import Callcraft
from domain.exceptions import AgentDeparted, IdempotencyKeyReused, KudosCapReached, UnknownAgent
from domain.identity import agent_id_for
from domain.rulebook import load_default_rulebook, rulebook_to_data
from tests.conftest import POSTGRES_URL, Database, _postgres_schema, require_postgres
from tests.integration.test_application_recording import (
    CAP,
    NOW,
    Centre,
    feedback,
    kudos,
    make_centre,
    refused,
)


@pytest.fixture
def centre(database: Database) -> Iterator[Centre]:
    yield from make_centre(database)


@pytest.fixture
def other(database: Database) -> Iterator[Callcraft]:
    """A second application on the same store, as another web process would be."""
    app = Callcraft(env=database.event_env())
    try:
        yield app
    finally:
        app.close()


def test_the_store_uses_the_recorders_that_read_many_streams_at_once(centre: Centre) -> None:
    assert isinstance(centre.app.recorder, StreamsSQLiteRecorder | StreamsPostgresRecorder)


def test_many_streams_are_read_after_their_own_versions_in_one_answer(centre: Centre) -> None:
    app = centre.app
    app.transfer_agent(
        agent_id=centre.ann,
        team_id=app.form_team(name="Green", formed_by="admin"),
        transferred_by="admin",
    )
    found = app.recorder.select_streams_after(  # type: ignore[attr-defined]
        {centre.ann: 1, centre.bob: 0, centre.cid: 1}
    )
    assert [(e.originator_id, e.originator_version) for e in found] == sorted(
        [(centre.ann, 2), (centre.bob, 1)]
    )
    assert app.recorder.select_streams_after({}) == []  # type: ignore[attr-defined]


def test_the_notification_ids_a_save_returns_are_the_ids_the_log_gives_its_events(
    centre: Centre,
) -> None:
    for count in (1, 5):
        prepared = centre.app.prepare_recordings(
            [
                feedback(centre, idempotency_key=f"ids-{count}-{n}", note=f"call {n}")
                for n in range(count)
            ],
            now=NOW,
            on_error=lambda _, error: (_ for _ in ()).throw(error),
        )
        recordings = centre.app.events.put(prepared.events)
        logged = centre.app.recorder.select_notifications(recordings[0].notification.id, count)
        assert [(n.id, n.originator_id) for n in logged] == [
            (r.notification.id, r.domain_event.originator_id) for r in recordings
        ]


def test_a_departure_written_by_another_process_is_seen_by_a_cached_agent(
    centre: Centre, other: Callcraft
) -> None:
    centre.app.record(feedback(centre), now=NOW)  # the agent is in this process's cache now
    other.depart_agent(agent_id=centre.ann, departed_at=NOW, recorded_by="admin", now=NOW)
    refused(centre, feedback(centre, occurred_at=NOW - timedelta(hours=1)), AgentDeparted)


def test_a_replay_after_the_agent_departed_with_another_body_is_refused(
    centre: Centre,
) -> None:
    command = feedback(centre, idempotency_key="form-77")
    centre.app.record(command, now=NOW)
    centre.app.depart_agent(agent_id=centre.ann, departed_at=NOW, recorded_by="admin", now=NOW)
    refused(centre, replace(command, note="Another note"), IdempotencyKeyReused)
    assert not centre.app.record(command, now=NOW).created


def test_kudos_given_through_another_process_count_towards_the_cap(
    centre: Centre, other: Callcraft
) -> None:
    centre.app.record(kudos(centre), now=NOW)  # this process has read the allowance once
    for _ in range(CAP - 1):
        other.record(kudos(centre, agent_id=centre.cid), now=NOW)
    refused(centre, kudos(centre), KudosCapReached)


def test_a_rulebook_published_by_another_process_applies_to_the_next_recording(
    centre: Centre, other: Callcraft
) -> None:
    centre.app.record(kudos(centre, occurred_at=NOW), now=NOW)  # rulebook 1 is cached here
    stricter = rulebook_to_data(load_default_rulebook())
    stricter["version"] = 2
    stricter["kudos"] = {"cap_per_giver_per_day": 1}
    other.publish_rulebook(
        stricter, effective_from=NOW - timedelta(minutes=1), published_by="admin", now=NOW
    )
    refused(centre, kudos(centre, occurred_at=NOW), KudosCapReached)


def test_a_batch_names_every_agent_it_reads_even_when_some_are_unknown(
    centre: Centre,
) -> None:
    commands = [feedback(centre), feedback(centre, agent_id=agent_id_for("nobody"))]
    with centre.nothing_recorded(), pytest.raises(UnknownAgent) as caught:
        centre.app.record_many(commands, now=NOW)
    assert caught.value.field == "items[1].agent"


def test_an_agent_enrolled_after_it_was_looked_up_and_missed_can_be_recorded(
    centre: Centre, other: Callcraft
) -> None:
    late = agent_id_for("dee")
    refused(centre, feedback(centre, agent_id=late), UnknownAgent)
    other.enrol_agent(
        handle="dee",
        name="Dee",
        team_id=centre.team,
        enrolled_at=NOW - timedelta(days=1),
        enrolled_by="admin",
        now=datetime.now(UTC),
    )
    assert centre.app.record(feedback(centre, agent_id=late), now=NOW).created


def test_an_append_on_condition_writes_only_when_no_stream_decided_on_has_changed(
    centre: Centre,
) -> None:
    app = centre.app
    recorder: Any = app.recorder
    prepared = app.prepare_recordings(
        [feedback(centre, idempotency_key="if-unchanged")],
        now=NOW,
        on_error=lambda _, error: (_ for _ in ()).throw(error),
    )
    stored = [app.mapper.to_stored_event(e) for e in prepared.events]
    before = recorder.max_notification_id()
    assert recorder.insert_events_unless_changed(stored, {centre.ann: 0, centre.bob: 1}) is None
    assert recorder.max_notification_id() == before
    ids = recorder.insert_events_unless_changed(stored, {centre.ann: 1, centre.bob: 1})
    assert ids == [recorder.max_notification_id()]
    assert ids[0] > before
    with pytest.raises(IntegrityError):  # the same (stream, version) again
        recorder.insert_events_unless_changed(stored, {})
    assert recorder.insert_events_unless_changed([], {centre.ann: 0}) == []
    # The refused transactions were ended: every pooled connection still writes.
    for n in range(8):
        assert app.record(feedback(centre, note=f"call {n}"), now=NOW).created


@pytest.mark.parametrize("count", [1, 2, 3, 9])
def test_an_append_on_condition_stores_its_events_in_order_or_none_of_them(
    centre: Centre, count: int
) -> None:
    """One statement for a few events (padded to one shape), a transaction for more: the
    same answer either way, the rows in the order given, their ids the log's."""
    app = centre.app
    recorder: Any = app.recorder
    prepared = app.prepare_recordings(
        [
            kudos(centre, note=f"thanks {n}", recorded_by=f"r{n}")
            if n < CAP
            else feedback(centre, note=f"call {n}")
            for n in range(count)
        ],
        now=NOW,
        on_error=lambda _, error: (_ for _ in ()).throw(error),
    )
    stored = [app.mapper.to_stored_event(e) for e in prepared.events]
    assert len(stored) == count + min(count, CAP)  # the recordings, then the allowance's
    decided_on = dict(prepared.decided_on)
    before = recorder.max_notification_id()
    agents = [stream for stream, version in decided_on.items() if version > 0]
    assert sorted(agents) == sorted([centre.ann, centre.bob])
    for stale in agents:
        changed = {**decided_on, stale: decided_on[stale] - 1}  # as if it had changed since
        assert recorder.insert_events_unless_changed(stored, changed) is None
    assert recorder.max_notification_id() == before
    ids = recorder.insert_events_unless_changed(stored, decided_on)
    logged = recorder.select_notifications(before + 1, 100)
    assert [n.id for n in logged] == ids
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in logged] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in stored
    ]
    with pytest.raises(IntegrityError):
        recorder.insert_events_unless_changed(stored[-1:], {})
    assert recorder.max_notification_id() == ids[-1]


def test_rows_in_the_drivers_terms_append_on_the_same_condition(centre: Centre) -> None:
    app = centre.app
    recorder: Any = app.recorder
    prepared = app.prepare_recordings(
        [feedback(centre, idempotency_key="rows-if-unchanged"), feedback(centre, note="two")],
        now=NOW,
        on_error=lambda _, error: (_ for _ in ()).throw(error),
    )
    stored = [app.mapper.to_stored_event(e) for e in prepared.events]
    rows = [(e.originator_id.hex, e.originator_version, e.topic, e.state) for e in stored]
    before = recorder.max_notification_id()
    assert recorder.insert_rows_unless_changed(iter(rows), {centre.ann: 0, centre.bob: 1}) is False
    assert recorder.max_notification_id() == before
    assert recorder.insert_rows_unless_changed(iter(rows), {centre.ann: 1, centre.bob: 1}) is True
    assert recorder.max_notification_id() == before + 2
    # Stored as the library stores the same events: read back equal, byte for byte.
    for event in stored:
        (again,) = recorder.select_events(event.originator_id)
        assert (again.originator_id, again.originator_version, again.topic) == (
            event.originator_id,
            event.originator_version,
            event.topic,
        )
        assert bytes(again.state) == event.state
    with pytest.raises(IntegrityError):  # the same (stream, version) again
        recorder.insert_rows_unless_changed(iter(rows), {})
    assert recorder.max_notification_id() == before + 2
    assert recorder.insert_rows_unless_changed(iter([]), {centre.ann: 0}) is True
    # The refused transactions were ended: every pooled connection still writes.
    for n in range(8):
        assert app.record(feedback(centre, note=f"call {n}"), now=NOW).created


@pytest.mark.parametrize(
    "statement", ["_insert_unless_changed_statement", "_insert_rows_unless_changed_statement"]
)
@pytest.mark.postgres
def test_on_postgresql_the_appends_check_probes_the_index_even_in_a_generic_plan(
    statement: str,
) -> None:
    """A prepared statement's generic plan knows neither how many streams are asked about
    nor which: the check must still be an index probe per stream, never a scan of the
    whole log (which grows with the store). EXPLAIN only plans: nothing is inserted."""
    require_postgres()
    for schema in _postgres_schema():
        _check_plan(Callcraft(env=event_store_env(POSTGRES_URL, schema=schema)), statement)


def _check_plan(app: Callcraft, statement: str) -> None:
    try:
        recorder: Any = app.recorder
        table = recorder.events_table_name
        with recorder.datastore.get_connection() as connection:
            text = getattr(recorder, statement).as_string(connection)
            placeholders = iter(range(1, 7))
            text = re.sub(r"%b", lambda _: f"${next(placeholders)}", text)
            connection.execute(f"PREPARE check_plan AS {text}")
            connection.execute("SET plan_cache_mode = force_generic_plan")
            # A log shaped like a centre's: a few streams (agents) with many versions each,
            # which is when the planner would rather hash the streams than probe for each.
            connection.execute(
                f"INSERT INTO {recorder.datastore.schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT ('00000000-0000-0000-0000-' || lpad(s::text, 12, '0'))::uuid, v, 'x', '' "
                "FROM generate_series(1, 50) AS s, generate_series(1, 400) AS v"
            )
            connection.execute(f"ANALYZE {recorder.datastore.schema}.{table}")
            cursor = psycopg.ClientCursor(connection)
            cursor.execute(
                "EXPLAIN EXECUTE check_plan(%s, %s, %s, %s, %s, %s)",
                (None, None, None, None, None, None),
            )
            plan = "\n".join(str(next(iter(row.values()))) for row in cursor.fetchall())
            connection.rollback()
        assert f"Seq Scan on {table}" not in plan, plan
        assert "Index" in plan, plan
    finally:
        app.close()
