"""The ranked boards: every page, every ``around``, equals the straightforward ranking of the
reference model; a store made before ``board_entries`` existed gets its boards filled."""

from __future__ import annotations

from datetime import UTC, date, tzinfo
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from domain.competencies import ALL_COMPETENCIES
from domain.facts import RecognitionKind
from domain.periods import WINDOWS
from projections.projector import Projector
from projections.queries import leaderboard
from projections.tables import board_entries, metadata
from tests.conftest import Database
from tests.reference_model import (
    Command,
    Enrol,
    Record,
    ReferenceModel,
    ReferenceRow,
    World,
    dump_read_models,
    fresh_database,
    histories,
    opened,
)
from tests.strategies import on_a_database, timezones

PROPERTY = on_a_database(8)


def boards(model: ReferenceModel) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"scope": "overall"}]
    found += [{"scope": "team", "team_id": t} for t in model.teams]
    found += [{"scope": "competency", "competency": c.value} for c in ALL_COMPETENCIES]
    return found


def rows(page: Any) -> list[ReferenceRow]:
    return [ReferenceRow(r.rank, r.agent_id, r.xp) for r in page.rows]


def centred(expected: list[ReferenceRow], agent_id: UUID, limit: int) -> int | None:
    """The offset a page centred on ``agent_id`` starts at (None: not on the board)."""
    places = [i for i, row in enumerate(expected) if row.agent_id == agent_id]
    if not places:
        return None
    return max(0, min(places[0] - limit // 2, len(expected) - limit))


def assert_every_page_matches(engine: Engine, model: ReferenceModel, today: date) -> None:
    for board in boards(model):
        for window in WINDOWS:
            expected = model.leaderboard(window=window, today=today, **board)
            for limit in (1, 3):
                for offset in range(len(expected) + 2):
                    page = leaderboard(
                        engine, window=window, today=today, limit=limit, offset=offset, **board
                    )
                    assert rows(page) == expected[offset : offset + limit], (board, window)
                    assert (page.total, page.offset) == (len(expected), offset)
                for agent_id in model.agents:
                    page = leaderboard(
                        engine,
                        window=window,
                        today=today,
                        limit=limit,
                        offset=1,
                        around_agent=agent_id,
                        **board,
                    )
                    start = centred(expected, agent_id, limit)
                    start = 1 if start is None else start
                    assert page.offset == start, (board, window, agent_id)
                    assert rows(page) == expected[start : start + limit], (board, window)


@PROPERTY
@given(
    history=histories(),
    timezone=timezones(),
    catch_ups=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_every_page_and_every_around_me_equals_the_straightforward_ranking(
    database: Database, history: list[Command], timezone: tzinfo, catch_ups: list[bool]
) -> None:
    with fresh_database(database.kind) as db, opened(db, timezone) as (app, engine):
        world = World(app)
        projector = Projector(app, engine, timezone=timezone, batch_size=3)
        for index, command in enumerate(history):
            world.run(command)
            if catch_ups[index % len(catch_ups)]:
                projector.catch_up()
        projector.catch_up()
        model = ReferenceModel.from_log(app, timezone)
        for moment in (world.now, *(r.occurred_at for r in model.live()[:1])):
            assert_every_page_matches(engine, model, moment.astimezone(timezone).date())


def test_a_store_projected_before_the_boards_existed_gets_them_filled(
    database: Database,
) -> None:
    with opened(database) as (app, engine):
        world = World(app)
        for agent in range(3):
            world.run(Enrol(agent=agent, team=0, quarters_before=8))
        world.run(
            Record(
                agent=1,
                kind=RecognitionKind.TRAINING_COMPLETED,
                competencies=("teamwork",),
                fraction=50,
            )
        )
        Projector(app, engine, timezone=UTC).catch_up()
        filled = dump_read_models(engine)
        metadata.tables["board_entries"].drop(engine)

        Projector(app, engine, timezone=UTC).ensure_ready()

        assert dump_read_models(engine) == filled
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(board_entries)).scalar()
