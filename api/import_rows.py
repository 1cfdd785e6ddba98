"""Reading an import file into rows: CSV or JSON Lines, one recognition per row.

Pure parsing, no store: every row comes out as an :class:`ImportRow` (typed, normalised) or
as a :class:`RowProblem` (line number, field, reason). Whether the row fits the store (known
agents, enrolment dates, the kudos cap, …) is checked later, by :mod:`api.importer`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Literal, NamedTuple, TextIO
from uuid import UUID

from domain.agents import HANDLE_MAX_LENGTH
from domain.competencies import competency_values, parse_competencies
from domain.exceptions import DomainError
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition

ImportFormat = Literal["csv", "jsonl"]
FORMATS: tuple[ImportFormat, ...] = ("csv", "jsonl")

COMMON_COLUMNS = (
    "agent",
    "type",
    "competencies",
    "occurred_at",
    "recorded_by",
    "note",
    "idempotency_key",
)
REQUIRED_COLUMNS = ("agent", "type", "competencies", "occurred_at", "recorded_by")
SPECIFIC_COLUMNS: Mapping[RecognitionKind, tuple[str, ...]] = {
    RecognitionKind.FEEDBACK_GIVEN: ("rating", "feedback_kind", "given_by"),
    RecognitionKind.TRAINING_COMPLETED: ("course", "score"),
    RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE: ("call_ref",),
    RecognitionKind.INITIATIVE_TAKEN: ("description",),
    RecognitionKind.KUDOS_GIVEN: ("from_agent",),
}
ALL_COLUMNS: tuple[str, ...] = (
    *COMMON_COLUMNS,
    *dict.fromkeys(c for columns in SPECIFIC_COLUMNS.values() for c in columns),
)
# The columns of the other kinds of recognition, which must stay empty.
FOREIGN_COLUMNS: Mapping[RecognitionKind, tuple[str, ...]] = {
    kind: tuple(c for c in ALL_COLUMNS if c not in COMMON_COLUMNS and c not in own)
    for kind, own in SPECIFIC_COLUMNS.items()
}
FOREIGN_COLUMN_SETS: Mapping[RecognitionKind, frozenset[str]] = {
    kind: frozenset(columns) for kind, columns in FOREIGN_COLUMNS.items()
}
_FILLED = itemgetter(1)  # a (column, cell) pair whose cell is not empty
KINDS_BY_NAME: Mapping[str, RecognitionKind] = {k.value.lower(): k for k in RecognitionKind}
RECORDED_BY_MAX_LENGTH = 100
CACHED_CELL_MAX_LENGTH = 200  # a longer competencies cell is parsed every time, never kept
DERIVED_KEY_PREFIX = "row-"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (unknown format, bad header, not UTF-8, …)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    field: str | None
    reason: str

    def describe(self) -> str:
        where = f"line {self.line}" + (f", field {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


class ImportRow(NamedTuple):
    """One parsed row. ``agent`` and ``from_agent`` are agent handles (case-folded).

    A named tuple rather than a frozen dataclass: as immutable, and made in one step rather
    than one ``object.__setattr__`` a field, once for every row of a file."""

    line: int
    kind: RecognitionKind
    agent: str
    competencies: tuple[str, ...]
    occurred_at: datetime
    recorded_by: str
    note: str
    idempotency_key: str
    key_derived: bool
    rating: int | None = None
    feedback_kind: str | None = None
    given_by: str | None = None
    course: str | None = None
    score: int | None = None
    call_ref: str | None = None
    description: str | None = None
    from_agent: str | None = None

    def command(self, agent_id: UUID, from_agent_id: UUID | None) -> RecordRecognition:
        """The row as the domain's command: every one of its fields, in its order, set at
        once (the frozen dataclass's constructor sets them one ``object.__setattr__`` each;
        a test holds both equal)."""
        command = object.__new__(RecordRecognition)
        object.__setattr__(
            command,
            "__dict__",
            {
                "kind": self.kind,
                "agent_id": agent_id,
                "competencies": self.competencies,
                "occurred_at": self.occurred_at,
                "recorded_by": self.recorded_by,
                "note": self.note,
                "idempotency_key": self.idempotency_key,
                "rating": self.rating,
                "feedback_kind": self.feedback_kind,
                "given_by": self.given_by,
                "course": self.course,
                "score": self.score,
                "call_ref": self.call_ref,
                "description": self.description,
                "from_agent": from_agent_id,
            },
        )
        return command


class _Invalid(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def format_for(filename: str, requested: str | None) -> ImportFormat:
    """The format asked for, or the one the file name suggests."""
    if requested is not None:
        if requested not in FORMATS:
            raise ImportFileError(f"unknown format {requested!r}; expected csv or jsonl")
        return "csv" if requested == "csv" else "jsonl"
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise ImportFileError(
        f"cannot tell the format of {filename!r} from its name; pass --format csv or jsonl"
    )


# ----------------------------------------------------------------------------- reading files


def read_rows(stream: TextIO, fmt: ImportFormat) -> Iterator[ImportRow | RowProblem]:
    """Every data row of the file, parsed, in file order (streams; memory stays flat)."""
    reader = _csv_records(stream) if fmt == "csv" else _jsonl_records(stream)
    try:
        for line, record in reader:
            if isinstance(record, RowProblem):
                yield record
                continue
            try:
                yield parse_record(record, line)
            except _Invalid as problem:
                yield RowProblem(line, problem.field, problem.reason)
    except UnicodeDecodeError as error:
        raise ImportFileError(f"the file is not UTF-8 text ({error.reason})") from None


def _csv_records(stream: TextIO) -> Iterator[tuple[int, Mapping[str, object] | RowProblem]]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise ImportFileError(f"line 1: the header is not valid CSV ({error})") from None
    columns = [h.strip().lower() for h in header]
    _check_columns(columns)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield line, RowProblem(line, None, f"not valid CSV ({error})")
            continue
        if not "".join(cells).strip():  # a blank row (every cell empty or spaces)
            continue
        if len(cells) != len(columns):
            yield (
                line,
                RowProblem(
                    line, None, f"has {len(cells)} cells; the header names {len(columns)} columns"
                ),
            )
            continue
        # Only the filled cells (an empty cell counts as absent): the row's dictionary made
        # in C, and the kind's foreign columns checked at once (``parse_record``).
        yield line, dict(filter(_FILLED, zip(columns, cells, strict=True)))


def _check_columns(columns: list[str]) -> None:
    unknown = [c for c in columns if c not in ALL_COLUMNS]
    if unknown:
        raise ImportFileError(
            f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; the columns are: "
            + ", ".join(ALL_COLUMNS)
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ImportFileError(f"line 1: column(s) named twice: {', '.join(duplicated)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileError(f"line 1: the header lacks the column(s) {', '.join(missing)}")


def _jsonl_records(stream: TextIO) -> Iterator[tuple[int, Mapping[str, object] | RowProblem]]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            yield line, RowProblem(line, None, f"not valid JSON ({error.msg})")
            continue
        if not isinstance(value, dict):
            yield line, RowProblem(line, None, "a line must hold one JSON object")
            continue
        unknown = [k for k in value if k not in ALL_COLUMNS]
        if unknown:
            yield line, RowProblem(line, unknown[0], f"unknown key {unknown[0]!r}")
            continue
        yield line, value


# ------------------------------------------------------------------------------ parsing rows


def _text(record: Mapping[str, object], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if type(value) is str:  # every CSV cell, nearly every JSON value: the quick way
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(name, f"{name} must be text")
    return str(value).strip() or None


def _required(record: Mapping[str, object], name: str) -> str:
    cell = record.get(name)
    if type(cell) is str:  # ``_text``'s quick way, without the call: every CSV cell
        cell = cell.strip()
        if cell:
            return cell
        raise _Invalid(name, f"{name} is required")
    value = _text(record, name)
    if value is None:
        raise _Invalid(name, f"{name} is required")
    return value


def _whole_number(record: Mapping[str, object], name: str) -> int | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _Invalid(name, f"{name} must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Invalid(name, f"{name} must be a whole number, not {value!r}")


def _handle(value: str, name: str) -> str:
    if len(value) > HANDLE_MAX_LENGTH or value.split() != [value]:
        raise _Invalid(name, f"{name} must be an agent handle (no spaces), not {value!r}")
    return value.casefold()


def _kind(record: Mapping[str, object]) -> RecognitionKind:
    value = _required(record, "type")
    kind = KINDS_BY_NAME.get(value.lower())
    if kind is not None:
        return kind
    known = ", ".join(k.value for k in RecognitionKind)
    raise _Invalid("type", f"unknown type {value!r}; expected one of: {known}")


def _competencies(record: Mapping[str, object]) -> tuple[str, ...]:
    value = record.get("competencies")
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise _Invalid("competencies", "competencies must be names")
        return _competency_names(tuple(value))
    text = _required(record, "competencies")
    if len(text) <= CACHED_CELL_MAX_LENGTH:
        return _competencies_in_cell(text)
    return _competency_names(tuple(text.split(";")))


@lru_cache(maxsize=4096)
def _competencies_in_cell(text: str) -> tuple[str, ...]:
    """A file spells its competencies the same few ways, row after row: each cell's text is
    parsed once (a refusal raises, and is never kept)."""
    return _competency_names(tuple(text.split(";")))


def _competency_names(names: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return competency_values(parse_competencies(names))
    except DomainError as error:
        raise _Invalid("competencies", error.message) from None


def _occurred_at(record: Mapping[str, object]) -> datetime:
    value = _required(record, "occurred_at")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(
            "occurred_at", f"occurred_at must be an ISO 8601 date and time, not {value!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _Invalid(
            "occurred_at", "occurred_at must include a time zone offset (e.g. +02:00 or Z)"
        )
    return moment


def parse_record(record: Mapping[str, object], line: int) -> ImportRow:
    """One row of the file as typed values; raises ``_Invalid`` naming the field."""
    kind = _kind(record)
    agent = _handle(_required(record, "agent"), "agent")
    competencies = _competencies(record)
    occurred_at = _occurred_at(record)
    recorded_by = _required(record, "recorded_by")
    if len(recorded_by) > RECORDED_BY_MAX_LENGTH:
        raise _Invalid("recorded_by", f"recorded_by is longer than {RECORDED_BY_MAX_LENGTH}")
    note = _text(record, "note") or ""
    for name in () if FOREIGN_COLUMN_SETS[kind].isdisjoint(record) else FOREIGN_COLUMNS[kind]:
        value = record.get(name)
        if value is None or value == "":  # nearly every cell: the quick way
            continue
        if not (isinstance(value, str) and not value.strip()):
            raise _Invalid(name, f"{name} does not apply to {kind.value}")
    specific: dict[str, object] = {}
    if kind is RecognitionKind.FEEDBACK_GIVEN:
        specific["rating"] = _whole_number(record, "rating")
        feedback_kind = _text(record, "feedback_kind")
        specific["feedback_kind"] = feedback_kind.lower() if feedback_kind else None
        specific["given_by"] = _text(record, "given_by")
    elif kind is RecognitionKind.TRAINING_COMPLETED:
        specific["course"] = _text(record, "course")
        specific["score"] = _whole_number(record, "score")
    elif kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE:
        specific["call_ref"] = _text(record, "call_ref")
    elif kind is RecognitionKind.INITIATIVE_TAKEN:
        specific["description"] = _text(record, "description")
    else:
        giver = _text(record, "from_agent")
        if giver is None:
            raise _Invalid("from_agent", "from_agent (the colleague's handle) is required")
        specific["from_agent"] = _handle(giver, "from_agent")
    key = _text(record, "idempotency_key")
    if key is None:
        content = {
            "type": kind.value,
            "agent": agent,
            "competencies": list(competencies),
            "occurred_at": occurred_at.astimezone(UTC).isoformat(),
            "recorded_by": recorded_by,
            "note": note,
            **specific,
        }
    return ImportRow(
        line=line,
        kind=kind,
        agent=agent,
        competencies=competencies,
        occurred_at=occurred_at,
        recorded_by=recorded_by,
        note=note,
        idempotency_key=key if key is not None else derived_idempotency_key(content),
        key_derived=key is None,
        **specific,  # type: ignore[arg-type]
    )


def derived_idempotency_key(content: Mapping[str, object]) -> str:
    """``row-`` + the first 32 hex digits of SHA-256 over the row's normalised content.

    The content is a JSON object with sorted keys: type, agent (handle, case-folded),
    competencies (canonical names, canonical order), occurred_at (UTC, ISO 8601), recorded_by,
    note (trimmed) and the type's own fields (absent ones as null). Two rows saying the same
    thing get the same key, however they were spelt, so importing a file again records nothing.
    """
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return DERIVED_KEY_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def problem_from(error: DomainError, line: int, default_field: str | None = None) -> RowProblem:
    """A domain refusal as a row problem (the field named by the exception)."""
    return RowProblem(line, error.field or default_field, error.message)
