"""Explanations agree with the projections to the point, for generated histories, on both
databases: XP lines sum to the profile's total and to each competency's XP, a badge's steps
add up to its progress and reach its tier, and the streak explanation gives the profile's
streaks."""

from __future__ import annotations

from datetime import date, tzinfo
from functools import partial
from uuid import UUID

from hypothesis import given
from sqlalchemy import Engine, select

from domain.competencies import Competency
from domain.explanations import Explanation
from domain.rulebook import TIERS
from projections.explanations import explain_figure
from projections.projector import Projector
from projections.queries import agent_profile, latest_rulebook_history
from projections.tables import agents
from tests.conftest import Database
from tests.reference_model import Command, World, fresh_database, histories, opened
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(10)


def _explained(
    engine: Engine, agent_id: UUID, today: date, timezone: tzinfo, figure: str
) -> Explanation:
    found = explain_figure(engine, agent_id, figure, today=today, timezone=timezone)
    assert found is not None
    return found


@PROPERTY
@given(history=histories(), timezone=timezones())
def test_every_explanation_adds_up_to_the_figure_the_read_models_show(
    database: Database, history: list[Command], timezone: tzinfo
) -> None:
    with fresh_database(database.kind) as db, opened(db, timezone) as (app, engine):
        world = World(app)
        for command in history:
            world.run(command)
        Projector(app, engine, timezone=timezone).catch_up()
        today = world.now.astimezone(timezone).date()
        latest = latest_rulebook_history(engine).latest
        with engine.connect() as connection:
            agent_ids = list(connection.execute(select(agents.c.agent_id)).scalars())
        for agent_id in agent_ids:
            profile = agent_profile(engine, agent_id, today=today, timezone=timezone)
            assert profile is not None
            explained = partial(_explained, engine, agent_id, today, timezone)
            xp = explained("xp")
            assert xp.value == profile.xp_total == sum(line.points for line in xp.lines)
            assert [line.total for line in xp.lines][-1:] == ([xp.value] if xp.lines else [])
            for competency in Competency:
                mine = explained(f"competency:{competency.value}")
                expected = profile.xp_by_competency[competency.value]
                assert mine.value == expected == sum(line.points for line in mine.lines)
                assert all(competency in line.competencies for line in mine.lines)
            for badge in profile.badges:
                explanation = explained(f"badge:{badge.key}")
                assert explanation.progress == badge.progress
                assert sum(line.points for line in explanation.lines) == badge.progress
                assert explanation.tier == badge.tier
                reached = [n for line in explanation.lines for n in line.note.split("; ") if n]
                expected_tiers = TIERS[: TIERS.index(badge.tier) + 1] if badge.tier else ()
                assert [n.split()[0].lower() for n in reached] == list(expected_tiers)
                assert explanation.next_threshold == badge.next_threshold
                definition = latest.badge(badge.key)
                if definition.metric.type in ("count", "kudos", "comeback"):
                    assert len(explanation.lines) == badge.progress
            streak = explained("streak")
            assert streak.current_streak == profile.current_streak
            assert streak.best_streak == profile.best_streak
            assert max((run.days for run in streak.runs), default=0) == profile.best_streak
            counted = sum(line.points for line in streak.lines)
            assert counted == sum(run.days for run in streak.runs)
