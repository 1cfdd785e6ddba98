"""Importing recognitions: every row checked first, all or nothing, idempotent, on both stores."""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.import_staging import ImportStaging
from api.importer import ImportReport, check_file, import_file, record_checked
from domain.application import Callcraft
from domain.identity import agent_id_for
from domain.rulebook import load_default_rulebook, rulebook_to_data
from tests.conftest import Database

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=60)
COLUMNS = [
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
]


@pytest.fixture
def app(database: Database) -> Iterator[Callcraft]:
    app = Callcraft(env=database.event_env())
    _open_centre(app, ("ana", "ben", "cleo", "dora"))
    app.depart_agent(
        now=NOW,
        agent_id=agent_id_for("dora"),
        departed_at=NOW - timedelta(days=5),
        recorded_by="admin",
    )
    yield app
    app.close()


def _open_centre(app: Callcraft, handles: tuple[str, ...]) -> None:
    """The default rulebook and one team, Billing Care, of these agents."""
    app.ensure_default_rulebook(now=NOW)
    team = app.form_team(name="Billing Care", formed_by="admin")
    for handle in handles:
        app.enrol_agent(
            handle=handle,
            name=handle.title(),
            team_id=team,
            enrolled_at=ENROLLED,
            enrolled_by="admin",
            now=NOW,
        )


def at(days_ago: float, hour: int = 10) -> str:
    return (NOW - timedelta(days=days_ago)).replace(hour=hour).isoformat()


def feedback(agent: str = "ana", **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "agent": agent,
        "type": "FeedbackGiven",
        "competencies": "communication",
        "occurred_at": at(3),
        "recorded_by": "sam",
        "note": "Clear and kind",
        "rating": 4,
    }
    row.update(changes)
    return row


def kudos(agent: str, hour: int) -> dict[str, object]:
    """Kudos from ben, a day ago at ``hour``."""
    return {
        "agent": agent,
        "type": "KudosGiven",
        "competencies": "teamwork",
        "occurred_at": at(1, hour),
        "recorded_by": "ben",
        "from_agent": "ben",
    }


def good_rows() -> list[dict[str, object]]:
    return [
        feedback(),
        feedback("ben", rating=2, feedback_kind="coaching", competencies="time_management"),
        {
            "agent": "cleo",
            "type": "TrainingCompleted",
            "competencies": "adaptability;leadership",
            "occurred_at": at(2),
            "recorded_by": "sam",
            "course": "De-escalation",
            "score": 91,
        },
        {
            "agent": "ana",
            "type": "ToughCallHandledWithGrace",
            "competencies": "customer_service",
            "occurred_at": at(1),
            "recorded_by": "sam",
            "call_ref": "CALL-1",
        },
        {
            "agent": "ben",
            "type": "InitiativeTaken",
            "competencies": "leadership",
            "occurred_at": at(1, 11),
            "recorded_by": "sam",
            "description": "Wrote a guide",
        },
        {
            "agent": "ana",
            "type": "KudosGiven",
            "competencies": "teamwork",
            "occurred_at": at(1),
            "recorded_by": "ben",
            "from_agent": "ben",
            "note": "Thanks!",
        },
    ]


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def events_in(app: Callcraft) -> int:
    return int(app.recorder.max_notification_id() or 0)


def test_a_good_csv_file_records_every_row(app: Callcraft, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "good.csv", good_rows())
    report = import_file(app, path, "csv", now=NOW)
    assert (report.rows, report.recorded, report.already_present, report.invalid) == (6, 6, 0, 0)
    assert not report.checked_only
    assert not report.aborted


def test_an_import_leaves_the_collectors_thresholds_as_it_found_them(
    app: Callcraft, tmp_path: Path
) -> None:
    before = gc.get_threshold()
    import_file(app, write_csv(tmp_path / "good.csv", good_rows()), "csv", now=NOW)
    bad = write_csv(tmp_path / "bad.csv", [feedback(rating=9)])
    assert import_file(app, bad, "csv", now=NOW).checked_only
    assert gc.get_threshold() == before


def test_importing_the_same_file_twice_records_nothing_the_second_time(
    app: Callcraft, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "good.csv", good_rows())
    import_file(app, path, "csv", now=NOW)
    before = events_in(app)
    again = import_file(app, path, "csv", now=NOW)
    assert (again.recorded, again.already_present) == (0, 6)
    assert events_in(app) == before


