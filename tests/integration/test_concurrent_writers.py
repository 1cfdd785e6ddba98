"""Several writers at once, on both databases: threads in one process and separate
processes. Every acknowledged recording is in the log exactly once, nothing else is; each
stream's versions run 1, 2, 3…; an idempotency key records once; the kudos cap holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.application import Callcraft, RecordingOutcome
from domain.exceptions import DomainError, KudosCapReached
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from domain.rulebook import load_default_rulebook, rulebook_to_data
from tests.conftest import Database
from tests.integration.writer_process import write_job

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
CAP = load_default_rulebook().kudos_cap_per_giver_per_day
RECORDING_TOPIC = "domain.recordings:Recording."
PROCESSES = 4
PER_PROCESS = 100


@dataclass
class Centre:
    app: Callcraft
    env: dict[str, str]
    agents: list[UUID]


@pytest.fixture
def centre(database: Database) -> Iterator[Centre]:
    app = Callcraft(env=database.event_env())
    try:
        app.ensure_default_rulebook(now=NOW)
        team = app.form_team(name="Blue", formed_by="admin")
        agents = [
            app.enrol_agent(
                handle=f"agent{n}",
                name=f"Agent {n}",
                team_id=team,
                enrolled_at=NOW - timedelta(days=90),
                enrolled_by="admin",
                now=NOW,
            )
            for n in range(PROCESSES + 1)
        ]
        yield Centre(app=app, env=database.event_env(), agents=agents)
    finally:
        app.close()


def initiative(
    agent_id: UUID, n: int, *, key: str | None = None, recorded_by: str = "sue"
) -> RecordRecognition:
    return RecordRecognition(
        kind=RecognitionKind.INITIATIVE_TAKEN,
        agent_id=agent_id,
        competencies=("leadership",),
        occurred_at=NOW - timedelta(minutes=n),
        recorded_by=recorded_by,
        description=f"initiative {n}",
        idempotency_key=key,
    )


def kudos(receiver: UUID, giver: UUID, n: int) -> RecordRecognition:
    return RecordRecognition(
        kind=RecognitionKind.KUDOS_GIVEN,
        agent_id=receiver,
        from_agent=giver,
        competencies=("teamwork",),
        occurred_at=NOW - timedelta(minutes=n),
        recorded_by=f"giver-{n}",
    )


# --- checking the log -----------------------------------------------------------------------


def recordings_in_log(app: Callcraft) -> list[UUID]:
    """Check the whole log's shape; return the recording ids created, in log order."""
    notifications = app.recorder.select_notifications(1, 1_000_000)
    ids = [n.id for n in notifications]
    assert all(a < b for a, b in pairwise(ids)), "ids not increasing"
    versions: dict[UUID, list[int]] = defaultdict(list)
    for n in notifications:
        versions[n.originator_id].append(n.originator_version)
    for originator, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), f"stream {originator} has {seen}"
    return [
        n.originator_id
        for n in notifications
        if n.topic.startswith(RECORDING_TOPIC) and n.originator_version == 1
    ]


def assert_log_holds_exactly(app: Callcraft, acknowledged: list[UUID]) -> None:
    in_log = recordings_in_log(app)
    assert len(in_log) == len(set(in_log))
    assert Counter(acknowledged) == Counter(set(acknowledged))
    assert set(in_log) == set(acknowledged)


# --- processes ------------------------------------------------------------------------------


def run_writers(
    tmp_path: Path, env: dict[str, str], jobs: list[list[RecordRecognition]]
) -> list[list[dict[str, Any]]]:
    """Start one process per job, let them all write at once, return each one's report."""
    child_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = []
    for number, commands in enumerate(jobs):
        job = write_job(tmp_path / f"job{number}.json", env=env, now=NOW, commands=commands)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.integration.writer_process", str(job)],
                cwd=ROOT,
                env=child_env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for process in processes:
            assert process.stdout is not None
            ready = process.stdout.readline()
            assert json.loads(ready or "{}").get("ready"), process.stderr.read()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            results.append([json.loads(line) for line in out.splitlines()])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def acknowledged_ids(results: list[list[dict[str, Any]]]) -> list[UUID]:
    return [UUID(r["recording_id"]) for lines in results for r in lines if "recording_id" in r]


def test_writer_processes_for_distinct_agents_lose_nothing_and_duplicate_nothing(
    centre: Centre, tmp_path: Path
) -> None:
    jobs = [[initiative(centre.agents[p], n) for n in range(PER_PROCESS)] for p in range(PROCESSES)]
    results = run_writers(tmp_path, centre.env, jobs)
    assert [len(lines) for lines in results] == [PER_PROCESS] * PROCESSES
    assert all("error" not in r for lines in results for r in lines)
    acknowledged = acknowledged_ids(results)
    assert len(acknowledged) == PROCESSES * PER_PROCESS
    assert_log_holds_exactly(centre.app, acknowledged)


