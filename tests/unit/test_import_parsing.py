"""Reading import files into rows: CSV and JSON Lines, line numbers, derived keys."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.import_rows import (
    ALL_COLUMNS,
    ImportFileError,
    ImportRow,
    RowProblem,
    _Invalid,
    format_for,
    parse_record,
    read_rows,
)
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition

HEADER = (
    "agent,type,competencies,occurred_at,recorded_by,note,idempotency_key,"
    "rating,feedback_kind,given_by,course,score,call_ref,description,from_agent\n"
)


def csv_rows(body: str, header: str = HEADER) -> list[ImportRow | RowProblem]:
    return list(read_rows(io.StringIO(header + body), "csv"))


def jsonl_rows(*lines: object) -> list[ImportRow | RowProblem]:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return list(read_rows(io.StringIO(text), "jsonl"))


def only_row(rows: list[ImportRow | RowProblem]) -> ImportRow:
    assert len(rows) == 1
    row = rows[0]
    assert isinstance(row, ImportRow), row
    return row


def only_problem(rows: list[ImportRow | RowProblem]) -> RowProblem:
    assert len(rows) == 1
    problem = rows[0]
    assert isinstance(problem, RowProblem), problem
    return problem


def test_a_feedback_row_becomes_a_typed_row_with_its_line_number() -> None:
    row = only_row(
        csv_rows(
            "Ana.Silva,FeedbackGiven,communication; Customer Service,2026-03-02T10:15:00+01:00,"
            "sam,Great call,,5,praise,,,,,,\n"
        )
    )
    assert row.line == 2
    assert row.kind is RecognitionKind.FEEDBACK_GIVEN
    assert row.agent == "ana.silva"
    assert row.competencies == ("communication", "customer_service")
    assert row.occurred_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert row.rating == 5
    assert row.feedback_kind == "praise"
    assert row.note == "Great call"


def test_each_kind_reads_its_own_columns() -> None:
    rows = csv_rows(
        "ana,TrainingCompleted,adaptability,2026-03-02T10:00:00Z,sam,,,,,,Billing 101,88,,,\n"
        "ana,ToughCallHandledWithGrace,customer_service,2026-03-02T10:00:00Z,sam,,,,,,,,C-7,,\n"
        "ana,InitiativeTaken,leadership,2026-03-02T10:00:00Z,sam,,,,,,,,,Wrote a guide,\n"
        "ana,KudosGiven,teamwork,2026-03-02T10:00:00Z,ben,,,,,,,,,,Ben\n"
    )
    training, call, initiative, kudos = (r for r in rows if isinstance(r, ImportRow))
    assert (training.course, training.score) == ("Billing 101", 88)
    assert call.call_ref == "C-7"
    assert initiative.description == "Wrote a guide"
    assert kudos.from_agent == "ben"


def test_a_column_that_does_not_apply_to_the_type_is_refused() -> None:
    problem = only_problem(
        csv_rows("ana,TrainingCompleted,adaptability,2026-03-02T10:00:00Z,sam,,,4,,,Course,90,,,\n")
    )
    assert (problem.line, problem.field) == (2, "rating")
    assert "does not apply to TrainingCompleted" in problem.reason


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        ("ana,Praise,communication,2026-03-02T10:00:00Z,sam", "type", "unknown type"),
        ("ana,FeedbackGiven,charm,2026-03-02T10:00:00Z,sam", "competencies", "unknown competency"),
        ("ana,FeedbackGiven,,2026-03-02T10:00:00Z,sam", "competencies", "required"),
        ("ana,FeedbackGiven,communication,2026-03-02 10:00,sam", "occurred_at", "offset"),
        ("ana,FeedbackGiven,communication,yesterday,sam", "occurred_at", "ISO 8601"),
        ("ana,FeedbackGiven,communication,2026-03-02T10:00:00Z,", "recorded_by", "required"),
        ("ana silva,FeedbackGiven,communication,2026-03-02T10:00:00Z,sam", "agent", "handle"),
        (",FeedbackGiven,communication,2026-03-02T10:00:00Z,sam", "agent", "required"),
    ],
)
def test_a_malformed_cell_is_reported_with_its_line_field_and_reason(
    cells: str, field: str, words: str
) -> None:
    header = "agent,type,competencies,occurred_at,recorded_by,rating\n"
    problem = only_problem(csv_rows(cells + ",4\n", header=header))
    assert problem.line == 2
    assert problem.field == field
    assert words in problem.reason


def test_a_rating_that_is_not_a_whole_number_is_refused() -> None:
    header = "agent,type,competencies,occurred_at,recorded_by,rating\n"
    problem = only_problem(
        csv_rows("ana,FeedbackGiven,communication,2026-03-02T10:00:00Z,sam,great\n", header)
    )
    assert problem.field == "rating"
    assert "whole number" in problem.reason


def test_line_numbers_count_physical_lines_across_blank_lines_and_quoted_newlines() -> None:
    header = "agent,type,competencies,occurred_at,recorded_by,note,rating\n"
    rows = csv_rows(
        'ana,FeedbackGiven,communication,2026-03-02T10:00:00Z,sam,"two\nlines",4\n'
        "\n"
        "ana,FeedbackGiven,communication,2026-03-02T10:00:00Z,sam,,nine\n",
        header=header,
    )
    good, bad = rows
    assert isinstance(good, ImportRow)
    assert good.line == 2
    assert good.note == "two\nlines"
    assert isinstance(bad, RowProblem)
    assert bad.line == 5


def test_a_row_with_the_wrong_number_of_cells_is_reported() -> None:
    problem = only_problem(csv_rows("ana,FeedbackGiven\n"))
    assert problem.line == 2
    assert "cells" in problem.reason


def test_an_unknown_column_refuses_the_whole_file() -> None:
    with pytest.raises(ImportFileError, match="unknown column"):
        csv_rows("", header="agent,type,competencies,occurred_at,recorded_by,ratng\n")


def test_a_missing_required_column_refuses_the_whole_file() -> None:
    with pytest.raises(ImportFileError, match="lacks the column"):
        csv_rows("", header="agent,type,occurred_at,recorded_by\n")


def test_json_lines_take_the_same_keys_and_competencies_may_be_a_list() -> None:
    rows = jsonl_rows(
        {
            "agent": "ana",
            "type": "FeedbackGiven",
            "competencies": ["Communication", "teamwork"],
            "occurred_at": "2026-03-02T10:00:00+00:00",
            "recorded_by": "sam",
            "rating": 4,
        },
        "",
        {
            "agent": "ana",
            "type": "TrainingCompleted",
            "competencies": "adaptability",
            "occurred_at": "2026-03-02T10:00:00Z",
            "recorded_by": "sam",
            "course": "X",
            "score": "90",
        },
    )
    feedback, training = rows
    assert isinstance(feedback, ImportRow)
    assert feedback.line == 1
    assert feedback.competencies == ("communication", "teamwork")
    assert isinstance(training, ImportRow)
    assert training.line == 3
    assert training.score == 90


def test_a_json_line_that_is_not_an_object_or_not_json_is_reported_by_line() -> None:
    rows = jsonl_rows("[1, 2]", "{not json", {"agent": "ana", "colour": "red"})
    assert [(p.line, p.field) for p in rows if isinstance(p, RowProblem)] == [
        (1, None),
        (2, None),
        (3, "colour"),
    ]


def test_rows_saying_the_same_thing_get_the_same_derived_key_however_spelt() -> None:
    first = only_row(
        csv_rows(
            "Ana,FeedbackGiven,Customer Service;communication,2026-03-02T11:00:00+01:00,"
            "sam, Nice ,,4,,,,,,,\n"
        )
    )
    second = only_row(
        jsonl_rows(
            {
                "agent": "ana",
                "type": "feedbackgiven",
                "competencies": ["communication", "customer_service"],
                "occurred_at": "2026-03-02T10:00:00Z",
                "recorded_by": "sam",
                "note": "Nice",
                "rating": 4,
            }
        )
    )
    assert first.key_derived
    assert second.key_derived
    assert first.idempotency_key == second.idempotency_key
    assert first.idempotency_key.startswith("row-")


def test_rows_that_differ_get_different_derived_keys() -> None:
    base = {
        "agent": "ana",
        "type": "FeedbackGiven",
        "competencies": "communication",
        "occurred_at": "2026-03-02T10:00:00Z",
        "recorded_by": "sam",
        "rating": 4,
    }
    keys = {
        only_row(jsonl_rows({**base, **change})).idempotency_key
        for change in ({}, {"rating": 5}, {"note": "x"}, {"occurred_at": "2026-03-02T10:00:01Z"})
    }
    assert len(keys) == 4


def test_a_given_idempotency_key_is_kept() -> None:
    row = only_row(
        jsonl_rows(
            {
                "agent": "ana",
                "type": "InitiativeTaken",
                "competencies": "leadership",
                "occurred_at": datetime.now(timezone(timedelta(hours=2))).isoformat(),
                "recorded_by": "sam",
                "description": "d",
                "idempotency_key": "crm-42",
            }
        )
    )
    assert (row.idempotency_key, row.key_derived) == ("crm-42", False)


@pytest.mark.parametrize(
    ("name", "requested", "expected"),
    [
        ("a.csv", None, "csv"),
        ("a.JSONL", None, "jsonl"),
        ("a.ndjson", None, "jsonl"),
        ("a.txt", "csv", "csv"),
        ("a.csv", "jsonl", "jsonl"),
    ],
)
def test_the_format_comes_from_the_option_or_the_file_name(
    name: str, requested: str | None, expected: str
) -> None:
    assert format_for(name, requested) == expected


def test_a_file_name_that_names_no_format_needs_the_option() -> None:
    with pytest.raises(ImportFileError, match="--format"):
        format_for("recognitions.txt", None)


def test_a_row_becomes_the_same_command_its_constructor_makes() -> None:
    rows = csv_rows(
        "ana,FeedbackGiven,communication,2026-03-02T10:15:00+01:00,sam,Great,k-1,5,coaching,lee,,,,,\n"
        "ana,TrainingCompleted,adaptability,2026-03-02T10:00:00Z,sam,,,,,,Billing 101,88,,,\n"
        "ana,ToughCallHandledWithGrace,customer_service,2026-03-02T10:00:00Z,sam,,,,,,,,C-7,,\n"
        "ana,InitiativeTaken,leadership,2026-03-02T10:00:00Z,sam,,,,,,,,,Wrote a guide,\n"
        "ana,KudosGiven,teamwork,2026-03-02T10:00:00Z,ben,,,,,,,,,,Ben\n"
    )
    names = [f.name for f in dataclasses.fields(RecordRecognition)]
    for row in rows:
        assert isinstance(row, ImportRow)
        giver = UUID(int=2) if row.from_agent else None
        command = row.command(UUID(int=1), giver)
        expected = RecordRecognition(
            kind=row.kind,
            agent_id=UUID(int=1),
            competencies=row.competencies,
            occurred_at=row.occurred_at,
            recorded_by=row.recorded_by,
            note=row.note,
            idempotency_key=row.idempotency_key,
            rating=row.rating,
            feedback_kind=row.feedback_kind,
            given_by=row.given_by,
            course=row.course,
            score=row.score,
            call_ref=row.call_ref,
            description=row.description,
            from_agent=giver,
        )
        assert command == expected
        assert list(vars(command).items()) == list(vars(expected).items())
        assert list(vars(command)) == names
        assert hash(command) == hash(expected)
        with pytest.raises(dataclasses.FrozenInstanceError):
            command.note = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("blank", ["", "   "])
@pytest.mark.parametrize("field", ["agent", "type", "occurred_at", "recorded_by"])
def test_a_required_cell_left_blank_is_refused_by_name_in_csv_and_json(
    field: str, blank: str
) -> None:
    row = {
        "agent": "ana",
        "type": "FeedbackGiven",
        "competencies": "communication",
        "occurred_at": "2026-03-02T10:00:00Z",
        "recorded_by": "sam",
        "rating": "4",
    }
    row[field] = blank
    header = ",".join(row) + "\n"
    for problem in (
        only_problem(csv_rows(",".join(row.values()) + "\n", header=header)),
        only_problem(jsonl_rows(row)),
    ):
        assert (problem.field, problem.reason) == (field, f"{field} is required")
    row[field] = None  # type: ignore[assignment]
    assert only_problem(jsonl_rows(row)).reason == f"{field} is required"


# Cells each column may hold: mostly empty or a good value, sometimes blank or bad.
CELL_VALUES: dict[str, tuple[list[str], list[str]]] = {
    "agent": (["ana"], ["", " ", "ana silva"]),
    "type": (
        [
            "FeedbackGiven",
            "TrainingCompleted",
            "KudosGiven",
            "InitiativeTaken",
            "ToughCallHandledWithGrace",
        ],
        ["", "Praise"],
    ),
    "competencies": (["communication", "Customer Service;teamwork"], ["", " ", "charm"]),
    "occurred_at": (["2026-03-02T10:00:00Z", "2026-03-02T12:00:00+02:00"], ["", "yesterday"]),
    "recorded_by": (["sam"], ["", " "]),
    "note": (["", "Great call"], [" "]),
    "idempotency_key": (["", "key-1"], [" "]),
    "rating": (["", "4"], [" ", "four"]),
    "feedback_kind": (["", "coaching"], [" "]),
    "given_by": (["", "lee"], [" "]),
    "course": (["", "Billing 101"], [" "]),
    "score": (["", "88"], ["x"]),
    "call_ref": (["", "C-7"], [" "]),
    "description": (["", "Wrote a guide"], [" "]),
    "from_agent": (["", "ben"], [" ", "ben x"]),
}
CELLS = st.fixed_dictionaries(
    {c: st.sampled_from(good * 6 + bad) for c, (good, bad) in CELL_VALUES.items()}
)


@settings(max_examples=300)
@given(CELLS)
def test_a_csv_row_reads_as_its_every_cell_would_empty_cells_being_absent(
    cells: dict[str, str],
) -> None:
    """A CSV row's dictionary holds only its filled cells: what it parses to (the row, or
    the problem's field and reason) is what the row with every cell, empty ones too, gives."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([cells[c] for c in ALL_COLUMNS])
    header = ",".join(ALL_COLUMNS) + "\n"
    parsed = csv_rows(line.getvalue(), header=header)
    expected: ImportRow | RowProblem
    try:
        expected = parse_record(cells, 2)
    except _Invalid as problem:
        expected = RowProblem(2, problem.field, problem.reason)
    if not "".join(cells.values()).strip():
        assert parsed == []  # a blank row is skipped
    else:
        assert parsed == [expected]
