"""Replay-check jobs: one at a time, progress while running, the outcome and the differences
afterwards, a failure reported rather than lost. The check itself is a plain function here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import uuid4

import pytest

from projections.replay import Difference, ReplaySummary
from projections.replay_jobs import MAX_SHOWN, ReplayJobs, ReplayJobView

Report = Callable[[Difference], None]
Progress = Callable[[int, int], None]


def _wait(jobs: ReplayJobs, view: ReplayJobView) -> ReplayJobView:
    for _ in range(2000):
        current = jobs.get(view.id)
        assert current is not None
        if current.done:
            return current
        threading.Event().wait(0.01)
    pytest.fail("the job never finished")


def test_a_second_start_while_one_runs_returns_the_running_job() -> None:
    release = threading.Event()
    reached = threading.Event()

    def check(report: Report, rebuilt: Progress, compared: Progress) -> ReplaySummary:
        rebuilt(5, 10)
        reached.set()
        release.wait(30)
        compared(4, 4)
        return ReplaySummary(position=10, tables=1, rows_compared=4, differences=0)

    jobs = ReplayJobs(check)
    first, started = jobs.start("audrey")
    assert started
    assert reached.wait(30)
    running = jobs.get(first.id)
    assert running is not None
    assert (running.state, running.phase, running.percent) == ("running", "replaying", 25)
    again, started_again = jobs.start("root")
    assert (again.id, started_again) == (first.id, False)
    release.set()
    done = _wait(jobs, first)
    assert (done.state, done.phase, done.percent, done.position) == ("identical", "done", 100, 10)
    assert jobs.latest() == done


def test_differences_are_counted_all_and_kept_up_to_the_limit() -> None:
    def check(report: Report, rebuilt: Progress, compared: Progress) -> ReplaySummary:
        for n in range(MAX_SHOWN + 3):
            report(Difference("agent_profiles", {"agent_id": n}, "changed", "xp_total", n, 0))
        return ReplaySummary(position=1, tables=1, rows_compared=2, differences=MAX_SHOWN + 3)

    jobs = ReplayJobs(check)
    done = _wait(jobs, jobs.start("audrey")[0])
    assert done.state == "different"
    assert done.difference_count == MAX_SHOWN + 3
    assert len(done.differences) == MAX_SHOWN
    assert done.differences[1].live == "1"
    assert done.differences[1].replayed == "0"
    assert done.differences[1].key == {"agent_id": "1"}


def test_a_check_that_fails_is_reported_as_failed_and_the_next_one_may_start() -> None:
    def check(report: Report, rebuilt: Progress, compared: Progress) -> ReplaySummary:
        raise OSError("disk full")

    jobs = ReplayJobs(check)
    done = _wait(jobs, jobs.start("audrey")[0])
    assert done.state == "failed"
    assert done.error == "OSError: disk full"
    assert jobs.start("audrey")[1]


def test_an_unknown_job_is_none() -> None:
    assert ReplayJobs(lambda *_: ReplaySummary(0, 0, 0, 0)).get(uuid4()) is None
