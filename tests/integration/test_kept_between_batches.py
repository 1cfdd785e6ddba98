"""What a projector keeps between its batches (each agent's live facts, the stored period XP
rows) never makes its read models differ from a rebuild's: not when another projector
applied the batches in between, not after a batch that failed once its rescore had run, not
after a rebuild, not across a rulebook publication."""

from __future__ import annotations

from datetime import UTC, date, tzinfo
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, insert, select

from domain.facts import RecognitionKind
from projections import projector as projector_module
from projections.asof_index import refresh_points
from projections.projector import Projector, rescore_marker
from projections.rebuild import rebuild
from projections.scoped import _LIGHT, LiveFacts, read_live_facts
from projections.scoring import stored_profiles
from projections.tables import agents, tracking
from tests.conftest import Database
from tests.reference_model import (
    Command,
    Enrol,
    Record,
    Transfer,
    Wait,
    World,
    dump_read_models,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(15)

STEPS = ("nothing", "first", "first", "first", "second", "fails", "rebuild", "warm")
"""After a command: no projection, the first projector's catch-up (most often), the second
projector's, a batch of the first that fails after its rescore, a rebuild, or the first
projector warming what it keeps (as a projector process does at start)."""


class Failed(Exception):
    pass


@PROPERTY
@given(
    history=histories(),
    timezone=timezones(),
    steps=st.lists(st.sampled_from(STEPS), min_size=40, max_size=40),
    batch_size=st.integers(1, 6),
    max_periods=st.sampled_from([1, 1000]),
    max_rows=st.sampled_from([2, 200_000]),
)
def test_what_a_projector_keeps_between_batches_never_differs_from_a_rebuild(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    history: list[Command],
    timezone: tzinfo,
    steps: list[str],
    batch_size: int,
    max_periods: int,
    max_rows: int,
) -> None:
    failing: list[bool] = []
    refresh = refresh_points

    def refresh_or_fail(*args: Any, **kwargs: Any) -> None:
        refresh(*args, **kwargs)  # the rescore has run: what it kept must be forgotten
        if failing:
            raise Failed("the batch fails after its rescore")

    monkeypatch.setattr(projector_module, "refresh_points", refresh_or_fail)
    with fresh_database(database.kind) as db, opened(db, timezone) as (app, engine):
        world = World(app)
        first = Projector(app, engine, timezone=timezone, batch_size=batch_size)
        first._kept.max_periods = max_periods
        first._kept.max_rows = max_rows
        second = Projector(app, engine, timezone=timezone, batch_size=batch_size + 1)
        for index, command in enumerate(history):
            world.run(command)
            step = steps[index % len(steps)]
            if step == "first":
                first.catch_up()
            elif step == "second":
                second.run_once()
            elif step == "fails":
                failing.append(True)
                try:
                    first.run_once()
                except Failed:
                    pass
                finally:
                    failing.clear()
            elif step == "rebuild":
                rebuild(app, engine, timezone=timezone, batch_size=batch_size + 2)
            elif step == "warm":
                first.warm()
        first.catch_up()
        assert first.position() == app.recorder.max_notification_id()
        _kept_rows_are_the_stored_rows(first)

        incremental = dump_read_models(engine)
        rebuild(app, engine, timezone=timezone)
        assert dump_read_models(engine) == incremental


def _kept_rows_are_the_stored_rows(projector: Projector) -> None:
    """The badge and profile rows and the directory entries a projector keeps are the rows
    stored (when what it keeps is valid: kept at the position the read models are at)."""
    kept = projector._kept
    if kept.position != projector.position():
        return
    with projector.engine.connect() as connection:
        for agent_id in kept.agents():
            badges = kept.badges_of(agent_id)
            if badges is not None:
                stored = _LIGHT.rows(connection, [(agent_id,)])
                assert badges == {row[1]: row for row in stored}
            profile = kept.profile_of(agent_id)
            if profile is not None:
                assert profile == stored_profiles(connection, [agent_id])[agent_id]
        entries = kept.directory_kept
        columns = (agents.c.handle, agents.c.name, agents.c.team_id, agents.c.departed_at)
        stored_entries = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                select(agents.c.agent_id, *columns).where(agents.c.agent_id.in_(list(entries)))
            )
        }
        for agent_id, info in entries.items():
            kept_entry = None if info is None else (info.handle, info.name, info.team_id)
            stored = stored_entries.get(agent_id)
            assert kept_entry == (None if stored is None else stored[:3])
            if info is not None and stored is not None:
                assert info.departed_at == stored[3]


