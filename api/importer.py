"""Importing recognitions from a file: check every row first, then record in batches.

Pass one reads the whole file and checks each row against the domain's invariants and the
current store (unknown or departed agents, dates, ratings, self-kudos, the kudos cap, reused
idempotency keys), without writing anything. Pass two — only when every row is good, or when
bad rows are to be skipped — reads the file again and records the good rows through
``Callcraft.record_many``, a batch at a time (each batch all-or-nothing). Every row has an
idempotency key (given, or derived from its content), so running an import again records
only what is not there yet; that is also what makes re-running after a crash safe.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TextIO
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from tqdm import tqdm

from api.import_rows import (
    ImportFormat,
    ImportRow,
    RowProblem,
    problem_from,
    read_rows,
)
from domain.agents import Agent
from domain.application import MAX_BATCH, Callcraft
from domain.exceptions import (
    DomainError,
    IdempotencyKeyReused,
    KudosCapReached,
    UnknownAgent,
)
from domain.facts import RecognitionKind
from domain.identity import agent_id_for, recording_id_for
from domain.kudos import KudosAllowance
from domain.recordings import Recording, RecordRecognition, event_fields_for, fingerprint
from domain.rulebook import RulebookHistory

DEFAULT_BATCH_SIZE = 500
PROGRESS_FROM_BYTES = 256 * 1024
PROGRESS_FROM_ROWS = 2000


@dataclass
class ImportReport:
    """What an import did. ``aborted`` means the store refused a row during recording
    (something changed since the check); rows before it may have been recorded."""

    rows: int = 0
    recorded: int = 0
    already_present: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    checked_only: bool = False
    aborted: bool = False

    @property
    def invalid(self) -> int:
        return len({p.line for p in self.problems})


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


class RowChecker:
    """Checks rows against the store and against the rows of the file checked before them."""

    def __init__(self, app: Callcraft, now: datetime) -> None:
        self.app = app
        self.now = now
        self._agents: dict[str, Agent | None] = {}
        self._seen: dict[UUID, bytes] = {}
        self._kudos_used: dict[tuple[UUID, date], int] = {}
        self._rulebooks: RulebookHistory | None = None

    def _agent(self, handle: str, field_name: str) -> Agent:
        if handle not in self._agents:
            found: object
            try:
                found = self.app.repository.get(agent_id_for(handle))
            except AggregateNotFoundError:
                found = None
            self._agents[handle] = found if isinstance(found, Agent) else None
        agent = self._agents[handle]
        if agent is None:
            raise UnknownAgent(f"no agent with the handle {handle!r}", field=field_name)
        return agent

    def _kudos_cap(self, moment: datetime) -> int:
        if self._rulebooks is None:
            self._rulebooks = self.app.rulebooks()
        return self._rulebooks.in_force_at(moment).kudos_cap_per_giver_per_day

    def _kudos_given(self, giver: UUID, day: date) -> int:
        key = (giver, day)
        if key not in self._kudos_used:
            allowance: object
            try:
                allowance = self.app.repository.get(KudosAllowance.create_id(giver, day))
            except AggregateNotFoundError:
                allowance = None
            self._kudos_used[key] = allowance.used if isinstance(allowance, KudosAllowance) else 0
        return self._kudos_used[key]

    def _stored_fingerprint(self, recording_id: UUID) -> bytes | None:
        """The fingerprint of a recording already in the store (one query: its first event)."""
        for first in self.app.events.get(recording_id, limit=1):
            if isinstance(first, Recording.Recognised):
                kind = type(first).recognition_kind
                return _digest(fingerprint(kind, first.recognition_data()))
        return None

    def check(self, row: ImportRow) -> tuple[RecordRecognition, bool]:
        """The command for the row and whether it would be new; raises ``DomainError``."""
        agent = self._agent(row.agent, "agent")
        giver = None
        if row.kind is RecognitionKind.KUDOS_GIVEN and row.from_agent is not None:
            giver = self._agent(row.from_agent, "from_agent")
        command = row.command(agent.id, giver.id if giver else None)
        data = event_fields_for(command, agent, self.now, giver)
        key = data["idempotency_key"]
        recording_id = recording_id_for(row.recorded_by, key)
        print_ = _digest(fingerprint(row.kind, data))
        earlier = self._seen.get(recording_id)
        if earlier is None:
            earlier = self._stored_fingerprint(recording_id)
        if earlier is not None:
            if earlier != print_:
                raise IdempotencyKeyReused(
                    f"the idempotency key {key!r} was already used for a different recording"
                )
            return command, False
        if giver is not None:
            day = row.occurred_at.astimezone(self.app.timezone).date()
            cap = self._kudos_cap(row.occurred_at)
            given = self._kudos_given(giver.id, day)
            if given >= cap:
                raise KudosCapReached(
                    f"{giver.name} would give more than {cap} kudos on {day.isoformat()}"
                )
            self._kudos_used[(giver.id, day)] = given + 1
        self._seen[recording_id] = print_
        return command, True


class _Progress:
    def __init__(self, total: int, unit: str, desc: str, enabled: bool) -> None:
        self.bar = tqdm(
            total=total,
            unit=unit,
            desc=desc,
            disable=not enabled,
            unit_scale=unit == "B",
            leave=False,
        )

    def advance(self, amount: int) -> None:
        self.bar.update(amount)

    def close(self) -> None:
        self.bar.close()


def _open(path: Path) -> TextIO:
    return path.open(encoding="utf-8-sig", newline="")


def _parsed_rows(path: Path, fmt: ImportFormat) -> Iterator[ImportRow | RowProblem]:
    with _open(path) as stream:
        yield from read_rows(stream, fmt)


def check_file(
    app: Callcraft,
    path: Path,
    fmt: ImportFormat,
    *,
    now: datetime,
    report: ImportReport,
    show_progress: bool = False,
) -> int:
    """Pass one: every row checked, nothing written. Returns the number of good rows."""
    checker = RowChecker(app, now)
    size = os.path.getsize(path)
    progress = _Progress(size, "B", "checking", show_progress and size >= PROGRESS_FROM_BYTES)
    good = 0
    done = 0
    try:
        with _open(path) as stream:
            for item in read_rows(stream, fmt):
                report.rows += 1
                if isinstance(item, RowProblem):
                    report.problems.append(item)
                else:
                    try:
                        checker.check(item)
                        good += 1
                    except DomainError as error:
                        report.problems.append(problem_from(error, item.line))
                if report.rows % 500 == 0:
                    position = stream.buffer.tell()
                    progress.advance(max(0, position - done))
                    done = position
    finally:
        progress.close()
    return good


def import_file(
    app: Callcraft,
    path: Path,
    fmt: ImportFormat,
    *,
    now: datetime,
    skip_invalid: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = False,
) -> ImportReport:
    """Check the whole file, then record it (or its good rows, with ``skip_invalid``)."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"the batch size must be from 1 to {MAX_BATCH}, not {batch_size}")
    report = ImportReport()
    good = check_file(app, path, fmt, now=now, report=report, show_progress=show_progress)
    if report.problems and not skip_invalid:
        report.checked_only = True
        return report
    bad_lines = {p.line for p in report.problems}
    progress = _Progress(good, "row", "recording", show_progress and good >= PROGRESS_FROM_ROWS)
    batch: list[tuple[int, RecordRecognition]] = []

    def flush() -> bool:
        ok = _record_batch(app, batch, now, report, skip_invalid)
        progress.advance(len(batch))
        batch.clear()
        return ok

    try:
        for item in _parsed_rows(path, fmt):
            if isinstance(item, RowProblem) or item.line in bad_lines:
                continue
            giver = agent_id_for(item.from_agent) if item.from_agent else None
            batch.append((item.line, item.command(agent_id_for(item.agent), giver)))
            if len(batch) >= batch_size and not flush():
                report.aborted = True
                return report
        if batch and not flush():
            report.aborted = True
    finally:
        progress.close()
    return report


def _record_batch(
    app: Callcraft,
    batch: list[tuple[int, RecordRecognition]],
    now: datetime,
    report: ImportReport,
    skip_invalid: bool,
) -> bool:
    """Record a batch at once; when the store refuses it, row by row to find the culprit."""
    if not batch:
        return True
    try:
        outcomes = app.record_many([command for _line, command in batch], now=now)
    except DomainError:
        return _record_one_by_one(app, batch, now, report, skip_invalid)
    for outcome in outcomes:
        _count(report, outcome.created)
    return True


def _record_one_by_one(
    app: Callcraft,
    batch: list[tuple[int, RecordRecognition]],
    now: datetime,
    report: ImportReport,
    skip_invalid: bool,
) -> bool:
    for line, command in batch:
        try:
            outcome = app.record(command, now=now)
        except DomainError as error:
            report.problems.append(problem_from(error, line))
            if not skip_invalid:
                return False
            continue
        _count(report, outcome.created)
    return True


def _count(report: ImportReport, created: bool) -> None:
    if created:
        report.recorded += 1
    else:
        report.already_present += 1
