"""`callcraft export` with --format and the event log's filters, as a real subprocess."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from api.exporter import CSV_COLUMNS
from tests.e2e import test_cli_commands as commands

Cli = commands.Cli
cli = commands.cli  # the fixtures of the other CLI tests, shared
demo_store = commands.demo_store
demo_cli = commands.demo_cli


def _lines(done: object) -> list[dict[str, object]]:
    stdout = done.stdout  # type: ignore[attr-defined]
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_filtered_export_holds_exactly_the_lines_of_the_whole_export_it_selects(
    demo_cli: Cli,
) -> None:
    whole = demo_cli("export")
    assert whole.returncode == 0, whole.stderr
    everything = whole.stdout.splitlines()
    feedback = demo_cli("export", "--type", "FeedbackGiven,RecordingRetracted")
    assert feedback.returncode == 0, feedback.stderr
    expected = [
        line
        for line in everything
        if json.loads(line)["type"] in {"FeedbackGiven", "RecordingRetracted"}
    ]
    assert feedback.stdout.splitlines() == expected
    assert f"exported {len(expected)} events" in feedback.stderr


def test_export_filters_by_agent_handle_team_name_recorder_and_time(demo_cli: Cli) -> None:
    events = demo_cli.events()
    enrolled = next(e for e in events if e["type"] == "AgentEnrolled")
    handle = enrolled["data"]["handle"]  # type: ignore[index]
    about = _lines(demo_cli("export", "--agent", str(handle)))
    assert about
    assert {e["type"] for e in about} >= {"AgentEnrolled"}
    team = _lines(demo_cli("export", "--team", "Billing Care", "--type", "AgentEnrolled"))
    assert team
    assert all(e["type"] == "AgentEnrolled" for e in team)
    middle = str(events[len(events) // 2]["timestamp"])
    since = _lines(demo_cli("export", "--since", middle))
    until = _lines(demo_cli("export", "--until", middle))
    assert [e["id"] for e in until + since] == [e["id"] for e in events]
    recorder = str(next(e for e in events if e["type"] == "FeedbackGiven")["data"]["recorded_by"])  # type: ignore[index]
    mine = _lines(demo_cli("export", "--recorder", recorder, "--type", "FeedbackGiven"))
    assert mine
    assert {e["data"]["recorded_by"] for e in mine} == {recorder}  # type: ignore[index]


def test_the_csv_export_round_trips_to_the_json_lines_export(demo_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "events.csv"
    done = demo_cli("export", "--format", "csv", "-o", str(target))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    events = demo_cli.events()
    assert f"exported {len(events)} events" in done.stderr
    assert [
        {
            "id": int(r["id"]),
            "type": r["type"],
            "originator_id": r["originator_id"],
            "originator_version": int(r["originator_version"]),
            "timestamp": r["timestamp"],
            "topic": r["topic"],
            "data": json.loads(r["data"]),
        }
        for r in rows
    ] == events


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--type", "FeedbackGivn"), "--type"),
        (("--since", "last tuesday"), "--since"),
        (("--since", "2026-03-02", "--until", "2026-03-01"), "--since"),
        (("--agent", "no-such-agent"), "--agent"),
        (("--team", "No Such Team"), "--team"),
        (("--occurred-since", "soon"), "--occurred-since"),
    ],
)
def test_a_bad_filter_exits_with_1_and_names_the_option(
    demo_cli: Cli, args: tuple[str, ...], option: str
) -> None:
    done = demo_cli("export", *args)
    assert done.returncode == 1
    assert done.stdout == ""
    assert option in done.stderr


def test_an_unknown_format_is_a_usage_error(cli: Cli) -> None:
    done = cli("export", "--format", "xml")
    assert done.returncode == 2
    assert "--format" in done.stderr
