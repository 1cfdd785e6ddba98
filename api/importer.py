"""Importing recognitions from a file: check every row first, then record in batches.

The check pass reads the file once. It parses each row and decides it, a batch at a time,
exactly as ``Callcraft.record_many`` would — against the store (one query per batch: the
agents, the recordings of the batch's idempotency keys, the givers' kudos allowances) and
against the rows before it in the file (a repeated row, a reused key, the kudos cap) — and
stages what it would append in a scratch file (``api/import_staging.py``), writing nothing
to the store. When every row is good, or bad rows are to be skipped, the recording pass
appends the staged batches, one transaction each (all or nothing), without reading the file
or deciding anything again: the staged rows go from the scratch file's cursor to the store's
insert, and the transaction itself checks that the streams the batch was decided on are as
the check saw them (``insert_rows_unless_changed`` in ``api/recorders.py``). Should the store
have changed since the check (another writer took a kudos allowance or an idempotency key, an
agent departed, a rulebook was published), that batch is decided again through
``Callcraft.record_many``, row by row if need be, and the report names what it refused.

Every row has an idempotency key (given, or derived from its content), so running an import
again records only what is not there yet; that is also what makes re-running after a crash
safe. Memory stays flat: the file is streamed, and what it decided lives in the scratch file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from tqdm import tqdm

from api.event_encoding import encoder_for
from api.import_rows import (
    ImportFormat,
    ImportRow,
    RowProblem,
    problem_from,
    read_rows,
)
from api.import_staging import ImportStaging, StagedBatch
from api.recorders import StoredRow
from domain.application import MAX_BATCH, Callcraft
from domain.exceptions import DomainError, UnknownAgent
from domain.identity import agent_id_for
from domain.recordings import RecordRecognition
from projections.collection import fewer_collections

DEFAULT_BATCH_SIZE = 1000
PROGRESS_FROM_BYTES = 256 * 1024
PROGRESS_FROM_ROWS = 2000
GC_YOUNG_THRESHOLD = 20_000
"""Allocations between the collector's young collections while an import runs, not 700:
each row makes a few dozen short-lived containers and no cycles, and the default paced a
collection every ~20 rows (3% of a row's instructions)."""


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


def _command(row: ImportRow) -> RecordRecognition:
    giver = agent_id_for(row.from_agent) if row.from_agent else None
    return row.command(agent_id_for(row.agent), giver)


def _named(error: DomainError, row: ImportRow) -> DomainError:
    """Name an unknown agent by the handle the file gave, not by its id."""
    if not isinstance(error, UnknownAgent):
        return error
    if error.field == "from_agent":
        return UnknownAgent(f"no agent with the handle {row.from_agent!r}", field="from_agent")
    return UnknownAgent(f"no agent with the handle {row.agent!r}", field="agent")


class BatchChecker:
    """Decides the rows of a file a batch at a time and stages what they would append."""

    def __init__(
        self, app: Callcraft, now: datetime, staging: ImportStaging, report: ImportReport
    ) -> None:
        self.app = app
        self.now = now
        self.staging = staging
        self.report = report
        self.good = 0
        self.encoder = encoder_for(app.mapper)

    def check(self, rows: list[ImportRow]) -> None:
        commands = [_command(row) for row in rows]

        def refuse(index: int, error: DomainError) -> None:
            row = rows[index]
            self.report.problems.append(problem_from(_named(error, row), row.line))

        prepared = self.app.prepare_recordings(
            commands, now=self.now, on_error=refuse, pending=self.staging
        )
        staged: list[int] = []
        created = 0
        for row, outcome in zip(rows, prepared.outcomes, strict=True):
            if outcome is not None:
                self.good += 1
                created += outcome.created
                staged.append(row.line)
        if staged:
            self.staging.stage(
                staged,
                prepared.decided_on,
                [self.encoder.encode_row(event) for event in prepared.events],
                created=created,
            )


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
    staging: ImportStaging,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = False,
) -> int:
    """The check pass: every row decided, the good ones staged, nothing written to the
    store. Returns the number of good rows."""
    checker = BatchChecker(app, now, staging, report)
    size = os.path.getsize(path)
    progress = _Progress(size, "B", "checking", show_progress and size >= PROGRESS_FROM_BYTES)
    batch: list[ImportRow] = []
    done = 0
    try:
        with _open(path) as stream:
            for item in read_rows(stream, fmt):
                report.rows += 1
                if isinstance(item, RowProblem):
                    report.problems.append(item)
                else:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        checker.check(batch)
                        batch = []
                if report.rows % 500 == 0:
                    position = stream.buffer.tell()
                    progress.advance(max(0, position - done))
                    done = position
        if batch:
            checker.check(batch)
    finally:
        progress.close()
    report.problems.sort(key=lambda problem: problem.line)
    return checker.good


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
    staging = ImportStaging()
    try:
        with fewer_collections(GC_YOUNG_THRESHOLD):
            good = check_file(
                app,
                path,
                fmt,
                now=now,
                report=report,
                staging=staging,
                batch_size=batch_size,
                show_progress=show_progress,
            )
            if report.problems and not skip_invalid:
                report.checked_only = True
                return report
            record_checked(
                app,
                staging,
                path,
                fmt,
                now=now,
                report=report,
                skip_invalid=skip_invalid,
                show_progress=show_progress and good >= PROGRESS_FROM_ROWS,
                good_rows=good,
            )
    finally:
        staging.close()
    return report


