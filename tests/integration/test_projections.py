"""The read models equal the pure reference model, incrementally and after a rebuild."""

from __future__ import annotations

from datetime import UTC, timedelta, tzinfo

from hypothesis import event, given
from hypothesis import strategies as st

from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from projections.projector import Projector
from projections.queries import agent_activity, agent_profile, explain_xp, leaderboard
from projections.rebuild import rebuild
from tests.conftest import Database
from tests.reference_model import (
    Command,
    Enrol,
    Record,
    ReferenceModel,
    World,
    assert_read_models_match,
    dump_read_models,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(15)


@PROPERTY
@given(
    history=histories(),
    timezone=timezones(),
    catch_ups=st.lists(st.booleans(), min_size=40, max_size=40),
    batch_size=st.integers(1, 8),
)
def test_incremental_read_models_equal_the_reference_model_and_a_rebuild(
    database: Database,
    history: list[Command],
    timezone: tzinfo,
    catch_ups: list[bool],
    batch_size: int,
) -> None:
    with fresh_database(database.kind) as db, opened(db, timezone) as (app, engine):
        world = World(app)
        projector = Projector(app, engine, timezone=timezone, batch_size=batch_size)
        for index, command in enumerate(history):
            world.run(command)
            if catch_ups[index % len(catch_ups)]:
                projector.catch_up()
        projector.catch_up()
        assert projector.position() == app.recorder.max_notification_id()

        model = ReferenceModel.from_log(app, timezone)
        _describe(world, model)
        today = world.now.astimezone(timezone).date()
        assert_read_models_match(engine, model, today)

        incremental = dump_read_models(engine)
        rebuild(app, engine, timezone=timezone, batch_size=batch_size + 3)
        assert dump_read_models(engine) == incremental


def test_a_retraction_takes_the_recognition_out_of_every_read_model(database: Database) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        for agent in (0, 1):
            world.run(Enrol(agent=agent, team=0, quarters_before=4 * 24 * 10))
        world.run(
            Record(
                RecognitionKind.TRAINING_COMPLETED,
                agent=0,
                competencies=("leadership",),
                fraction=50,
            )
        )
        projector = Projector(app, engine, timezone=UTC)
        projector.catch_up()
        before = _derived(dump_read_models(engine))

        world.run(
            Record(
                RecognitionKind.KUDOS_GIVEN,
                agent=0,
                competencies=("teamwork", "communication"),
                fraction=90,
                giver=1,
            )
        )
        projector.catch_up()
        ann = world.agent_id(0)
        today = world.now.date()
        assert _derived(dump_read_models(engine)) != before
        kudos_id = world.recordings[-1][0]

        app.retract(recording_id=kudos_id, retracted_by="sup.one", by_admin=False, reason="wrong")
        projector.catch_up()

        assert _derived(dump_read_models(engine)) == before
        assert kudos_id not in {line.recording_id for line in explain_xp(engine, ann)}
        top = leaderboard(engine, scope="competency", competency="teamwork", today=today)
        assert [row.xp for row in top.rows] == [0, 0]
        feed = agent_activity(engine, ann)
        assert feed[0].kind == "RecordingRetracted"
        assert [item.retracted for item in feed if item.recording_id == kudos_id] == [False, True]
        profile = agent_profile(engine, ann, today=today, timezone=UTC)
        assert profile is not None
        assert profile.xp_total == 40


def test_kudos_count_towards_the_givers_gratitude_badge(database: Database) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        for agent in (0, 1):
            world.run(Enrol(agent=agent, team=0, quarters_before=4 * 24 * 10))
        giver, receiver = world.agent_id(1), world.agent_id(0)
        for day in range(5):
            app.record(
                RecordRecognition(
                    kind=RecognitionKind.KUDOS_GIVEN,
                    agent_id=receiver,
                    competencies=("teamwork",),
                    occurred_at=world.now - timedelta(days=day),
                    recorded_by="bob",
                    from_agent=giver,
                ),
                now=world.now,
            )
        Projector(app, engine, timezone=UTC).catch_up()
        profile = agent_profile(engine, giver, today=world.now.date(), timezone=UTC)
        assert profile is not None
        gratitude = next(b for b in profile.badges if b.key == "gratitude")
        assert (gratitude.tier, gratitude.progress) == ("bronze", 5)
        assert len(gratitude.evidence) == 5
        assert profile.xp_total == 0


def _derived(dump: dict[str, list[tuple[object, ...]]]) -> dict[str, list[tuple[object, ...]]]:
    return {name: dump[name] for name in ("agent_profiles", "agent_badges", "period_xp")}


def _describe(world: World, model: ReferenceModel) -> None:
    """Label the example, so ``--hypothesis-show-statistics`` shows what was covered."""
    event(f"recordings: {min(len(world.recordings) // 5 * 5, 20)}+")
    event(f"refused: {min(world.refused, 5)}+")
    if model.retracted:
        event("a recording was retracted")
    if len(model.publications) > 1:
        event("a second rulebook was published")
    if any(line.capped for score in model.scores().values() for line in score.lines):
        event("a daily cap applied")
    if any(a.departed for a in model.agents.values()):
        event("an agent departed")