def test_writer_processes_for_shared_agents_lose_nothing_and_duplicate_nothing(
    centre: Centre, tmp_path: Path
) -> None:
    jobs = [
        [
            initiative(centre.agents[n % PROCESSES], n, recorded_by=f"sup{p}")
            for n in range(PER_PROCESS)
        ]
        for p in range(PROCESSES)
    ]
    results = run_writers(tmp_path, centre.env, jobs)
    acknowledged = acknowledged_ids(results)
    assert len(acknowledged) == PROCESSES * PER_PROCESS
    assert_log_holds_exactly(centre.app, acknowledged)
    recorded = [
        centre.app.mapper.to_domain_event(n)
        for n in centre.app.recorder.select_notifications(1, 1_000_000)
        if n.topic.startswith(RECORDING_TOPIC)
    ]
    per_agent = Counter(event.agent_id for event in recorded)
    assert per_agent == dict.fromkeys(centre.agents[:PROCESSES], PER_PROCESS)


def test_processes_racing_with_the_same_idempotency_keys_record_each_once(
    centre: Centre, tmp_path: Path
) -> None:
    keys = [f"form-{n}" for n in range(40)]
    job = [initiative(centre.agents[n % PROCESSES], n, key=k) for n, k in enumerate(keys)]
    results = run_writers(tmp_path, centre.env, [job, job])
    for lines in results:
        assert [r["index"] for r in lines] == list(range(len(keys)))
        assert all("error" not in r for r in lines)
    for first, second in zip(*results, strict=True):
        assert first["recording_id"] == second["recording_id"]
        assert sorted([first["created"], second["created"]]) == [False, True]
    acknowledged = sorted({UUID(r["recording_id"]) for r in results[0]})
    assert_log_holds_exactly(centre.app, acknowledged)


def test_processes_racing_kudos_from_one_giver_stay_within_the_cap(
    centre: Centre, tmp_path: Path
) -> None:
    giver = centre.agents[-1]
    jobs = [
        [kudos(centre.agents[p], giver, p * 10 + n) for n in range(CAP)] for p in range(PROCESSES)
    ]
    results = run_writers(tmp_path, centre.env, jobs)
    outcomes = [r for lines in results for r in lines]
    created = [r for r in outcomes if r.get("created")]
    assert len(created) == CAP
    assert {r["error"] for r in outcomes if "error" in r} == {"KudosCapReached"}
    assert_log_holds_exactly(centre.app, [UUID(r["recording_id"]) for r in created])


# --- threads --------------------------------------------------------------------------------


def race(
    threads: int, attempt: Callable[[int], RecordingOutcome]
) -> list[RecordingOutcome | DomainError]:
    """Run ``attempt(i)`` on ``threads`` threads released together; collect what each got."""
    barrier = threading.Barrier(threads)
    results: list[RecordingOutcome | DomainError | None] = [None] * threads
    failures: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = attempt(i)
        except DomainError as error:
            results[i] = error
        except BaseException as error:  # surfaced below, with the thread's own traceback
            failures.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    if failures:
        raise failures[0]
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_threads_racing_with_the_same_idempotency_key_record_it_once(centre: Centre) -> None:
    acknowledged = []
    for round_ in range(10):
        command = initiative(centre.agents[0], round_, key=f"double-click-{round_}")
        outcomes = race(2, lambda _, c=command: centre.app.record(c, now=NOW))
        assert all(isinstance(o, RecordingOutcome) for o in outcomes)
        ids = {o.recording_id for o in outcomes if isinstance(o, RecordingOutcome)}
        assert len(ids) == 1
        assert sorted(o.created for o in outcomes if isinstance(o, RecordingOutcome)) == [
            False,
            True,
        ]
        acknowledged.extend(ids)
    assert_log_holds_exactly(centre.app, acknowledged)


def test_threads_with_their_own_stores_racing_with_one_key_record_it_once(
    centre: Centre,
) -> None:
    apps = [Callcraft(env=centre.env) for _ in range(2)]
    try:
        command = initiative(centre.agents[0], 1, key="double-submit")
        outcomes = race(2, lambda i: apps[i].record(command, now=NOW))
    finally:
        for app in apps:
            app.close()
    acknowledged = [o for o in outcomes if isinstance(o, RecordingOutcome)]
    assert sorted(o.created for o in acknowledged) == [False, True]
    assert len({o.recording_id for o in acknowledged}) == 1
    assert_log_holds_exactly(centre.app, [acknowledged[0].recording_id])


def rulebook_versions_seen_at_once(app: Callcraft, threads: int) -> list[list[int]]:
    barrier = threading.Barrier(threads)
    seen: list[list[int]] = []

    def read() -> None:
        barrier.wait()
        seen.append([p.rulebook.version for p in app.rulebooks()])

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return seen