def record_checked(
    app: Callcraft,
    staging: ImportStaging,
    path: Path,
    fmt: ImportFormat,
    *,
    now: datetime,
    report: ImportReport,
    skip_invalid: bool,
    show_progress: bool = False,
    good_rows: int = 0,
) -> None:
    """The recording pass: append what the check pass staged, batch by batch."""
    progress = _Progress(good_rows, "row", "recording", show_progress)
    try:
        for batch in staging.batches():
            if not _record_staged(app, staging, batch, now, report, skip_invalid, path, fmt):
                report.aborted = True
                return
            progress.advance(len(batch.lines))
    finally:
        progress.close()


def _append_unless_changed(
    app: Callcraft, rows: Iterable[StoredRow], decided_on: Mapping[UUID, int]
) -> bool:
    """Append staged rows in one transaction, provided the streams they were decided on are
    as the check saw them (the agents have no newer events, no rulebook was published since):
    False, writing nothing, when one has changed. Raises the library's ``IntegrityError``
    when another writer took a version (an idempotency key, a kudos allowance's next use).

    Our recorders check inside the writing transaction; with one of the library's own the
    streams are asked first, then the events appended on their versions alone."""
    append = getattr(app.recorder, "insert_rows_unless_changed", None)
    if append is not None:
        return bool(append(rows, decided_on))
    if app.changed_streams(decided_on):
        return False
    app.append_stored(
        [StoredEvent(UUID(hex_id), version, topic, state) for hex_id, version, topic, state in rows]
    )
    return True


def _commands_at(
    path: Path, fmt: ImportFormat, lines: list[int]
) -> list[tuple[int, RecordRecognition]]:
    """The commands of these lines of the file, read again (only when a batch is decided
    again, which is rare: the file is not kept in memory)."""
    wanted = set(lines)
    return [
        (item.line, _command(item))
        for item in _parsed_rows(path, fmt)
        if isinstance(item, ImportRow) and item.line in wanted
    ]


def _record_staged(
    app: Callcraft,
    staging: ImportStaging,
    batch: StagedBatch,
    now: datetime,
    report: ImportReport,
    skip_invalid: bool,
    path: Path,
    fmt: ImportFormat,
) -> bool:
    """Append a staged batch as decided; when the store changed since, decide it again.
    (A batch of replays only has nothing to append, but is decided again all the same when
    its agents changed: a replay of a row an earlier batch failed to record is no replay.)"""
    try:
        if batch.events:
            written = _append_unless_changed(app, staging.rows(batch), batch.decided_on)
        else:
            written = not app.changed_streams(batch.decided_on)
    except IntegrityError:
        written = False  # another writer took a key or an allowance meanwhile
    if written:
        report.recorded += batch.created
        report.already_present += len(batch.lines) - batch.created
        return True
    return _record_batch(app, _commands_at(path, fmt, batch.lines), now, report, skip_invalid)


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
