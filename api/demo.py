"""A demo contact centre: teams, agents, accounts and about 90 days of recognitions.

Everything follows from the seed and ``now``: the same seed and the same ``now`` give the same
history (same ids, same facts, same order); only the password hashes' salts differ.
Recordings carry idempotency keys ``demo-000001`` …, so their ids are deterministic too.

The demo plays a centre that has been recording for ``days`` days, so each event is stamped
with the moment it would have been recorded (:class:`DemoClock`): the set-up and enrolments at
the start, each day's recognitions that evening, corrections right after what they follow —
always in log order and never after ``now``. So time travel ("as of last month") has a past to
show. Only the demo does this; every other write is stamped by the library's clock.

The rhythm: working days are busy, weekends quiet; a few stars collect praise, a few quiet
agents little; supervisors coach and, a few days later, often praise the improvement; each team
has a training session every two to three weeks; colleagues thank each other (within the
kudos cap); a few recordings are retracted; a couple of agents change teams; one leaves.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from uuid import UUID

import eventsourcing.domain
from argon2 import PasswordHasher

from domain.accounts import Role
from domain.application import Callcraft
from domain.facts import FeedbackKind, RecognitionKind
from domain.identity import agent_id_for, recording_id_for, team_id_for, user_id_for
from domain.publications import RulebookPublication
from domain.recordings import RecordRecognition

DEMO_PASSWORDS: dict[str, str] = {
    "agent": "callcraft-agent",
    "supervisor": "callcraft-supervisor",
    "auditor": "callcraft-auditor",
    "admin": "callcraft-admin",
}
DEFAULT_AGENTS = 48
DEFAULT_DAYS = 90
BATCH = 500
ADMIN = "admin"
KUDOS_PER_GIVER_PER_DAY = 2  # below the rulebook's cap, so the demo never hits it

TEAM_NAMES = ("Billing Care", "Tech Support", "Retention", "New Accounts", "Priority Line")
SUPERVISOR_NAMES = (
    ("supervisor", "Sam Rivera"),
    ("n.patel", "Nisha Patel"),
    ("j.kowalski", "Jan Kowalski"),
    ("a.mensah", "Abena Mensah"),
    ("l.moreau", "Léa Moreau"),
)
FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chloé",
    "Dev",
    "Elif",
    "Finn",
    "Grace",
    "Hamza",
    "Ines",
    "Jonah",
    "Kira",
    "Luca",
    "Maya",
    "Nikolai",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sipho",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Carmen",
    "Daniel",
    "Emeka",
    "Freya",
    "Gabriel",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Noor",
    "Oscar",
    "Paula",
    "Rahul",
    "Sofia",
    "Theo",
    "Uma",
    "Viktor",
    "Willa",
    "Yara",
    "Zain",
)
SURNAMES = (
    "Okafor",
    "Hughes",
    "Dubois",
    "Sharma",
    "Yilmaz",
    "Murphy",
    "Chen",
    "Haddad",
    "Silva",
    "Berg",
    "Novak",
    "Rossi",
    "Nakamura",
    "Ivanova",
    "Adeyemi",
    "Kaur",
    "Fischer",
    "Garcia",
    "Dlamini",
    "Walsh",
    "Khan",
    "Petrova",
    "Li",
    "Torres",
    "Aydin",
    "Bennett",
    "Costa",
    "Eriksen",
    "Farah",
    "Jansen",
    "Kim",
    "Lopez",
    "Mbeki",
    "Nguyen",
    "O'Brien",
    "Park",
)

PRAISE_NOTES = (
    ("Explained the tariff change so clearly the customer thanked her by name.", "communication"),
    ("Kept a long troubleshooting call calm and structured.", "problem_solving"),
    ("Closed a tricky refund in one call, no transfers.", "customer_service"),
    ("Wrapped up the after-call work fast without cutting corners.", "time_management"),
    ("Listened first, then solved the actual problem behind the complaint.", "communication"),
    ("Switched smoothly to the new CRM screens on day one.", "adaptability"),
    ("Set clear expectations about the engineer visit and followed up.", "customer_service"),
)
COACHING_NOTES = (
    ("Rushed the verification steps; we walked through them together.", "time_management"),
    ("Talked over the customer twice; practise pausing before answering.", "communication"),
    ("Promised a call-back time we could not keep; agreed a script.", "customer_service"),
    ("Escalated too early; went through the troubleshooting tree again.", "problem_solving"),
)
COMEBACK_NOTE = "Put last week's coaching into practice — clearly better."
TOUGH_CALLS = (
    "Customer was furious about a double charge; stayed calm, refunded and confirmed in writing.",
    "Bereavement call: handled the account closure with real care.",
    "Elderly caller confused by a scam text; reassured her and secured the account.",
    "Angry caller after three failed repairs; took ownership and booked a senior engineer.",
    "Caller in tears over a disconnection; arranged a payment plan on the spot.",
)
INITIATIVES = (
    ("Wrote a one-page cheat-sheet for the new billing screens.", ("problem_solving",)),
    ("Volunteered to cover the evening queue during the outage.", ("teamwork", "adaptability")),
    ("Mentored the new starter through their first escalations.", ("leadership", "teamwork")),
    (
        "Spotted a recurring fault pattern and reported it to the network team.",
        ("problem_solving",),
    ),
    ("Ran a ten-minute huddle on handling hold-time complaints.", ("leadership", "communication")),
)
KUDOS_NOTES = (
    "Thanks for covering my break when the queue spiked!",
    "Your tip on the refund screen saved me ten minutes a call.",
    "Thank you for taking that escalation off my hands.",
    "Great teamwork on the outage calls today.",
    "Thanks for the patient walkthrough of the new tool.",
)
COURSES = (
    "De-escalation essentials",
    "Active listening workshop",
    "New billing platform",
    "Managing customer expectations",
    "Time management on the phones",
    "Leading a team huddle",
)
COURSE_COMPETENCIES: dict[str, tuple[str, ...]] = {
    "De-escalation essentials": ("customer_service", "adaptability"),
    "Active listening workshop": ("communication",),
    "New billing platform": ("adaptability", "problem_solving"),
    "Managing customer expectations": ("customer_service", "communication"),
    "Time management on the phones": ("time_management",),
    "Leading a team huddle": ("leadership",),
}
RETRACTION_REASON = "Recorded against the wrong agent; re-recorded for the right one."


class StoreNotEmpty(Exception):
    """The demo only fills an empty store."""


# -------------------------------------------------------------------------------- the roster


@dataclass(frozen=True)
class DemoAgent:
    handle: str
    name: str
    team: int
    enrolled_on: date
    activity: float
    mean_rating: float
    strengths: tuple[str, ...]

    @property
    def id(self) -> UUID:
        return agent_id_for(self.handle)


@dataclass
class DemoSummary:
    teams: int = 0
    agents: int = 0
    users: int = 0
    recordings: int = 0
    retractions: int = 0
    transfers: int = 0
    departures: int = 0
    passwords: dict[str, str] = field(default_factory=lambda: dict(DEMO_PASSWORDS))


def _roster(rng: random.Random, count: int, teams: int, start: date, days: int) -> list[DemoAgent]:
    names = [(f, s) for f in FIRST_NAMES for s in SURNAMES]
    rng.shuffle(names)
    competencies = (
        "communication",
        "teamwork",
        "problem_solving",
        "adaptability",
        "customer_service",
        "time_management",
        "leadership",
    )
    agents: list[DemoAgent] = []
    handles: set[str] = set()
    for index, (first, last) in enumerate(names):
        if len(agents) == count:
            break
        handle = f"{first}.{last}".lower().replace("'", "").replace("é", "e")
        if handle in handles:
            continue
        handles.add(handle)
        star = index % 16 == 3
        quiet = index % 13 == 7
        activity = 2.0 if star else 0.3 if quiet else rng.uniform(0.7, 1.3)
        mean_rating = 4.4 if star else 2.9 if quiet else rng.uniform(3.3, 4.1)
        new_hire = index % 19 == 11
        enrolled_on = (
            start + timedelta(days=rng.randint(days // 6, days // 2))
            if new_hire
            else start - timedelta(days=rng.randint(20, 700))
        )
        agents.append(
            DemoAgent(
                handle=handle,
                name=f"{first} {last}",
                team=len(agents) % teams,
                enrolled_on=enrolled_on,
                activity=activity,
                mean_rating=mean_rating,
                strengths=tuple(rng.sample(competencies, 2)),
            )
        )
    return agents


# ------------------------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class Transfer:
    agent: UUID
    team: UUID


@dataclass(frozen=True)
class Departure:
    agent: UUID
    at: datetime


@dataclass(frozen=True)
class Retraction:
    recording: UUID
    retracted_by: str


Step = RecordRecognition | Transfer | Departure | Retraction


@dataclass
class _Timeline:
    rng: random.Random
    agents: list[DemoAgent]
    supervisors: list[str]
    tz: tzinfo
    now: datetime
    team_of: dict[UUID, int] = field(default_factory=dict)
    departed: set[UUID] = field(default_factory=set)
    pending: dict[date, list[tuple[DemoAgent, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    keys: int = 0

    def moment(self, day: date, earliest: time = time(8, 30)) -> datetime | None:
        minutes = self.rng.randint(earliest.hour * 60 + earliest.minute, 17 * 60 + 30)
        at = datetime.combine(day, time(minutes // 60, minutes % 60), self.tz)
        return at if at <= self.now else None

    def command(
        self, agent: DemoAgent, kind: RecognitionKind, at: datetime, **fields: object
    ) -> RecordRecognition:
        self.keys += 1
        recorded_by = fields.pop("recorded_by", None) or self.supervisors[self.team_of[agent.id]]
        return RecordRecognition(
            kind=kind,
            agent_id=agent.id,
            occurred_at=at,
            recorded_by=str(recorded_by),
            idempotency_key=f"demo-{self.keys:06d}",
            **fields,  # type: ignore[arg-type]
        )

    def present(self, agent: DemoAgent, day: date) -> bool:
        return agent.id not in self.departed and agent.enrolled_on < day

    def feedback(self, agent: DemoAgent, day: date) -> RecordRecognition | None:
        at = self.moment(day)
        if at is None:
            return None
        coaching = self.rng.random() < (0.1 + max(0.0, 3.6 - agent.mean_rating) * 0.25)
        if coaching:
            note, competency = self.rng.choice(COACHING_NOTES)
            rating = self.rng.choice((1, 2, 2, 2))
            if self.rng.random() < 0.7:
                later = day + timedelta(days=self.rng.randint(3, 10))
                self.pending[later].append((agent, competency))
        else:
            note, competency = self.rng.choice(PRAISE_NOTES)
            if self.rng.random() < 0.5:
                competency = self.rng.choice(agent.strengths)
            rating = max(3, min(5, round(self.rng.gauss(agent.mean_rating, 0.7))))
        return self.command(
            agent,
            RecognitionKind.FEEDBACK_GIVEN,
            at,
            competencies=(competency,),
            note=note,
            rating=rating,
            feedback_kind=(FeedbackKind.COACHING if coaching else FeedbackKind.PRAISE).value,
        )

    def comeback(self, agent: DemoAgent, competency: str, day: date) -> RecordRecognition | None:
        at = self.moment(day)
        if at is None:
            return None
        return self.command(
            agent,
            RecognitionKind.FEEDBACK_GIVEN,
            at,
            competencies=(competency,),
            note=COMEBACK_NOTE,
            rating=self.rng.choice((4, 5)),
            feedback_kind=FeedbackKind.PRAISE.value,
        )

    def tough_call(self, agent: DemoAgent, day: date) -> RecordRecognition | None:
        at = self.moment(day)
        if at is None:
            return None
        extra = self.rng.choice(("adaptability", "communication"))
        return self.command(
            agent,
            RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE,
            at,
            competencies=("customer_service", extra),
            note=self.rng.choice(TOUGH_CALLS),
            call_ref=f"CALL-{day:%y%m%d}-{self.rng.randint(1000, 9999)}",
        )

    def initiative(self, agent: DemoAgent, day: date) -> RecordRecognition | None:
        at = self.moment(day)
        if at is None:
            return None
        description, competencies = self.rng.choice(INITIATIVES)
        return self.command(
            agent,
            RecognitionKind.INITIATIVE_TAKEN,
            at,
            competencies=competencies,
            description=description,
        )

    def kudos(
        self, agent: DemoAgent, day: date, given: dict[UUID, int]
    ) -> RecordRecognition | None:
        same_team = self.rng.random() < 0.85
        colleagues = [
            a
            for a in self.agents
            if a.id != agent.id
            and self.present(a, day)
            and given[a.id] < KUDOS_PER_GIVER_PER_DAY
            and (self.team_of[a.id] == self.team_of[agent.id]) == same_team
        ]
        at = self.moment(day)
        if not colleagues or at is None:
            return None
        giver = self.rng.choice(colleagues)
        given[giver.id] += 1
        return self.command(
            agent,
            RecognitionKind.KUDOS_GIVEN,
            at,
            competencies=("teamwork",),
            note=self.rng.choice(KUDOS_NOTES),
            from_agent=giver.id,
            recorded_by="agent" if giver.handle == self.agents[0].handle else giver.handle,
        )

    def training(self, team: int, day: date) -> list[RecordRecognition]:
        course = self.rng.choice(COURSES)
        at = datetime.combine(day, time(15, 0), self.tz)
        if at > self.now:
            return []
        attendees = [
            a
            for a in self.agents
            if self.team_of[a.id] == team and self.present(a, day) and self.rng.random() < 0.6
        ]
        return [
            self.command(
                a,
                RecognitionKind.TRAINING_COMPLETED,
                at,
                competencies=COURSE_COMPETENCIES[course],
                course=course,
                score=max(40, min(100, round(self.rng.gauss(70 + 5 * a.mean_rating - 18, 9)))),
                note="Completed the session and the end-of-course quiz.",
            )
            for a in attendees
        ]

    def day(self, day: date) -> list[RecordRecognition]:
        weekday = day.isoweekday()
        busy = {1: 1.1, 2: 1.0, 3: 1.0, 4: 1.0, 5: 0.9, 6: 0.15, 7: 0.05}[weekday]
        given: dict[UUID, int] = defaultdict(int)
        made: list[RecordRecognition | None] = []
        for agent, competency in self.pending.pop(day, []):
            if self.present(agent, day):
                made.append(self.comeback(agent, competency, day))
        for agent in self.agents:
            if not self.present(agent, day):
                continue
            rate = 0.75 * agent.activity * busy
            while rate > 0:
                if self.rng.random() < min(rate, 1.0):
                    roll = self.rng.random()
                    if roll < 0.45:
                        made.append(self.feedback(agent, day))
                    elif roll < 0.65:
                        made.append(self.tough_call(agent, day))
                    elif roll < 0.75:
                        made.append(self.initiative(agent, day))
                    else:
                        made.append(self.kudos(agent, day, given))
                rate -= 1.0
        if weekday == 3:
            for team in range(len(self.supervisors)):
                if self.rng.random() < 0.4:
                    made.extend(self.training(team, day))
        commands = [c for c in made if c is not None]
        commands.sort(key=lambda c: c.occurred_at)
        return commands


def demo_timeline(
    *,
    seed: int,
    agents: list[DemoAgent],
    supervisors: list[str],
    start: date,
    days: int,
    now: datetime,
    tz: tzinfo,
    teams: list[UUID],
) -> Iterator[Step]:
    """Every step of the demo's history, in the order it is written to the log."""
    rng = random.Random(seed + 1)  # noqa: S311 - demo data, not security
    timeline = _Timeline(rng=rng, agents=agents, supervisors=supervisors, tz=tz, now=now)
    timeline.team_of = {a.id: a.team for a in agents}
    movers = [a for a in agents[1:] if a.activity < 1.5 and a.enrolled_on < start]
    transfer_days = {
        start + timedelta(days=max(1, days * 35 // 100)): movers[0],
        start + timedelta(days=max(2, days * 60 // 100)): movers[1],
    }
    leaver = movers[2]
    leave_day = start + timedelta(days=max(3, days * 72 // 100))
    retract_days = {start + timedelta(days=days * n // 5) for n in range(1, 5)}
    for offset in range(days + 1):
        day = start + timedelta(days=offset)
        if day in transfer_days:
            mover = transfer_days[day]
            new_team = (timeline.team_of[mover.id] + 1) % len(teams)
            timeline.team_of[mover.id] = new_team
            yield Transfer(agent=mover.id, team=teams[new_team])
        commands = timeline.day(day)
        yield from commands
        if day in retract_days:
            feedback = [c for c in commands if c.kind is RecognitionKind.FEEDBACK_GIVEN]
            if feedback:
                wrong = rng.choice(feedback)
                assert wrong.idempotency_key is not None
                yield Retraction(
                    recording=recording_id_for(wrong.recorded_by, wrong.idempotency_key),
                    retracted_by=wrong.recorded_by,
                )
        if day == leave_day:
            departed_at = datetime.combine(day, time(18, 0), tz)
            if departed_at <= now:
                timeline.departed.add(leaver.id)
                yield Departure(agent=leaver.id, at=departed_at)


# ------------------------------------------------------------------------------ writing it


def store_is_empty(app: Callcraft) -> bool:
    """True when the log holds nothing but rulebook publications."""
    rulebook_topic_prefix = f"{RulebookPublication.__module__}:{RulebookPublication.__qualname__}."
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(
            start=start, limit=100, inclusive_of_start=start is None
        )
        if not page:
            return True
        if any(not n.topic.startswith(rulebook_topic_prefix) for n in page):
            return False
        start = page[-1].id


def _default_hasher() -> Callable[[str], str]:
    return PasswordHasher().hash


RECORDED_AFTER = timedelta(hours=2)
"""How long after a recognition occurred the demo records it."""


class DemoClock:
    """The moments the demo's events are recorded at: never earlier than the previous one,
    never later than ``now``.

    While :meth:`running`, the eventsourcing library stamps new events with :meth:`tick`
    instead of the wall clock (its module-level ``datetime_now_with_tzinfo`` is looked up at
    every stamp; it is put back afterwards, whatever happens).
    """

    def __init__(self, start: datetime, now: datetime) -> None:
        self.now = now.astimezone(UTC)
        self._moment = min(start.astimezone(UTC), self.now)

    def advance_to(self, moment: datetime) -> None:
        """Record what comes next at ``moment`` (or later, to keep the log's order)."""
        self._moment = max(self._moment, min(moment.astimezone(UTC), self.now))

    def tick(self) -> datetime:
        """The moment of what is recorded now: one batch shares it, so stamps never go back
        in log order however a batch orders its events."""
        return self._moment

    @contextmanager
    def running(self) -> Iterator[None]:
        original = eventsourcing.domain.datetime_now_with_tzinfo
        eventsourcing.domain.datetime_now_with_tzinfo = self.tick
        try:
            yield
        finally:
            eventsourcing.domain.datetime_now_with_tzinfo = original


def fill_demo(
    app: Callcraft,
    *,
    now: datetime,
    seed: int = 2026,
    agents: int = DEFAULT_AGENTS,
    days: int = DEFAULT_DAYS,
    hash_password: Callable[[str], str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Fill an empty store with the demo centre; raises ``StoreNotEmpty`` otherwise."""
    if agents < 6:
        raise ValueError("the demo needs at least 6 agents")
    if days < 7:
        raise ValueError("the demo needs at least 7 days")
    if now.tzinfo is None:
        raise ValueError("now needs a time zone")
    tz = app.timezone
    start = now.astimezone(tz).date() - timedelta(days=days)
    clock = DemoClock(datetime.combine(start, time(8, 0), tz), now)
    with clock.running():
        app.ensure_default_rulebook(now=now)
        if not store_is_empty(app):
            raise StoreNotEmpty(
                "the store already holds events; the demo only fills an empty store"
            )
        return _fill(
            app,
            clock,
            now=now,
            start=start,
            seed=seed,
            agents=agents,
            days=days,
            hasher=hash_password or _default_hasher(),
            on_progress=on_progress,
        )


def _fill(
    app: Callcraft,
    clock: DemoClock,
    *,
    now: datetime,
    start: date,
    seed: int,
    agents: int,
    days: int,
    hasher: Callable[[str], str],
    on_progress: Callable[[int], None] | None,
) -> DemoSummary:
    tz = app.timezone
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    team_count = min(len(TEAM_NAMES), max(2, agents // 10))
    summary = DemoSummary()

    app.register_user(
        username=ADMIN,
        display_name="Ada Admin",
        password_hash=hasher(DEMO_PASSWORDS["admin"]),
        registered_by="system",
    )
    app.grant_role(user_id=user_id_for(ADMIN), role=Role.ADMIN, granted_by="system")
    app.register_user(
        username="auditor",
        display_name="Omar Auditor",
        password_hash=hasher(DEMO_PASSWORDS["auditor"]),
        registered_by=ADMIN,
    )
    app.grant_role(user_id=user_id_for("auditor"), role=Role.AUDITOR, granted_by=ADMIN)
    summary.users = 2

    teams: list[UUID] = []
    supervisors: list[str] = []
    for index in range(team_count):
        team_id = app.form_team(name=TEAM_NAMES[index], formed_by=ADMIN)
        username, display_name = SUPERVISOR_NAMES[index]
        user_id = app.register_user(
            username=username,
            display_name=display_name,
            password_hash=hasher(DEMO_PASSWORDS["supervisor"]),
            registered_by=ADMIN,
        )
        app.grant_role(user_id=user_id, role=Role.SUPERVISOR, granted_by=ADMIN)
        app.assign_supervisor(team_id=team_id, user_id=user_id, assigned_by=ADMIN)
        assert team_id == team_id_for(TEAM_NAMES[index])
        teams.append(team_id)
        supervisors.append(username)
    summary.teams = team_count
    summary.users += team_count

    roster = _roster(rng, agents, team_count, start, days)
    for agent in sorted(roster, key=lambda a: (a.enrolled_on, a.handle)):
        app.enrol_agent(
            handle=agent.handle,
            name=agent.name,
            team_id=teams[agent.team],
            enrolled_at=datetime.combine(agent.enrolled_on, time(9, 0), tz).astimezone(UTC),
            enrolled_by=ADMIN,
            now=now,
        )
    summary.agents = len(roster)
    you = roster[0]
    agent_user = app.register_user(
        username="agent",
        display_name=you.name,
        password_hash=hasher(DEMO_PASSWORDS["agent"]),
        agent_id=you.id,
        registered_by=ADMIN,
    )
    app.grant_role(user_id=agent_user, role=Role.AGENT, granted_by=ADMIN)
    summary.users += 1

    pending: list[RecordRecognition] = []

    def flush() -> None:
        if pending:
            clock.advance_to(pending[-1].occurred_at + RECORDED_AFTER)
            app.record_many(pending, now=now)
            summary.recordings += len(pending)
            if on_progress is not None:
                on_progress(len(pending))
            pending.clear()

    for step in demo_timeline(
        seed=seed,
        agents=roster,
        supervisors=supervisors,
        start=start,
        days=days,
        now=now,
        tz=tz,
        teams=teams,
    ):
        if isinstance(step, RecordRecognition):
            if pending and _day(pending[0].occurred_at, tz) != _day(step.occurred_at, tz):
                flush()  # one batch a day at most, recorded that evening
            pending.append(step)
            if len(pending) >= BATCH:
                flush()
            continue
        flush()
        if isinstance(step, Transfer):
            app.transfer_agent(agent_id=step.agent, team_id=step.team, transferred_by=ADMIN)
            summary.transfers += 1
        elif isinstance(step, Departure):
            clock.advance_to(step.at)
            app.depart_agent(now=now, agent_id=step.agent, departed_at=step.at, recorded_by=ADMIN)
            summary.departures += 1
        else:
            app.retract(
                recording_id=step.recording,
                retracted_by=step.retracted_by,
                by_admin=False,
                reason=RETRACTION_REASON,
            )
            summary.retractions += 1
    flush()
    return summary


def _day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()
