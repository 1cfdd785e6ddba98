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