def test_threads_reading_the_rulebooks_at_once_each_see_every_version_once(
    centre: Centre,
) -> None:
    stricter = rulebook_to_data(load_default_rulebook())
    stricter["version"] = 2
    centre.app.publish_rulebook(stricter, effective_from=NOW, published_by="admin", now=NOW)
    for _ in range(3):
        fresh = Callcraft(env=centre.env)
        try:
            assert rulebook_versions_seen_at_once(fresh, 8) == [[1, 2]] * 8
            assert [p.rulebook.version for p in fresh.rulebooks()] == [1, 2]
        finally:
            fresh.close()


def test_threads_racing_kudos_from_one_giver_stay_within_the_cap(centre: Centre) -> None:
    giver = centre.agents[-1]
    threads = CAP + 5
    outcomes = race(
        threads,
        lambda i: centre.app.record(kudos(centre.agents[i % PROCESSES], giver, i), now=NOW),
    )
    created = [o for o in outcomes if isinstance(o, RecordingOutcome)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(created) == CAP, [repr(e) for e in refused]
    assert len(refused) == threads - CAP
    assert all(isinstance(e, KudosCapReached) for e in refused)
    assert_log_holds_exactly(centre.app, [o.recording_id for o in created])


# --- a process deciding on what it remembers, while another one writes -----------------------


class SteppedWriter:
    """A writer process that records one list of commands each time it is told to, and
    remembers what it read and wrote in between (its caches), as a server process does."""

    def __init__(self, tmp_path: Path, env: dict[str, str], steps: list[list[RecordRecognition]]):
        job = write_job(tmp_path / "stepped.json", env=env, now=NOW, steps=steps)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.writer_process", str(job)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self._line()).get("ready"), self._failure()

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline() or "{}"

    def _failure(self) -> str:
        self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def step(self) -> list[dict[str, Any]]:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        lines = []
        while "done" not in (line := json.loads(self._line())):
            assert line, self._failure()
            lines.append(line)
        return lines

    def close(self) -> None:
        self.process.wait(timeout=60)
        assert self.process.returncode == 0


def test_a_process_deciding_on_what_it_remembers_retries_when_another_wrote(
    centre: Centre, tmp_path: Path
) -> None:
    """Another process departs an agent, uses a key, a giver's allowance, transfers an agent
    and publishes a rulebook after this one cached them all: each recording that decided on
    a stale memory is refused by the store, read again and decided right."""
    app = centre.app
    departing, keyed, receiver, transferred, giver = centre.agents
    other_giver = keyed
    shared = initiative(keyed, 7, key="shared")
    writer = SteppedWriter(
        tmp_path,
        centre.env,
        [
            # 0: the agents, the allowances, the rulebook get remembered
            [
                initiative(departing, 1),
                initiative(keyed, 2),
                initiative(transferred, 3),
                kudos(receiver, giver, 4),
                kudos(receiver, other_giver, 5),
            ],
            # 1: nothing changed since: decided without reading
            [initiative(departing, 6), kudos(receiver, giver, 8)],
            # 2: after the other process's writes
            [
                initiative(departing, 10),
                shared,
                kudos(receiver, giver, 11),
                kudos(receiver, other_giver, 12),
                initiative(transferred, 13),
                initiative(transferred, 14),
            ],
            # 3: after a new rulebook
            [initiative(transferred, 15), initiative(transferred, 16)],
        ],
    )
    try:
        warm = writer.step()
        assert all(line.get("created") for line in warm), warm
        unchanged = writer.step()
        assert [(line.get("created"), line["reads"]) for line in unchanged] == [(True, 0)] * 2

        app.depart_agent(agent_id=departing, departed_at=NOW, recorded_by="admin", now=NOW)
        first = app.record(shared, now=NOW)
        theirs = [
            first,
            app.record(kudos(receiver, giver, 20), now=NOW),  # the cap, reached
            app.record(kudos(receiver, other_giver, 21), now=NOW),
        ]
        assert all(outcome.created for outcome in theirs)
        team = app.form_team(name="Green", formed_by="admin")
        app.transfer_agent(agent_id=transferred, team_id=team, transferred_by="admin")

        after = writer.step()
        assert [(line.get("error"), line["reads"]) for line in after] == [
            ("AgentDeparted", 1),
            (None, 1),
            ("KudosCapReached", 1),
            (None, 1),
            (None, 1),
            (None, 0),
        ]
        assert (after[1]["recording_id"], after[1]["created"]) == (first.recording_id.hex, False)
        assert [line.get("created") for line in after[3:]] == [True] * 3

        stricter = rulebook_to_data(load_default_rulebook())
        stricter["version"] = 2
        app.publish_rulebook(stricter, effective_from=NOW, published_by="admin", now=NOW)
        published = writer.step()
        assert [(line.get("created"), line["reads"]) for line in published] == [
            (True, 1),
            (True, 0),
        ]
    finally:
        writer.close()
    lines = [line for step in (warm, unchanged, after, published) for line in step]
    created = [UUID(line["recording_id"]) for line in lines if line.get("created")]
    assert_log_holds_exactly(app, created + [outcome.recording_id for outcome in theirs])
