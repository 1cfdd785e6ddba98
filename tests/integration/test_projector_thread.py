"""The projector thread of a running process is woken by a write, not only by its poll."""

from __future__ import annotations

from datetime import UTC, datetime

from api.runtime import ProjectorThread
from domain.agents import Agent
from projections.projector import Projector
from tests.conftest import Database
from tests.reference_model import opened

AN_HOUR = 3600.0


def test_a_wake_makes_the_thread_apply_new_events_before_its_next_poll(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        projector = Projector(app, engine, timezone=UTC)
        projector.ensure_ready()
        thread = ProjectorThread(projector, poll_seconds=AN_HOUR)
        thread.start()
        try:
            assert projector.wait_until(0, timeout=60)
            agent = Agent.enrol(
                handle="ann",
                name="Ann",
                team_id=app.form_team(name="Blue", formed_by="sup"),
                enrolled_at=datetime(2026, 1, 1, tzinfo=UTC),
                enrolled_by="sup",
            )
            app.save(agent)
            position = int(app.recorder.max_notification_id() or 0)
            # The thread sleeps for an hour unless woken: only the wake can show the event.
            assert projector.wait_until(position, timeout=60)
        finally:
            thread.stop()
        assert not thread.running


def test_the_thread_reports_each_batch_it_applies_to_its_progress_hook(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        projector = Projector(app, engine, timezone=UTC, batch_size=1)
        projector.ensure_ready()
        reached: list[int] = []
        thread = ProjectorThread(
            projector,
            poll_seconds=AN_HOUR,
            progress=lambda position, _last: reached.append(position),
        )
        thread.start()
        try:
            team = app.form_team(name="Blue", formed_by="sup")
            for handle in ("ann", "bob"):
                app.save(
                    Agent.enrol(
                        handle=handle,
                        name=handle.title(),
                        team_id=team,
                        enrolled_at=datetime(2026, 1, 1, tzinfo=UTC),
                        enrolled_by="sup",
                    )
                )
            last = int(app.recorder.max_notification_id() or 0)
            assert projector.wait_until(last, timeout=60)
        finally:
            thread.stop()
        # One event a batch: every position from the first to the last was reported.
        assert reached, "the hook was never called"
        assert set(range(reached[0], last + 1)) <= set(reached)
        assert last in reached


def test_after_its_first_catch_up_the_thread_keeps_every_agents_facts_in_memory(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        team = app.form_team(name="Blue", formed_by="sup")
        agent = Agent.enrol(
            handle="ann",
            name="Ann",
            team_id=team,
            enrolled_at=datetime(2026, 1, 1, tzinfo=UTC),
            enrolled_by="sup",
        )
        app.save(agent)
        Projector(app, engine, timezone=UTC).catch_up()  # a process before this one
        projector = Projector(app, engine, timezone=UTC)  # this process: nothing to apply
        thread = ProjectorThread(projector, poll_seconds=AN_HOUR)
        thread.start()
        try:
            assert thread.warmed.wait(60)
            kept = projector._kept
            assert kept.position == projector.position() > 0
            assert kept.get(agent.id) == []  # known to have no recognition yet: not read again
        finally:
            thread.stop()
