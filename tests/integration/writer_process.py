"""A writer process for the multi-process store tests.

Usage: ``python -m tests.integration.writer_process JOB.json`` (repository root on the path).
The job is JSON: ``{"env": {...}, "now": ISO, "timezone": "UTC", "commands": [...]}``, each
command as made by :func:`command_to_json`. The process opens the store, prints ``ready``,
waits for a line on stdin (so that several processes start writing at the same moment), then
records the commands one at a time and prints one JSON line per command: ``{"index": i,
"recording_id": hex, "created": bool}`` when it was acknowledged, or ``{"index": i,
"error": class name, "field": ...}`` when it was refused.

A job may give ``steps`` (lists of commands) instead of ``commands``: the process then waits
for a line before each step, records its commands and prints their lines (with ``"step"``
and ``"reads"``: how many times recording that command read the store), then
``{"done": step}``. Between two steps the parent may change the store: the process still
remembers what it read or wrote before.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.application import Callcraft
from domain.exceptions import DomainError
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition

UUID_FIELDS = ("agent_id", "from_agent")


def command_to_json(command: RecordRecognition) -> dict[str, Any]:
    data = asdict(command)
    data["kind"] = command.kind.value
    data["occurred_at"] = command.occurred_at.isoformat()
    data["competencies"] = list(command.competencies)
    for name in UUID_FIELDS:
        if data[name] is not None:
            data[name] = data[name].hex
    return data


def command_from_json(data: dict[str, Any]) -> RecordRecognition:
    fields = dict(data)
    fields["kind"] = RecognitionKind(fields["kind"])
    fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
    fields["competencies"] = tuple(fields["competencies"])
    for name in UUID_FIELDS:
        if fields[name] is not None:
            fields[name] = UUID(fields[name])
    return RecordRecognition(**fields)


def write_job(
    path: Path,
    *,
    env: dict[str, str],
    now: datetime,
    commands: list[RecordRecognition] | None = None,
    steps: list[list[RecordRecognition]] | None = None,
    timezone: str = "UTC",
) -> Path:
    job: dict[str, Any] = {"env": env, "now": now.isoformat(), "timezone": timezone}
    if commands is not None:
        job["commands"] = [command_to_json(c) for c in commands]
    if steps is not None:
        job["steps"] = [[command_to_json(c) for c in step] for step in steps]
    path.write_text(json.dumps(job))
    return path


def report(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    # The parent created the tables. Processes that all start at once and each run the
    # library's PostgreSQL set-up (``CREATE OR REPLACE FUNCTION``) can fail with "tuple
    # concurrently updated", so writers here do not repeat it.
    env = {**job["env"], "CREATE_TABLE": "n"}
    app = Callcraft(env=env, timezone=ZoneInfo(job["timezone"]))
    now = datetime.fromisoformat(job["now"])
    reads = count_reads(app)
    report({"ready": True})
    try:
        if "steps" not in job:
            sys.stdin.readline()
            record_all(app, [command_from_json(c) for c in job["commands"]], now)
            return 0
        for step, commands in enumerate(job["steps"]):
            sys.stdin.readline()
            record_all(app, [command_from_json(c) for c in commands], now, step, reads)
            report({"done": step})
    finally:
        app.close()
    return 0


def count_reads(app: Callcraft) -> list[int]:
    """Count the recorder's reads of streams (the query a recording decides on), in a
    one-item list; the reads themselves are the recorder's own."""
    reads = [0]
    select = app.recorder.select_streams_after  # type: ignore[attr-defined]

    def counted(wanted: Any) -> Any:
        reads[0] += 1
        return select(wanted)

    app.recorder.select_streams_after = counted  # type: ignore[attr-defined]
    return reads


def record_all(
    app: Callcraft,
    commands: list[RecordRecognition],
    now: datetime,
    step: int | None = None,
    reads: list[int] | None = None,
) -> None:
    for index, command in enumerate(commands):
        before = reads[0] if reads else 0
        line: dict[str, Any] = {"index": index}
        if step is not None:
            line["step"] = step
        try:
            outcome = app.record(command, now=now)
        except DomainError as error:
            line.update(error=type(error).__name__, field=error.field)
        else:
            line.update(recording_id=outcome.recording_id.hex, created=outcome.created)
        if reads is not None:
            line["reads"] = reads[0] - before
        report(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
