"""Replay checks run in the background for the web app: one at a time per process.

A job runs the check it was given in a thread of its own and keeps its progress (replaying,
then comparing), its outcome and the first ``MAX_SHOWN`` differences; pages and the API read
a snapshot of it (:class:`ReplayJobView`) while it runs. Jobs live in the process's memory:
the last ``KEEP`` are remembered.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from projections.projector import Progress
from projections.replay import Counted, Difference, ReplaySummary, shown

log = logging.getLogger("callcraft.replay")

MAX_SHOWN = 500
KEEP = 20
State = Literal["running", "identical", "different", "failed"]
Phase = Literal["replaying", "comparing", "done"]
Check = Callable[[Callable[[Difference], None], Progress, Counted], ReplaySummary]
"""Runs one replay check: (on_difference, rebuild progress, comparison progress)."""


@dataclass(frozen=True)
class DifferenceView:
    """A difference as the page and the API show it: values in their printed form
    (``live``/``replayed`` are null for a missing or an extra row)."""

    table: str
    key: dict[str, str]
    kind: str
    column: str | None
    live: str | None
    replayed: str | None
    description: str

    @classmethod
    def of(cls, difference: Difference) -> DifferenceView:
        changed = difference.kind == "changed"
        return cls(
            table=difference.table,
            key={name: str(value) for name, value in difference.key.items()},
            kind=difference.kind,
            column=difference.column,
            live=shown(difference.live) if changed else None,
            replayed=shown(difference.replayed) if changed else None,
            description=difference.describe(),
        )


@dataclass(frozen=True)
class ReplayJobView:
    """Where one replay check stands. ``percent`` counts the rebuild as the first half and
    the comparison as the second; ``differences`` holds at most ``MAX_SHOWN`` of the
    ``difference_count`` found."""

    id: UUID
    state: State
    phase: Phase
    percent: int
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    position: int | None
    events_replayed: int
    events_to_replay: int
    rows_compared: int
    rows_to_compare: int
    difference_count: int
    differences: list[DifferenceView]
    error: str | None

    @property
    def done(self) -> bool:
        return self.state != "running"


@dataclass
class _Job:
    id: UUID
    started_by: str
    started_at: datetime
    state: State = "running"
    phase: Phase = "replaying"
    finished_at: datetime | None = None
    position: int | None = None
    replayed: tuple[int, int] = (0, 0)
    compared: tuple[int, int] = (0, 0)
    found: int = 0
    differences: list[DifferenceView] = field(default_factory=list)
    error: str | None = None

    def percent(self) -> int:
        if self.state != "running":
            return 100
        done, total = self.compared if self.phase == "comparing" else self.replayed
        half = 50 * done // total if total else 0
        return min(99, half + (50 if self.phase == "comparing" else 0))

    def view(self) -> ReplayJobView:
        return ReplayJobView(
            id=self.id,
            state=self.state,
            phase=self.phase,
            percent=self.percent(),
            started_by=self.started_by,
            started_at=self.started_at,
            finished_at=self.finished_at,
            position=self.position,
            events_replayed=self.replayed[0],
            events_to_replay=self.replayed[1],
            rows_compared=self.compared[0],
            rows_to_compare=self.compared[1],
            difference_count=self.found,
            differences=list(self.differences),
            error=self.error,
        )


class ReplayJobs:
    """The replay checks of this process: start one (unless one runs), read any by id."""

    def __init__(self, check: Check, *, keep: int = KEEP) -> None:
        self._check = check
        self._keep = keep
        self._lock = threading.Lock()
        self._jobs: dict[UUID, _Job] = {}

    def start(self, started_by: str) -> tuple[ReplayJobView, bool]:
        """(the job, True) for a job started now; (the running one, False) if one runs."""
        with self._lock:
            running = next((j for j in self._jobs.values() if j.state == "running"), None)
            if running is not None:
                return running.view(), False
            job = _Job(id=uuid.uuid4(), started_by=started_by, started_at=datetime.now(UTC))
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                del self._jobs[next(iter(self._jobs))]
            view = job.view()
        thread = threading.Thread(
            target=self._run, args=(job,), name=f"callcraft-replay-{job.id}", daemon=True
        )
        thread.start()
        return view, True

    def get(self, job_id: UUID) -> ReplayJobView | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.view() if job else None

    def latest(self) -> ReplayJobView | None:
        with self._lock:
            return next(reversed(self._jobs.values())).view() if self._jobs else None

    def _run(self, job: _Job) -> None:
        def on_difference(difference: Difference) -> None:
            with self._lock:
                job.found += 1
                if len(job.differences) < MAX_SHOWN:
                    job.differences.append(DifferenceView.of(difference))

        def rebuilt(position: int, last: int) -> None:
            with self._lock:
                job.replayed = (position, last)

        def compared(done: int, total: int) -> None:
            with self._lock:
                job.phase = "comparing"
                job.compared = (done, total)

        try:
            summary = self._check(on_difference, rebuilt, compared)
        except Exception as error:  # reported on the job; the process carries on
            log.exception("the replay check %s failed", job.id)
            with self._lock:
                job.state, job.error = "failed", f"{type(error).__name__}: {error}"
                job.phase, job.finished_at = "done", datetime.now(UTC)
            return
        with self._lock:
            job.position = summary.position
            job.state = "identical" if summary.identical else "different"
            job.phase, job.finished_at = "done", datetime.now(UTC)
