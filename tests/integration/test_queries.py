"""Queries over the read models: leaderboards (ranks, ties, paging, windows, scopes),
profiles, activity, the directory and XP explanations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from sqlalchemy import Engine

from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from projections.projector import Projector
from projections.queries import (
    QueryError,
    agent_activity,
    agent_id_by_handle,
    agent_profile,
    explain_xp,
    leaderboard,
    list_agents,
    list_teams,
    team_activity,
)
from tests.conftest import Database
from tests.reference_model import Depart, Enrol, Transfer, World, opened

NOW = datetime(2024, 1, 17, 12, 0, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()
ANN, BOB, CAT, ANN_TOO, EVE = range(5)


class Centre:
    """Five agents (two called Ann) in Blue and Green, with a few recognitions."""

    def __init__(self, world: World, engine: Engine) -> None:
        self.world = world
        self.engine = engine
        self.projector = Projector(world.app, engine, timezone=UTC)
        for agent in range(5):
            world.run(Enrol(agent=agent, team=agent % 2, quarters_before=0))
        world.now = NOW
        self.recognise(ANN, RecognitionKind.TRAINING_COMPLETED, date(2024, 1, 16), "communication")
        self.recognise(BOB, RecognitionKind.TRAINING_COMPLETED, date(2024, 1, 15), "teamwork")
        self.recognise(
            CAT,
            RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE,
            date(2024, 1, 17),
            "communication",
            "teamwork",
        )
        self.recognise(ANN_TOO, RecognitionKind.TRAINING_COMPLETED, date(2024, 1, 17), "leadership")
        self.recognise(EVE, RecognitionKind.TRAINING_COMPLETED, date(2024, 1, 3), "communication")
        self.catch_up()

    def id(self, agent: int) -> UUID:
        return self.world.agent_id(agent)

    def recognise(self, agent: int, kind: RecognitionKind, day: date, *competencies: str) -> UUID:
        outcome = self.world.app.record(
            RecordRecognition(
                kind=kind,
                agent_id=self.id(agent),
                competencies=competencies,
                occurred_at=datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC),
                recorded_by="sup.one",
                course="Listening",
                score=95,
                call_ref="C-42",
            ),
            now=NOW,
        )
        return outcome.recording_id

    def catch_up(self) -> None:
        self.projector.catch_up()

    def board(self, **kwargs: object) -> list[tuple[int, UUID, int]]:
        page = leaderboard(self.engine, today=TODAY, limit=100, **kwargs)  # type: ignore[arg-type]
        return [(row.rank, row.agent_id, row.xp) for row in page.rows]


@pytest.fixture
def centre(database: Database) -> Iterator[Centre]:
    with opened(database) as (app, engine):
        yield Centre(World(app), engine)


def _ann_ids(centre: Centre) -> list[UUID]:
    return sorted([centre.id(ANN), centre.id(ANN_TOO)])


def test_agents_with_equal_xp_share_a_rank_and_are_listed_by_name(centre: Centre) -> None:
    first_ann, second_ann = _ann_ids(centre)
    assert centre.board(window="week") == [
        (1, first_ann, 40),
        (1, second_ann, 40),
        (1, centre.id(BOB), 40),
        (4, centre.id(CAT), 30),
        (5, centre.id(EVE), 0),
    ]


def test_each_window_counts_only_its_own_period(centre: Centre) -> None:
    month = centre.board(window="month")
    assert [(rank, xp) for rank, _, xp in month] == [(1, 40), (1, 40), (1, 40), (1, 40), (5, 30)]
    assert month[-1][1] == centre.id(CAT)
    page = leaderboard(centre.engine, window="week", today=TODAY)
    assert page.window_start == date(2024, 1, 15)
    assert leaderboard(centre.engine, window="month", today=TODAY).window_start == date(2024, 1, 1)
    next_week = leaderboard(centre.engine, window="week", today=date(2024, 1, 22))
    assert {row.xp for row in next_week.rows} == {0}


def test_pages_join_up_into_the_whole_board(centre: Centre) -> None:
    whole = leaderboard(centre.engine, window="week", today=TODAY, limit=100).rows
    pages = [
        leaderboard(centre.engine, window="week", today=TODAY, limit=2, offset=offset)
        for offset in (0, 2, 4)
    ]
    assert [row for page in pages for row in page.rows] == whole
    assert {page.total for page in pages} == {5}
    assert leaderboard(centre.engine, window="week", today=TODAY, offset=10).rows == []


def test_a_page_around_an_agent_is_centred_on_that_agent(centre: Centre) -> None:
    page = leaderboard(
        centre.engine, window="week", today=TODAY, limit=3, around_agent=centre.id(CAT)
    )
    assert [row.agent_id for row in page.rows][1] == centre.id(CAT)
    assert page.offset == 2
    last = leaderboard(
        centre.engine, window="week", today=TODAY, limit=3, around_agent=centre.id(EVE)
    )
    assert [row.agent_id for row in last.rows] == [centre.id(BOB), centre.id(CAT), centre.id(EVE)]
    first = leaderboard(
        centre.engine, window="week", today=TODAY, limit=3, around_agent=_ann_ids(centre)[0]
    )
    assert first.offset == 0


def test_a_competency_board_ranks_the_xp_of_that_competency(centre: Centre) -> None:
    board = centre.board(scope="competency", competency="communication", window="all")
    assert board[:3] == [(1, centre.id(ANN), 40), (1, centre.id(EVE), 40), (3, centre.id(CAT), 30)]
    assert {xp for _, _, xp in board[3:]} == {0}


def test_a_team_board_follows_a_transfer(centre: Centre) -> None:
    blue, green = centre.world.team_ids
    centre.world.run(Transfer(agent=CAT, team=1))
    centre.catch_up()
    assert [a for _, a, _ in centre.board(scope="team", team_id=blue)] == [
        centre.id(ANN),
        centre.id(EVE),
    ]
    green_board = centre.board(scope="team", team_id=green, window="week")
    assert [(rank, a) for rank, a, _ in green_board] == [
        (1, centre.id(ANN_TOO)),
        (1, centre.id(BOB)),
        (3, centre.id(CAT)),
    ]
    members = {t.name: t.members for t in list_teams(centre.engine)}
    assert members == {"Blue": 2, "Green": 3}
    assert [a.agent_id for a in list_agents(centre.engine, team_id=green)] == [
        centre.id(ANN_TOO),
        centre.id(BOB),
        centre.id(CAT),
    ]


def test_departed_agents_leave_every_board(centre: Centre) -> None:
    centre.world.run(Depart(agent=ANN))
    centre.catch_up()
    for kwargs in (
        {"window": "all"},
        {"scope": "team", "team_id": centre.world.team_ids[0]},
        {"scope": "competency", "competency": "communication"},
    ):
        assert centre.id(ANN) not in [a for _, a, _ in centre.board(**kwargs)]
    assert leaderboard(centre.engine, today=TODAY).total == 4
    assert centre.id(ANN) not in [a.agent_id for a in list_agents(centre.engine)]
    departed = list_agents(centre.engine, include_departed=True)
    assert centre.id(ANN) in [a.agent_id for a in departed]
    profile = agent_profile(centre.engine, centre.id(ANN), today=TODAY, timezone=UTC)
    assert profile is not None
    assert profile.departed_at is not None


def test_an_agents_profile_shows_level_xp_streak_and_badges(centre: Centre) -> None:
    centre.recognise(ANN, RecognitionKind.TRAINING_COMPLETED, date(2024, 1, 17), "communication")
    centre.catch_up()
    profile = agent_profile(centre.engine, centre.id(ANN), today=TODAY, timezone=UTC)
    assert profile is not None
    assert (profile.name, profile.handle, profile.team_name) == ("Ann", "ann", "Blue")
    assert (profile.xp_total, profile.level, profile.xp_into_level) == (80, 1, 80)
    assert profile.xp_for_next_level == 100
    assert profile.xp_by_competency["communication"] == 80
    assert profile.xp_by_competency["teamwork"] == 0
    assert (profile.current_streak, profile.best_streak) == (2, 2)
    excel = next(b for b in profile.badges if b.key == "choose_to_excel")
    assert (excel.tier, excel.progress, excel.next_threshold) == ("bronze", 2, 5)
    assert excel.earned_at == datetime(2024, 1, 17, 10, 0, tzinfo=UTC)
    assert len(excel.evidence) == 2
    later = agent_profile(centre.engine, centre.id(ANN), today=date(2024, 1, 22), timezone=UTC)
    assert later is not None
    assert later.current_streak == 0
    assert agent_profile(centre.engine, UUID(int=7), today=TODAY, timezone=UTC) is None


def test_explanations_and_activity_list_what_happened(centre: Centre) -> None:
    lines = explain_xp(centre.engine, centre.id(CAT))
    assert [(line.kind, line.points, line.rulebook_version) for line in lines] == [
        ("ToughCallHandledWithGrace", 30, 1)
    ]
    assert "30 XP" in lines[0].rule
    feed = agent_activity(centre.engine, centre.id(CAT))
    assert [item.kind for item in feed] == ["ToughCallHandledWithGrace", "AgentEnrolled"]
    assert "Cat" in feed[0].summary
    blue = team_activity(centre.engine, centre.world.team_ids[0], limit=50)
    assert {item.agent_id for item in blue} == {centre.id(ANN), centre.id(CAT), centre.id(EVE)}
    assert agent_id_by_handle(centre.engine, "Cat") == centre.id(CAT)
    assert agent_id_by_handle(centre.engine, "nobody") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "galaxy"}, "unknown scope"),
        ({"window": "decade"}, "unknown window"),
        ({"scope": "team"}, "needs a team"),
        ({"scope": "competency"}, "needs a competency"),
        ({"scope": "competency", "competency": "juggling"}, "unknown competency"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_a_leaderboard_question_that_makes_no_sense_gets_a_clear_error(
    centre: Centre, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        leaderboard(centre.engine, today=TODAY, **kwargs)  # type: ignore[arg-type]
