"""The reference the read models are tested against: a plain fold over the decoded events.

No SQL, no cleverness: the log is read in order into dictionaries, each agent is scored with
:func:`domain.scoring.score_agent`, and leaderboards are sorted lists.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from domain.agents import Agent
from domain.application import Callcraft
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.exceptions import DomainError
from domain.facts import AgentHistory, FeedbackKind, Recognition, RecognitionKind
from domain.identity import agent_id_for
from domain.organisation import Team
from domain.periods import TOTAL, WINDOWS, PeriodKey, period_totals, window_start
from domain.publications import RulebookPublication
from domain.recordings import Recording, RecordRecognition
from domain.rulebook import Publication, RulebookHistory, parse_rulebook
from domain.scoring import AgentScore, score_agent
from projections import tables
from projections.queries import leaderboard
from tests.conftest import POSTGRES_URL, Database, make_sqlite_database
from tests.strategies import competency_sets, rulebook_data


@dataclass
class ReferenceAgent:
    agent_id: UUID
    handle: str
    name: str
    team_id: UUID
    departed: bool = False


@dataclass(frozen=True)
class ReferenceRow:
    rank: int
    agent_id: UUID
    xp: int


@dataclass
class ReferenceModel:
    timezone: tzinfo
    agents: dict[UUID, ReferenceAgent] = field(default_factory=dict)
    teams: dict[UUID, str] = field(default_factory=dict)
    recognitions: dict[UUID, Recognition] = field(default_factory=dict)
    retracted: set[UUID] = field(default_factory=set)
    publications: list[Publication] = field(default_factory=list)

    # --- the fold ----------------------------------------------------------------------

    @classmethod
    def from_log(cls, app: Callcraft, timezone: tzinfo) -> ReferenceModel:
        model = cls(timezone)
        position = 0
        while True:
            batch = app.recorder.select_notifications(
                start=position, limit=500, inclusive_of_start=False
            )
            if not batch:
                return model
            for notification in batch:
                model.apply(notification.id, app.mapper.to_domain_event(notification))
            position = batch[-1].id

    def apply(self, notification_id: int, event: Any) -> None:
        if isinstance(event, RulebookPublication.RulebookPublished):
            self.publications.append(Publication(event.effective_from, parse_rulebook(event.rules)))
        elif isinstance(event, Team.TeamFormed):
            self.teams[event.originator_id] = event.name
        elif isinstance(event, Agent.AgentEnrolled):
            self.agents[event.originator_id] = ReferenceAgent(
                event.originator_id, event.handle, event.name, event.team_id
            )
        elif isinstance(event, Agent.AgentTransferred):
            self.agents[event.originator_id].team_id = event.team_id
        elif isinstance(event, Agent.AgentDeparted):
            self.agents[event.originator_id].departed = True
        elif isinstance(event, Recording.Recognised):
            feedback = isinstance(event, Recording.FeedbackGiven)
            self.recognitions[event.originator_id] = Recognition(
                recording_id=event.originator_id,
                agent_id=event.agent_id,
                kind=type(event).recognition_kind,
                competencies=tuple(Competency(c) for c in event.competencies),
                occurred_at=event.occurred_at,
                sequence=notification_id,
                rating=getattr(event, "rating", None),
                feedback_kind=FeedbackKind(event.kind) if feedback else None,
                score=getattr(event, "score", None),
                from_agent=getattr(event, "from_agent", None),
            )
        elif isinstance(event, Recording.RecordingRetracted):
            self.retracted.add(event.originator_id)

    # --- what follows from it --------------------------------------------------------------

    def rulebooks(self) -> RulebookHistory:
        if not self.publications:
            return RulebookHistory.default()
        return RulebookHistory(tuple(self.publications))

    def live(self) -> list[Recognition]:
        return [r for r in self.recognitions.values() if r.recording_id not in self.retracted]

    def history(self, agent_id: UUID) -> AgentHistory:
        live = self.live()
        return AgentHistory(
            agent_id=agent_id,
            received=tuple(r for r in live if r.agent_id == agent_id),
            kudos_given=tuple(
                r
                for r in live
                if r.kind is RecognitionKind.KUDOS_GIVEN and r.from_agent == agent_id
            ),
        )

    def scores(self) -> dict[UUID, AgentScore]:
        rulebooks = self.rulebooks()
        return {a: score_agent(self.history(a), rulebooks, self.timezone) for a in self.agents}

    def period_xp(self) -> dict[tuple[str, date, str, UUID], int]:
        table: dict[tuple[str, date, str, UUID], int] = {}
        for agent_id, score in self.scores().items():
            totals: dict[PeriodKey, int] = period_totals(score, self.timezone)
            for (window, start, competency), xp in totals.items():
                table[(window, start, competency, agent_id)] = xp
        return table

    def leaderboard(
        self,
        *,
        scope: str,
        window: str,
        today: date,
        team_id: UUID | None = None,
        competency: str | None = None,
    ) -> list[ReferenceRow]:
        """Every present agent in scope, by XP (ties share a rank), then name, then id."""
        start = window_start(window, today)
        column = competency if scope == "competency" else TOTAL
        assert column is not None
        period = self.period_xp()
        entries = []
        for agent in self.agents.values():
            if agent.departed or (scope == "team" and agent.team_id != team_id):
                continue
            xp = period.get((window, start, column, agent.agent_id), 0)
            entries.append((-xp, agent.name, agent.agent_id))
        entries.sort()
        rows: list[ReferenceRow] = []
        for index, (negative_xp, _, agent_id) in enumerate(entries):
            tied = rows and rows[-1].xp == -negative_xp
            rank = rows[-1].rank if tied else index + 1
            rows.append(ReferenceRow(rank=rank, agent_id=agent_id, xp=-negative_xp))
        return rows


# ------------------------------------------------------------------ histories of commands
#
# A small contact centre driven through the real application. Commands name agents and
# teams by index; the driver turns them into calls on ``Callcraft``. A command the domain
# refuses raises a DomainError and must record nothing.

START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)  # a Monday
QUARTER = timedelta(minutes=15)
HANDLES = ("ann", "bob", "cat", "dan", "eve")
NAMES = ("Ann", "Bob", "Cat", "Ann", "Eve")  # two Anns: ties are broken by agent id
TEAM_NAMES = ("Blue", "Green")
RECORDERS = ("sup.one", "sup.two")


@dataclass(frozen=True)
class Enrol:
    agent: int
    team: int
    quarters_before: int


@dataclass(frozen=True)
class Transfer:
    agent: int
    team: int


@dataclass(frozen=True)
class Depart:
    agent: int


@dataclass(frozen=True)
class Record:
    kind: RecognitionKind
    agent: int
    competencies: tuple[str, ...]
    fraction: int  # 0..100: where between enrolment and now it occurred
    rating: int = 3
    feedback_kind: str = "praise"
    score: int = 50
    giver: int = 0
    recorder: int = 0


@dataclass(frozen=True)
class Retract:
    which: int
    by_admin: bool


@dataclass(frozen=True)
class Publish:
    rules: dict[str, Any]


@dataclass(frozen=True)
class Wait:
    quarters: int


Command = Enrol | Transfer | Depart | Record | Retract | Publish | Wait


class World:
    """Runs commands against a real application, keeping the clock and what was recorded."""

    def __init__(self, app: Callcraft) -> None:
        self.app = app
        self.now = START
        self.app.ensure_default_rulebook(now=self.now)
        self.team_ids = [app.form_team(name=n, formed_by="admin") for n in TEAM_NAMES]
        self.recordings: list[tuple[UUID, str]] = []
        self.refused = 0

    def agent_id(self, index: int) -> UUID:
        return agent_id_for(HANDLES[index])

    def run(self, command: Command) -> bool:
        """Apply ``command``; False when the domain refused it (and nothing was recorded)."""
        before = self.app.recorder.max_notification_id()
        try:
            self._run(command)
        except DomainError:
            assert self.app.recorder.max_notification_id() == before, command
            self.refused += 1
            return False
        return True

    def _run(self, command: Command) -> None:
        app = self.app
        if isinstance(command, Wait):
            self.now += command.quarters * QUARTER
        elif isinstance(command, Enrol):
            app.enrol_agent(
                handle=HANDLES[command.agent],
                name=NAMES[command.agent],
                team_id=self.team_ids[command.team],
                enrolled_at=self.now - command.quarters_before * QUARTER,
                enrolled_by="admin",
                now=self.now,
            )
        elif isinstance(command, Transfer):
            app.transfer_agent(
                agent_id=self.agent_id(command.agent),
                team_id=self.team_ids[command.team],
                transferred_by="admin",
            )
        elif isinstance(command, Depart):
            app.depart_agent(
                now=self.now,
                agent_id=self.agent_id(command.agent),
                departed_at=self.now,
                recorded_by="admin",
            )
        elif isinstance(command, Record):
            self._record(command)
        elif isinstance(command, Retract):
            if not self.recordings:
                return
            recording_id, recorded_by = self.recordings[command.which % len(self.recordings)]
            app.retract(
                recording_id=recording_id,
                retracted_by="admin" if command.by_admin else recorded_by,
                by_admin=command.by_admin,
                reason="recorded by mistake",
            )
        elif isinstance(command, Publish):
            version = len(app.rulebooks().publications) + 1
            app.publish_rulebook(
                {**command.rules, "version": version},
                effective_from=self.now,
                published_by="admin",
                now=self.now,
            )

    def _record(self, command: Record) -> None:
        agent = self.app.agent(self.agent_id(command.agent))
        steps = (self.now - agent.enrolled_at) // QUARTER
        occurred_at = agent.enrolled_at + (steps * command.fraction // 100) * QUARTER
        recorded_by = RECORDERS[command.recorder]
        outcome = self.app.record(
            RecordRecognition(
                kind=command.kind,
                agent_id=agent.id,
                competencies=command.competencies,
                occurred_at=occurred_at,
                recorded_by=recorded_by,
                note="well done",
                rating=command.rating,
                feedback_kind=command.feedback_kind,
                course="De-escalation"
                if command.kind is RecognitionKind.TRAINING_COMPLETED
                else None,
                score=command.score,
                call_ref="C-1"
                if command.kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE
                else None,
                description="Fixed the rota"
                if command.kind is RecognitionKind.INITIATIVE_TAKEN
                else None,
                from_agent=self.agent_id(command.giver),
            ),
            now=self.now,
        )
        self.recordings.append((outcome.recording_id, recorded_by))


def _record_commands() -> st.SearchStrategy[Record]:
    return st.builds(
        Record,
        kind=st.sampled_from(RecognitionKind),
        agent=st.integers(0, len(HANDLES) - 1),
        competencies=competency_sets().map(lambda cs: tuple(c.value for c in cs)),
        fraction=st.integers(0, 100),
        rating=st.integers(1, 5),
        feedback_kind=st.sampled_from(["praise", "coaching"]),
        score=st.integers(0, 100),
        giver=st.integers(0, len(HANDLES) - 1),
        recorder=st.integers(0, len(RECORDERS) - 1),
    )


def commands() -> st.SearchStrategy[Command]:
    agent = st.integers(0, len(HANDLES) - 1)
    team = st.integers(0, len(TEAM_NAMES) - 1)
    return st.one_of(
        st.builds(Enrol, agent=agent, team=team, quarters_before=st.integers(0, 4 * 24 * 20)),
        _record_commands(),
        _record_commands(),
        _record_commands(),
        _record_commands(),
        _record_commands(),
        st.builds(Wait, quarters=st.sampled_from([1, 4, 4 * 8, 4 * 24, 4 * 24 * 3, 4 * 24 * 8])),
        st.builds(Transfer, agent=agent, team=team),
        st.builds(Retract, which=st.integers(0, 50), by_admin=st.booleans()),
        st.builds(Depart, agent=agent),
        st.builds(Publish, rules=rulebook_data()),
    )


@st.composite
def histories(draw: st.DrawFn, min_commands: int = 10, max_commands: int = 30) -> list[Command]:
    """Every agent enrolled first (so most later commands apply), then random commands."""
    enrolments: list[Command] = [
        Enrol(agent=i, team=draw(st.integers(0, len(TEAM_NAMES) - 1)), quarters_before=4 * 24 * 10)
        for i in range(draw(st.integers(2, len(HANDLES))))
    ]
    rest = draw(st.lists(commands(), min_size=min_commands, max_size=max_commands))
    publications = [c for c in rest if isinstance(c, Publish)]
    rest = [c for c in rest if not isinstance(c, Publish)]
    if publications:  # at most one new rulebook, somewhere in the middle
        rest.insert(draw(st.integers(0, len(rest))), publications[0])
    return [*enrolments, *rest]


# ------------------------------------------------------------------ comparing read models


def dump_read_models(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row (tracking aside), sorted, for comparing two projections."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in tables.metadata.sorted_tables:
            if table is tables.tracking:
                continue
            rows = connection.execute(select(table)).all()
            dump[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return dump


def assert_read_models_match(engine: Engine, model: ReferenceModel, today: date) -> None:
    """Profiles, badges, period XP, points and every leaderboard equal the reference's."""
    scores = model.scores()
    with engine.connect() as connection:
        profiles = {
            r.agent_id: r._asdict() for r in connection.execute(select(tables.agent_profiles))
        }
        badges = {
            (r.agent_id, r.badge_key): r for r in connection.execute(select(tables.agent_badges))
        }
        periods = {
            (r.window, r.period_start, r.competency, r.agent_id): r.xp
            for r in connection.execute(select(tables.period_xp))
        }
        points = {
            r.recording_id: (r.points, r.rulebook_version, r.capped, r.retracted)
            for r in connection.execute(select(tables.recognitions))
        }
    assert set(profiles) == set(model.agents)
    expected_badges: dict[tuple[UUID, str], tuple[Any, ...]] = {}
    retracted = (0, None, False, True)
    expected_points: dict[UUID, tuple[Any, ...]] = dict.fromkeys(model.retracted, retracted)
    for agent_id, score in scores.items():
        profile = profiles[agent_id]
        agent = model.agents[agent_id]
        assert profile["team_id"] == agent.team_id
        assert profile["departed"] == agent.departed
        assert profile["xp_total"] == score.xp_total
        for competency, column in zip(ALL_COMPETENCIES, tables.XP_COLUMNS, strict=True):
            assert profile[column] == score.xp_by_competency[competency], column
        assert (profile["level"], profile["xp_into_level"], profile["xp_for_next_level"]) == (
            score.level.level,
            score.level.xp_into_level,
            score.level.xp_for_next_level,
        )
        assert (profile["best_streak"], profile["streak_run"], profile["last_active_day"]) == (
            score.streak.best,
            score.streak.run,
            score.streak.last_active_day,
        )
        for status in score.badges:
            last = status.earned[-1] if status.earned else None
            expected_badges[(agent_id, status.key)] = (
                status.tier,
                status.progress,
                status.next_threshold,
                last.earned_at if last else None,
                [str(r) for r in last.evidence] if last else [],
            )
        for line in score.lines:
            expected_points[line.recording_id] = (
                line.points,
                line.rulebook_version,
                line.capped,
                False,
            )
    actual_badges = {
        key: (r.tier, r.progress, r.next_threshold, r.earned_at, r.evidence)
        for key, r in badges.items()
    }
    assert actual_badges == expected_badges
    assert periods == model.period_xp()
    assert points == expected_points
    assert_leaderboards_match(engine, model, today)


