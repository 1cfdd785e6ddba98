"""The `callcraft` command line, run as a real subprocess (the installed entry point)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.child_processes import ends_with_parent
from tests.conftest import POSTGRES_URL, require_postgres

ROOT = Path(__file__).resolve().parents[2]
CALLCRAFT = ROOT / ".venv" / "bin" / "callcraft"
DEMO = ("demo", "--agents", "8", "--days", "14", "--seed", "3")
WAIT_SECONDS = 120


def environment(database_url: str, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CALLCRAFT_")}
    keep.pop("DATABASE_URL", None)
    return {**keep, "DATABASE_URL": database_url, **extra}


class Cli:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CALLCRAFT), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS,
            check=False,
        )

    def events(self) -> list[dict[str, object]]:
        done = self("export")
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    def handles(self) -> list[str]:
        """The handles of the agents who have not departed."""
        events = self.events()
        departed = {e["originator_id"] for e in events if e["type"] == "AgentDeparted"}
        return sorted(
            str(e["data"]["handle"])  # type: ignore[index]
            for e in events
            if e["type"] == "AgentEnrolled" and e["originator_id"] not in departed
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    assert CALLCRAFT.exists(), "install the entry point: .venv/bin/pip install -e . --no-deps"
    return Cli(tmp_path, environment(f"sqlite:///{tmp_path / 'var' / 'events.db'}"))


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo store per module; each test gets a copy of its files."""
    place = tmp_path_factory.mktemp("demo-store")
    done = Cli(place, environment(f"sqlite:///{place / 'var' / 'events.db'}"))(*DEMO)
    assert done.returncode == 0, done.stderr
    return place / "var"


@pytest.fixture
def demo_cli(cli: Cli, demo_store: Path) -> Cli:
    shutil.copytree(demo_store, cli.cwd / "var")
    return cli