def test_a_file_with_bad_rows_records_nothing_and_reports_every_bad_row(
    app: Callcraft, tmp_path: Path
) -> None:
    rows = [
        *good_rows(),
        feedback("nobody"),  # line 8
        feedback(occurred_at=(NOW + timedelta(days=1)).isoformat()),  # line 9
        feedback(rating=9),  # line 10
        {
            "agent": "ana",
            "type": "KudosGiven",
            "competencies": "teamwork",
            "occurred_at": at(1),
            "recorded_by": "ana",
            "from_agent": "ana",
        },  # line 11
        feedback(occurred_at=(ENROLLED - timedelta(days=1)).isoformat()),  # line 12
        feedback("dora"),  # line 13
        feedback(competencies="charm"),  # line 14
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = events_in(app)
    report = import_file(app, path, "csv", now=NOW)
    assert report.checked_only
    assert report.recorded == 0
    assert events_in(app) == before
    found = {(p.line, p.field) for p in report.problems}
    assert found == {
        (8, "agent"),
        (9, "occurred_at"),
        (10, "rating"),
        (11, "from_agent"),
        (12, "occurred_at"),
        (13, "agent"),
        (14, "competencies"),
    }
    reasons = {p.line: p.reason for p in report.problems}
    assert "nobody" in reasons[8]
    assert "future" in reasons[9]
    assert "themselves" in reasons[11]
    assert "departed" in reasons[13]


def test_skip_invalid_records_the_good_rows_and_reports_the_bad_ones(
    app: Callcraft, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "mixed.csv", [feedback("nobody"), *good_rows(), feedback(rating=0)])
    report = import_file(app, path, "csv", now=NOW, skip_invalid=True)
    assert (report.recorded, report.invalid) == (6, 2)
    assert [p.line for p in report.problems] == [2, 9]
    again = import_file(app, path, "csv", now=NOW, skip_invalid=True)
    assert (again.recorded, again.already_present, again.invalid) == (0, 6, 2)


def test_json_lines_import_like_csv(app: Callcraft, tmp_path: Path) -> None:
    rows = good_rows()
    rows[2]["competencies"] = ["adaptability", "leadership"]
    path = write_jsonl(tmp_path / "good.jsonl", rows)
    report = import_file(app, path, "jsonl", now=NOW)
    assert (report.recorded, report.invalid) == (6, 0)
    csv_again = import_file(app, write_csv(tmp_path / "same.csv", good_rows()), "csv", now=NOW)
    assert (csv_again.recorded, csv_again.already_present) == (0, 6)


def test_the_kudos_cap_counts_the_rows_of_the_file_and_what_is_already_recorded(
    app: Callcraft, tmp_path: Path
) -> None:
    import_file(app, write_csv(tmp_path / "one.csv", [kudos("ana", 9)]), "csv", now=NOW)
    rows = [kudos("ana", 10), kudos("cleo", 11), kudos("cleo", 12)]
    report = import_file(app, write_csv(tmp_path / "more.csv", rows), "csv", now=NOW)
    assert [(p.line, p.field) for p in report.problems] == [(4, "from_agent")]
    assert "kudos" in report.problems[0].reason


def test_an_idempotency_key_reused_for_different_content_is_refused(
    app: Callcraft, tmp_path: Path
) -> None:
    import_file(
        app, write_csv(tmp_path / "a.csv", [feedback(idempotency_key="crm-1")]), "csv", now=NOW
    )
    rows = [
        feedback(idempotency_key="crm-1", rating=5),
        feedback(idempotency_key="crm-2"),
        feedback(idempotency_key="crm-2", rating=3),
    ]
    report = import_file(app, write_csv(tmp_path / "b.csv", rows), "csv", now=NOW)
    assert [(p.line, p.field) for p in report.problems] == [
        (2, "idempotency_key"),
        (4, "idempotency_key"),
    ]


def test_a_row_repeated_within_a_file_is_recorded_once(app: Callcraft, tmp_path: Path) -> None:
    report = import_file(
        app, write_csv(tmp_path / "twice.csv", [feedback(), feedback()]), "csv", now=NOW
    )
    assert (report.recorded, report.already_present) == (1, 1)


@pytest.mark.slow
def test_a_large_file_is_recorded_in_batches(app: Callcraft, tmp_path: Path) -> None:
    count = 1200
    rows = (
        feedback(["ana", "ben", "cleo"][n % 3], occurred_at=at(1 + n / 60), note=f"call {n}")
        for n in range(count)
    )
    path = tmp_path / "large.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        for row in rows:
            stream.write(json.dumps(row) + "\n")
    report = import_file(app, path, "jsonl", now=NOW, batch_size=250)
    assert (report.rows, report.recorded, report.invalid) == (count, count, 0)
    again = import_file(app, path, "jsonl", now=NOW, batch_size=1000)
    assert (again.recorded, again.already_present) == (0, count)


# --- one pass over the file, batches, and a store that changes between check and record ---


def check_only(app: Callcraft, path: Path, staging: ImportStaging, **options: Any) -> ImportReport:
    report = ImportReport()
    check_file(app, path, "csv", now=NOW, report=report, staging=staging, **options)
    return report


def changed_between_check_and_record(
    app: Callcraft, path: Path, change: Callable[[], None]
) -> ImportReport:
    """Check the file, let ``change`` happen to the store, then record (skipping refusals)."""
    staging = ImportStaging()
    try:
        report = check_only(app, path, staging)
        change()
        record_checked(app, staging, path, "csv", now=NOW, report=report, skip_invalid=True)
    finally:
        staging.close()
    return report


def test_rows_are_checked_against_the_rows_of_earlier_batches(
    app: Callcraft, tmp_path: Path
) -> None:
    rows = [
        feedback(idempotency_key="k-1"),
        kudos("ana", 9),
        feedback(),  # line 4, the same as line 5 below: recorded once
        feedback(),
        kudos("cleo", 10),
        kudos("ana", 11),
        feedback(idempotency_key="k-1", rating=1),  # line 8: key of line 2, other content
        kudos("cleo", 12),  # line 9: the giver's fourth kudos of the day
    ]
    path = write_csv(tmp_path / "batches.csv", rows)
    report = import_file(app, path, "csv", now=NOW, batch_size=2)
    assert [(p.line, p.field) for p in report.problems] == [
        (8, "idempotency_key"),
        (9, "from_agent"),
    ]
    assert report.checked_only
    skipped = import_file(app, path, "csv", now=NOW, batch_size=2, skip_invalid=True)
    assert (skipped.recorded, skipped.already_present, skipped.invalid) == (5, 1, 2)


def test_the_check_writes_nothing_to_the_store(app: Callcraft, tmp_path: Path) -> None:
    staging = ImportStaging()
    try:
        before = events_in(app)
        report = check_only(app, write_csv(tmp_path / "good.csv", good_rows()), staging)
        assert (report.rows, report.problems) == (6, [])
        assert events_in(app) == before
    finally:
        staging.close()


def test_a_row_recorded_by_another_writer_after_the_check_counts_as_already_present(
    either_recorder: Callcraft, tmp_path: Path
) -> None:
    app = either_recorder
    path = write_csv(tmp_path / "good.csv", good_rows())
    staging = ImportStaging()
    try:
        report = check_only(app, path, staging)
        import_file(app, write_csv(tmp_path / "first.csv", good_rows()[:1]), "csv", now=NOW)
        record_checked(app, staging, path, "csv", now=NOW, report=report, skip_invalid=False)
    finally:
        staging.close()
    assert (report.recorded, report.already_present, report.aborted) == (5, 1, False)
    again = import_file(app, path, "csv", now=NOW)
    assert (again.recorded, again.already_present) == (0, 6)


def test_an_agent_departed_after_the_check_stops_the_import_at_that_row(
    either_recorder: Callcraft, tmp_path: Path
) -> None:
    app = either_recorder
    path = write_csv(tmp_path / "good.csv", good_rows())
    staging = ImportStaging()
    try:
        report = check_only(app, path, staging, batch_size=3)
        app.depart_agent(
            agent_id=agent_id_for("cleo"), departed_at=NOW, recorded_by="admin", now=NOW
        )
        before = events_in(app)
        record_checked(app, staging, path, "csv", now=NOW, report=report, skip_invalid=False)
    finally:
        staging.close()
    assert report.aborted
    assert [(p.line, p.field) for p in report.problems] == [(4, "agent")]
    assert "departed" in report.problems[0].reason
    assert report.recorded == 2  # the rows before it, in their own batch
    assert events_in(app) == before + 2


def test_kudos_given_by_another_writer_after_the_check_keep_the_cap(
    either_recorder: Callcraft, tmp_path: Path
) -> None:
    app = either_recorder

    def another_writer_gives_two() -> None:
        other = write_csv(tmp_path / "other.csv", [kudos("ana", 13), kudos("cleo", 14)])
        assert import_file(app, other, "csv", now=NOW).recorded == 2

    path = write_csv(tmp_path / "kudos.csv", [kudos("ana", 9), kudos("cleo", 10)])
    report = changed_between_check_and_record(app, path, another_writer_gives_two)
    assert report.recorded == 1  # the cap is 3 a day: one of the two still fits
    assert [(p.line, p.field) for p in report.problems] == [(3, "from_agent")]


def test_the_scratch_file_is_gone_after_an_import(app: Callcraft, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    staging = ImportStaging(scratch)
    check_only(app, write_csv(tmp_path / "good.csv", good_rows()), staging)
    assert any(scratch.iterdir())
    staging.close()
    assert not any(scratch.iterdir())


def test_a_rulebook_published_after_the_check_has_the_batches_decided_again(
    either_recorder: Callcraft, tmp_path: Path
) -> None:
    app = either_recorder

    def a_stricter_rulebook() -> None:
        stricter = rulebook_to_data(load_default_rulebook())
        stricter["version"] = 2
        stricter["kudos"] = {"cap_per_giver_per_day": 1}
        effective = (NOW - timedelta(days=1)).replace(hour=8)
        app.publish_rulebook(
            stricter, effective_from=effective, published_by="admin", now=effective
        )

    path = write_csv(tmp_path / "kudos.csv", [kudos("ana", 9), kudos("cleo", 10)])
    report = changed_between_check_and_record(app, path, a_stricter_rulebook)
    assert report.recorded == 1  # the new rulebook allows one kudos a day
    assert [(p.line, p.field) for p in report.problems] == [(3, "from_agent")]


@pytest.fixture
def library_recorder_app(database: Database) -> Iterator[Callcraft]:
    """The same centre on the library's own recorder (no conditional append of rows)."""
    env = database.event_env()
    env.pop("APPLICATION_RECORDER_TOPIC")
    app = Callcraft(env=env)
    assert not hasattr(app.recorder, "insert_rows_unless_changed")
    _open_centre(app, ("ana", "ben", "cleo"))
    yield app
    app.close()


@pytest.fixture(params=["app", "library_recorder_app"], ids=["our recorder", "library recorder"])
def either_recorder(request: pytest.FixtureRequest, database: Database) -> Callcraft:
    """The centre on our recorder (the check inside the append) and on the library's own
    (the import reads the store again before it appends): a change between the check and the
    record is caught on both."""
    app: Callcraft = request.getfixturevalue(request.param)
    return app


def test_on_the_librarys_own_recorder_the_staged_rows_are_appended_as_decided(
    library_recorder_app: Callcraft, tmp_path: Path
) -> None:
    app = library_recorder_app
    rows = [feedback(), feedback("ben", rating=2), kudos("ana", 9), feedback("cleo")]
    path = write_csv(tmp_path / "four.csv", rows)
    before = events_in(app)
    report = import_file(app, path, "csv", now=NOW, batch_size=2)
    assert (report.recorded, report.already_present, report.problems) == (4, 0, [])
    assert events_in(app) == before + 5  # a kudos row is two events: the allowance's too
    stored = app.recorder.select_notifications(before + 1, 10)
    decoded = [app.mapper.to_domain_event(event) for event in stored]
    assert [type(event).__name__ for event in decoded] == [
        "FeedbackGiven",
        "FeedbackGiven",
        "KudosGiven",
        "FeedbackGiven",
        "KudosAllowanceOpened",  # a batch's allowances after its recognitions
    ]
    again = import_file(app, path, "csv", now=NOW)
    assert (again.recorded, again.already_present) == (0, 4)