def assert_leaderboards_match(engine: Engine, model: ReferenceModel, today: date) -> None:
    boards: list[dict[str, Any]] = [{"scope": "overall"}]
    boards += [{"scope": "team", "team_id": t} for t in model.teams]
    boards += [{"scope": "competency", "competency": c.value} for c in ALL_COMPETENCIES]
    for board in boards:
        for window in WINDOWS:
            page = leaderboard(engine, window=window, today=today, limit=500, **board)
            expected = model.leaderboard(window=window, today=today, **board)
            actual = [ReferenceRow(r.rank, r.agent_id, r.xp) for r in page.rows]
            assert actual == expected, (board, window)
            assert page.total == len(expected)


# ------------------------------------------------------------------ fresh databases


@contextmanager
def fresh_database(kind: str) -> Iterator[Database]:
    """An empty event store and read-model database of ``kind``, dropped afterwards (for
    hypothesis examples, which must not share state)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield make_sqlite_database(Path(directory))
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Database(
            kind="postgres", database_url=POSTGRES_URL, read_url=POSTGRES_URL, schema=schema
        )
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def opened(database: Database, timezone: tzinfo = UTC) -> Iterator[tuple[Callcraft, Engine]]:
    """The application and the read engine of ``database``, closed afterwards."""
    app = Callcraft(env=database.event_env(), timezone=timezone)
    engine: Engine = database.read_engine()
    try:
        yield app, engine
    finally:
        engine.dispose()
        app.close()