def csv_file(path: Path, lines: list[str]) -> Path:
    header = "agent,type,competencies,occurred_at,recorded_by,note,idempotency_key,rating\n"
    path.write_text(header + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()


def feedback_line(handle: str, rating: str = "4", when: str | None = None) -> str:
    return (
        f"{handle},FeedbackGiven,communication,{when or yesterday()},sam,Calm and clear,,{rating}"
    )


# ------------------------------------------------------------------------------------ demo


def test_demo_fills_an_empty_store_and_prints_the_demo_passwords(cli: Cli) -> None:
    done = cli(*DEMO)
    assert done.returncode == 0, done.stderr
    assert "8 agents" in done.stdout
    for username in ("agent", "supervisor", "auditor", "admin"):
        assert f"callcraft-{username}" in done.stdout
    assert len(cli.handles()) == 7  # one of the eight departs


def test_demo_refuses_a_store_that_holds_events_unless_if_empty(demo_cli: Cli) -> None:
    before = len(demo_cli.events())
    refused = demo_cli(*DEMO)
    assert refused.returncode == 1
    assert "already holds events" in refused.stderr
    skipped = demo_cli(*DEMO, "--if-empty")
    assert skipped.returncode == 0, skipped.stderr
    assert "no demo data added" in skipped.stdout
    assert "callcraft-supervisor" in skipped.stdout, "make run reminds who can sign in"
    assert len(demo_cli.events()) == before


def test_a_bad_demo_option_is_a_usage_error(cli: Cli) -> None:
    done = cli("demo", "--agents", "2")
    assert done.returncode == 2
    assert "--agents" in done.stderr


# ---------------------------------------------------------------------------------- import


def test_import_records_a_good_file_once(demo_cli: Cli, tmp_path: Path) -> None:
    ana, ben = demo_cli.handles()[:2]
    path = csv_file(tmp_path / "good.csv", [feedback_line(ana), feedback_line(ben)])
    first = demo_cli("import", str(path))
    assert first.returncode == 0, first.stderr
    assert "recorded 2, already present 0, invalid 0" in first.stdout
    again = demo_cli("import", str(path))
    assert again.returncode == 0, again.stderr
    assert "recorded 0, already present 2, invalid 0" in again.stdout


def test_import_reports_every_bad_row_and_records_nothing(demo_cli: Cli, tmp_path: Path) -> None:
    ana = demo_cli.handles()[0]
    path = csv_file(
        tmp_path / "bad.csv",
        [
            feedback_line(ana),
            feedback_line(ana, rating="9"),
            feedback_line("nobody"),
            feedback_line(ana, when="2020-01-01T10:00:00+00:00"),
        ],
    )
    before = len(demo_cli.events())
    done = demo_cli("import", str(path))
    assert done.returncode == 1
    assert "line 3, field rating:" in done.stderr
    assert "line 4, field agent: no agent with the handle 'nobody'" in done.stderr
    assert "line 5, field occurred_at:" in done.stderr
    assert "nothing was recorded" in done.stderr
    assert "recorded 0, already present 0, invalid 3" in done.stdout
    assert len(demo_cli.events()) == before


def test_import_with_skip_invalid_records_the_good_rows(demo_cli: Cli, tmp_path: Path) -> None:
    ana = demo_cli.handles()[0]
    lines = [feedback_line(ana), feedback_line("nobody")]
    path = csv_file(tmp_path / "mixed.csv", lines)
    done = demo_cli("import", str(path), "--skip-invalid")
    assert done.returncode == 0, done.stderr
    assert "recorded 1, already present 0, invalid 1" in done.stdout
    assert "line 3, field agent" in done.stderr


def test_import_reads_json_lines(demo_cli: Cli, tmp_path: Path) -> None:
    ana = demo_cli.handles()[0]
    row = {
        "agent": ana,
        "type": "InitiativeTaken",
        "competencies": ["leadership"],
        "occurred_at": yesterday(),
        "recorded_by": "sam",
        "description": "Ran a huddle",
    }
    path = tmp_path / "rows.data"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    unknown = demo_cli("import", str(path))
    assert unknown.returncode == 1
    assert "--format" in unknown.stderr
    done = demo_cli("import", str(path), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert "recorded 1" in done.stdout


def test_import_refuses_a_file_with_an_unknown_column(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("agent,type,colour\n", encoding="utf-8")
    done = cli("import", str(path))
    assert done.returncode == 1
    assert "unknown column" in done.stderr


def test_import_of_a_missing_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    done = cli("import", str(tmp_path / "missing.csv"))
    assert done.returncode == 2


# ---------------------------------------------------------------------------------- export


def test_export_writes_every_event_to_a_file_in_log_order(demo_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "history.jsonl"
    done = demo_cli("export", "--output", str(target))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert f"exported {len(lines)} events" in done.stderr
    ids = [line["id"] for line in lines]
    assert ids == sorted(ids)
    assert lines == demo_cli.events()
    assert all(
        line["data"]["password_hash"] == "<redacted>"
        for line in lines
        if "password_hash" in line["data"]
    )


def test_export_to_an_unwritable_place_fails_clearly(cli: Cli, tmp_path: Path) -> None:
    done = cli("export", "--output", str(tmp_path / "no" / "such" / "dir" / "h.jsonl"))
    assert done.returncode == 1
    assert "cannot write" in done.stderr


# ------------------------------------------------------------------- settings and workers


def test_settings_prints_every_setting_with_its_value_and_meaning(cli: Cli) -> None:
    from api.settings import SETTINGS_DOC

    done = cli("settings")
    assert done.returncode == 0, done.stderr
    for name, _default, meaning in SETTINGS_DOC:
        assert f"{name}=" in done.stdout
        assert meaning in done.stdout
    assert "CALLCRAFT_RUN_PROJECTOR=true" in done.stdout


def test_a_bad_setting_stops_every_command_with_exit_code_3(tmp_path: Path) -> None:
    bad = Cli(tmp_path, environment("sqlite:///x.db", CALLCRAFT_TIMEZONE="Mars/Olympus"))
    for command in (("settings",), ("demo",), ("project",)):
        done = bad(*command)
        assert done.returncode == 3, command
        assert "bad setting: CALLCRAFT_TIMEZONE" in done.stderr


def test_a_database_url_of_another_kind_is_refused(tmp_path: Path) -> None:
    done = Cli(tmp_path, environment("mysql://localhost/db"))("export")
    assert done.returncode == 3
    assert "DATABASE_URL" in done.stderr


def test_rebuild_replays_the_whole_log(demo_cli: Cli) -> None:
    events = len(demo_cli.events())
    done = demo_cli("rebuild")
    assert done.returncode == 0, done.stderr
    assert f"rebuilt the read models from {events} events" in done.stdout


class Worker:
    """``callcraft project`` running in the background, stopped with SIGTERM."""

    def __init__(self, cli: Cli, **env: str) -> None:
        self.process = subprocess.Popen(
            [str(CALLCRAFT), "project"],
            cwd=cli.cwd,
            env={**cli.env, **env},
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=ends_with_parent(),
        )

    def first_line(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.readline()

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then its exit code and what else it wrote."""
        self.process.send_signal(signal.SIGTERM)
        _out, rest = self.process.communicate(timeout=WAIT_SECONDS)
        return self.process.returncode, rest

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_the_projection_worker_stops_cleanly_on_sigterm(demo_cli: Cli) -> None:
    worker = Worker(demo_cli)
    try:
        assert "projector started at position" in worker.first_line()
        code, rest = worker.stop()
    finally:
        worker.kill()
    assert code == 0, rest
    assert "received SIGTERM; stopping" in rest
    assert "projector stopped at position" in rest


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def postgres_cli(tmp_path: Path) -> Iterator[Cli]:
    require_postgres()
    name = f"cli_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield Cli(tmp_path, environment(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
def test_the_commands_work_on_postgresql_too(postgres_cli: Cli, tmp_path: Path) -> None:
    demo = postgres_cli(*DEMO)
    assert demo.returncode == 0, demo.stderr
    ana = postgres_cli.handles()[0]
    path = csv_file(tmp_path / "good.csv", [feedback_line(ana)])
    first = postgres_cli("import", str(path))
    assert "recorded 1, already present 0, invalid 0" in first.stdout, first.stderr
    again = postgres_cli("import", str(path))
    assert "recorded 0, already present 1, invalid 0" in again.stdout, again.stderr
    events = len(postgres_cli.events())
    rebuilt = postgres_cli("rebuild")
    assert f"rebuilt the read models from {events} events" in rebuilt.stdout, rebuilt.stderr


@pytest.mark.postgres
def test_on_postgresql_the_idle_worker_applies_a_new_recording_without_waiting_its_poll(
    postgres_cli: Cli, tmp_path: Path
) -> None:
    """The worker polls once an hour here: only PostgreSQL's notification can wake it."""
    assert postgres_cli(*DEMO).returncode == 0
    url = postgres_cli.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    worker = Worker(postgres_cli, CALLCRAFT_PROJECTOR_POLL_SECONDS="3600")
    try:
        assert "projector started at position" in worker.first_line()
        assert _caught_up(url), "the worker did not catch up with the demo"
        path = csv_file(tmp_path / "one.csv", [feedback_line(postgres_cli.handles()[0])])
        done = postgres_cli("import", str(path))
        assert "recorded 1" in done.stdout, done.stderr
        assert _caught_up(url), "the worker slept through the recording"
        code, rest = worker.stop()
    finally:
        worker.kill()
    assert code == 0, rest


def _caught_up(url: str, seconds: float = 60) -> bool:
    """Whether the projection reaches the end of the log within ``seconds``."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            last = conn.execute("SELECT max(notification_id) FROM callcraft_events").fetchone()
            at = conn.execute(
                "SELECT position FROM tracking WHERE projection = 'callcraft'"
            ).fetchone()
            if last and at and at[0] == last[0]:
                return True
            time.sleep(0.05)
    return False
