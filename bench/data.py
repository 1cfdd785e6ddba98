"""A deterministic contact centre and its recognitions, from a seed.

The same seed and sizes always give the same teams, agents and rows, so two runs of
`make bench` measure the same work.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

from domain.agents import Agent
from domain.application import Callcraft
from domain.competencies import ALL_COMPETENCIES
from domain.facts import RecognitionKind
from domain.identity import agent_id_for
from domain.recordings import RecordRecognition

# A fixed "now": the data never depends on the day the benchmark runs.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ENROLLED_AT = NOW - timedelta(days=400)
HISTORY_DAYS = 90
AGENTS_PER_TEAM = 25
KUDOS_CAP = 3  # the default rulebook's cap per giver per day
IMPORT_COLUMNS = (
    "agent",
    "type",
    "competencies",
    "occurred_at",
    "recorded_by",
    "note",
    "idempotency_key",
    "rating",
    "feedback_kind",
    "given_by",
    "course",
    "score",
    "call_ref",
    "description",
    "from_agent",
)
KIND_WEIGHTS = (
    (RecognitionKind.FEEDBACK_GIVEN, 40),
    (RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE, 20),
    (RecognitionKind.TRAINING_COMPLETED, 15),
    (RecognitionKind.KUDOS_GIVEN, 15),
    (RecognitionKind.INITIATIVE_TAKEN, 10),
)
COURSES = ("De-escalation basics", "Active listening", "Product deep dive", "Time to resolve")


@dataclass(frozen=True)
class Centre:
    teams: tuple[str, ...]
    handles: tuple[str, ...]
    team_of: tuple[int, ...]  # index into teams, per agent


def make_centre(agents: int) -> Centre:
    teams = tuple(
        f"Team {i + 1:04d}" for i in range((agents + AGENTS_PER_TEAM - 1) // AGENTS_PER_TEAM)
    )
    return Centre(
        teams=teams,
        handles=tuple(f"agent{i:06d}" for i in range(agents)),
        team_of=tuple(i // AGENTS_PER_TEAM for i in range(agents)),
    )


def set_up_centre(
    app: Callcraft, centre: Centre, *, batch: int = 500
) -> tuple[list[UUID], list[UUID]]:
    """Publish the default rulebook, form the teams and enrol every agent (setup, not timed).

    Returns the team ids and the agent ids."""
    team_ids, enrolled = enrol_centre(app, centre, batch=batch)
    return team_ids, [agent.id for agent in enrolled]


def enrol_centre(
    app: Callcraft, centre: Centre, *, batch: int = 500
) -> tuple[list[UUID], list[Agent]]:
    """``set_up_centre``, returning the enrolled agents themselves (for the fast writer)."""
    app.ensure_default_rulebook(now=NOW)
    team_ids = [app.form_team(name=name, formed_by="bench") for name in centre.teams]
    enrolled: list[Agent] = []
    pending: list[Agent] = []
    for handle, team in zip(centre.handles, centre.team_of, strict=True):
        agent = Agent.enrol(
            handle=handle,
            name=f"Agent {handle[5:]}",
            team_id=team_ids[team],
            enrolled_at=ENROLLED_AT,
            enrolled_by="bench",
        )
        pending.append(agent)
        enrolled.append(agent)
        if len(pending) >= batch:
            app.save(*pending)
            pending.clear()
    if pending:
        app.save(*pending)
    return team_ids, enrolled


def recognition_rows(
    seed: int,
    centre: Centre,
    count: int,
    *,
    keyed: bool = True,
    key_prefix: str = "bench",
    kudos_given: Counter[tuple[int, date]] | None = None,
) -> Iterator[dict[str, str]]:
    """``count`` import rows (all strings, the CSV's columns), kudos within the daily cap.

    Pass one ``kudos_given`` to every generator whose rows go into the same store."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    kinds = [kind for kind, _ in KIND_WEIGHTS]
    weights = [weight for _, weight in KIND_WEIGHTS]
    kudos_given = Counter() if kudos_given is None else kudos_given
    agents = len(centre.handles)
    start = NOW - timedelta(days=HISTORY_DAYS)
    for index in range(count):
        agent = rng.randrange(agents)
        moment = start + timedelta(
            days=rng.randrange(HISTORY_DAYS),
            hours=rng.randrange(8, 18),
            minutes=rng.randrange(60),
            seconds=rng.randrange(60),
        )
        kind = rng.choices(kinds, weights)[0]
        giver = None
        if kind is RecognitionKind.KUDOS_GIVEN and agents > 1:
            giver = (agent + 1 + rng.randrange(agents - 1)) % agents
            if kudos_given[(giver, moment.date())] >= KUDOS_CAP:
                kind = RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE
            else:
                kudos_given[(giver, moment.date())] += 1
        elif kind is RecognitionKind.KUDOS_GIVEN:
            kind = RecognitionKind.INITIATIVE_TAKEN
        picked = rng.sample(ALL_COMPETENCIES, rng.choice((1, 1, 2, 3)))
        row = dict.fromkeys(IMPORT_COLUMNS, "")
        row.update(
            agent=centre.handles[agent],
            type=kind.value,
            competencies=";".join(c.value for c in picked),
            occurred_at=moment.isoformat(),
            recorded_by=f"supervisor{centre.team_of[agent]:04d}",
            note="Handled with care" if rng.random() < 0.5 else "",
            idempotency_key=f"{key_prefix}-{seed}-{index}" if keyed else "",
        )
        if kind is RecognitionKind.FEEDBACK_GIVEN:
            row.update(
                rating=str(rng.randint(1, 5)), feedback_kind=rng.choice(("praise", "coaching"))
            )
        elif kind is RecognitionKind.TRAINING_COMPLETED:
            row.update(course=rng.choice(COURSES), score=str(rng.randint(50, 100)))
        elif kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE:
            row.update(call_ref=f"CALL-{rng.randrange(10**8):08d}")
        elif kind is RecognitionKind.INITIATIVE_TAKEN:
            row.update(description="Suggested a clearer script for refunds")
        elif giver is not None:
            row.update(from_agent=centre.handles[giver])
        yield row


def _number(value: str) -> int | None:
    return int(value) if value else None


def command_for(row: dict[str, str]) -> RecordRecognition:
    """The command an import row becomes (as the importer builds it)."""
    return RecordRecognition(
        kind=RecognitionKind(row["type"]),
        agent_id=agent_id_for(row["agent"]),
        competencies=tuple(row["competencies"].split(";")),
        occurred_at=datetime.fromisoformat(row["occurred_at"]),
        recorded_by=row["recorded_by"],
        note=row["note"],
        idempotency_key=row["idempotency_key"] or None,
        rating=_number(row["rating"]),
        feedback_kind=row["feedback_kind"] or None,
        course=row["course"] or None,
        score=_number(row["score"]),
        call_ref=row["call_ref"] or None,
        description=row["description"] or None,
        from_agent=agent_id_for(row["from_agent"]) if row["from_agent"] else None,
    )


def write_csv(path: Path, rows: Iterator[dict[str, str]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=IMPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