def test_a_batch_that_failed_after_its_rescore_leaves_nothing_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is applied again from the same position: what its failed attempt kept
    (the period XP it wrote, the facts it rescored) would count it twice."""
    failing = [True]

    def refresh_or_fail(*args: Any, **kwargs: Any) -> None:
        refresh_points(*args, **kwargs)
        if failing:
            raise Failed("the batch fails after its rescore")

    with fresh_database(database.kind) as db, opened(db) as (app, engine):
        world = World(app)
        world.run(Enrol(agent=0, team=0, quarters_before=4 * 24 * 10))
        teamwork = Record(RecognitionKind.TRAINING_COMPLETED, 0, ("teamwork",), fraction=90)
        world.run(teamwork)
        projector = Projector(app, engine, timezone=UTC)
        projector.catch_up()
        world.run(Wait(quarters=1))
        world.run(teamwork)
        with monkeypatch.context() as patched:
            patched.setattr(projector_module, "refresh_points", refresh_or_fail)
            with pytest.raises(Failed):
                projector.run_once()
        failing.clear()
        projector.catch_up()

        incremental = dump_read_models(engine)
        rebuild(app, engine, timezone=UTC)
        assert dump_read_models(engine) == incremental


def test_warming_keeps_what_a_cold_batch_reads_and_nothing_during_a_rebuild(
    database: Database,
) -> None:
    """Warmed, a projector keeps each agent's live facts as the batches read them; while a
    rebuild is unfinished it keeps nothing (the points are not scored yet)."""
    with fresh_database(database.kind) as db, opened(db) as (app, engine):
        world = World(app)
        for agent in (0, 1):
            world.run(Enrol(agent=agent, team=0, quarters_before=4 * 24 * 10))
            world.run(Record(RecognitionKind.TRAINING_COMPLETED, agent, ("teamwork",), fraction=50))
            world.run(Record(RecognitionKind.INITIATIVE_TAKEN, agent, ("leadership",), fraction=80))
        projector = Projector(app, engine, timezone=UTC)
        projector.catch_up()
        assert projector.warm()
        kept = projector._kept
        assert kept.position == projector.position()
        agent_ids = [world.agent_id(0), world.agent_id(1)]
        warmed = {a: sorted(map(repr, kept.get(a) or ())) for a in agent_ids}
        _share_the_agents_id(kept.get(agent_ids[0]) or [])
        kept.clear()
        with engine.connect() as connection:
            cold = {
                a: sorted(map(repr, rows))
                for a, rows in read_live_facts(connection, agent_ids).items()
            }
        assert warmed == cold
        assert all(len(rows) == 2 for rows in cold.values())
        with engine.connect() as connection:
            _share_the_agents_id(read_live_facts(connection, agent_ids[:1])[agent_ids[0]])

        with engine.begin() as connection:
            connection.execute(
                insert(tracking).values(projection=rescore_marker("callcraft"), position=0)
            )
        assert not projector.warm()
        assert projector._kept.position is None


def _share_the_agents_id(facts: list[Any]) -> None:
    """The facts of one agent, as kept, hold one object for its id (not one each)."""
    assert len(facts) == 2
    assert len({id(kept.fact.agent_id) for kept in facts}) == 1


def test_a_periods_rows_come_back_as_they_were_put() -> None:
    kept = LiveFacts()
    agent, start = UUID(int=7), date(2026, 1, 5)
    rows = {
        ("week", start, competency, agent): {
            "window": "week",
            "period_start": start,
            "competency": competency,
            "agent_id": agent,
            "xp": xp,
        }
        for competency, xp in (("total", 70), ("teamwork", 40), ("leadership", 30))
    }
    kept.put_periods(("week", start, agent), rows)
    assert kept.periods_of(("week", start, agent)) == rows
    assert kept.periods_of(("month", start, agent)) is None


def test_beyond_its_bound_the_period_used_longest_ago_is_forgotten_first() -> None:
    kept = LiveFacts(max_periods=2)
    first, second, third = (("week", date(2026, 1, d), UUID(int=d)) for d in (5, 12, 19))
    kept.put_periods(first, {})
    kept.put_periods(second, {})
    assert kept.periods_of(first) == {}  # used again: now the most recent
    kept.put_periods(third, {})
    assert kept.periods_of(second) is None
    assert kept.periods_of(first) == {}
    assert kept.periods_of(third) == {}


def test_a_rebuild_reads_an_agents_directory_entry_once_not_once_a_batch(
    database: Database,
) -> None:
    """While a rebuild writes facts only, the directory entries its batches looked up (and
    left, after a transfer) are kept for the next batch, as a live projector keeps them."""
    with fresh_database(database.kind) as db, opened(db) as (app, engine):
        world = World(app)
        commands: list[Command] = [
            Enrol(agent=0, team=0, quarters_before=4 * 24 * 10),
            Enrol(agent=1, team=0, quarters_before=4 * 24 * 10),
            *(Record(RecognitionKind.INITIATIVE_TAKEN, 1, ("leadership",), f) for f in (10, 50)),
            Transfer(agent=1, team=1),
            Record(RecognitionKind.INITIATIVE_TAKEN, 1, ("teamwork",), fraction=95),
        ]
        assert all(world.run(command) for command in commands)
        looked_up: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "FROM agents" in statement and "agents.agent_id IN" in statement:
                looked_up.append(statement)

        Projector(app, engine, timezone=UTC).catch_up()
        incremental = dump_read_models(engine)
        event.listen(engine, "before_cursor_execute", count)
        try:
            rebuild(app, engine, timezone=UTC, batch_size=1)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert dump_read_models(engine) == incremental
        # The enrolments named both agents; only the scoring at the end reads them again.
        assert len(looked_up) <= 1, looked_up
