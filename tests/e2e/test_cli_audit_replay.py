"""`callcraft audit replay` as a real subprocess, on SQLite and on PostgreSQL: exit 0 on an
untouched store; a profile's XP changed, a badge row deleted and a stray row added directly in
SQL are reported exactly, with exit 1."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.auth.tables import auth_metadata
from tests.e2e.test_cli_commands import CALLCRAFT, DEMO, Cli, environment, postgres_cli

Execute = Callable[[str], list[tuple[Any, ...]]]
__all__ = ["postgres_cli"]  # the fixture, shared with test_cli_commands
STRAY_AGENT = "0123456789abcdef0123456789abcdef"


def _sqlite_sql(path: Path) -> Execute:
    def execute(statement: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(path)) as db, db:
            return db.execute(statement).fetchall()

    return execute


def _tamper(sql: Execute, stray: str) -> list[str]:
    """Change a profile's XP, delete a badge row, add a stray row; the lines to expect."""
    agent, xp = sql("SELECT agent_id, xp_total FROM agent_profiles ORDER BY agent_id LIMIT 1")[0]
    badge_agent, key = sql(
        "SELECT agent_id, badge_key FROM agent_badges ORDER BY agent_id, badge_key LIMIT 1"
    )[0]
    sql(f"UPDATE agent_profiles SET xp_total = xp_total + 5 WHERE agent_id = '{agent}'")
    sql(f"DELETE FROM agent_badges WHERE agent_id = '{badge_agent}' AND badge_key = '{key}'")
    sql(
        'INSERT INTO period_xp ("window", period_start, competency, agent_id, xp)'
        f" VALUES ('week', '2020-01-06', 'total', '{stray}', 9)"
    )
    return [
        f"agent_badges (agent_id={uuid.UUID(str(badge_agent))}, badge_key={key}): "
        "missing from the live read models (the replay has it)",
        f"agent_profiles (agent_id={uuid.UUID(str(agent))}): xp_total is {xp + 5} live, "
        f"{xp} replayed",
        f"period_xp (agent_id={uuid.UUID(stray)}, window=week, period_start=2020-01-06, "
        "competency=total): an extra row in the live read models "
        "(the replay has none)",
    ]


def _assert_identical(cli: Cli) -> None:
    done = cli("audit", "replay")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("identical:"), done.stdout
    assert "replaying" in done.stderr
    assert "comparing" in done.stderr


def _assert_reports(cli: Cli, expected: list[str]) -> None:
    events = len(cli.events())
    done = cli("audit", "replay")
    assert done.returncode == 1, done.stdout + done.stderr
    assert sorted(done.stdout.splitlines()) == sorted(expected)
    assert "3 difference(s)" in done.stderr
    assert len(cli.events()) == events  # nothing was written to the log


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    assert CALLCRAFT.exists()
    cli = Cli(tmp_path, environment(f"sqlite:///{tmp_path / 'var' / 'events.db'}"))
    done = cli(*DEMO)
    assert done.returncode == 0, done.stderr
    return cli


def test_an_untouched_sqlite_store_replays_identically_and_exits_0(sqlite_cli: Cli) -> None:
    _assert_identical(sqlite_cli)


def test_tampered_sqlite_read_models_are_reported_exactly_and_exit_1(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    sql = _sqlite_sql(tmp_path / "var" / "events-read.db")
    _assert_reports(sqlite_cli, _tamper(sql, STRAY_AGENT))


@pytest.mark.postgres
def test_on_postgresql_an_untouched_store_exits_0_and_tampering_is_reported_exactly(
    postgres_cli: Cli,
) -> None:
    cli = postgres_cli
    done = cli(*DEMO)
    assert done.returncode == 0, done.stderr
    _assert_identical(cli)

    libpq = cli.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)

    def sql(statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(libpq, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    _assert_reports(cli, _tamper(sql, str(uuid.UUID(STRAY_AGENT))))
    with psycopg.connect(libpq, autocommit=True) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.schemata"
            " WHERE schema_name LIKE 'callcraft_replay_%'"
        ).fetchone()
    assert left == (0,)  # the scratch schemas are gone


def test_the_help_names_every_table_that_is_not_compared(tmp_path: Path) -> None:
    cli = Cli(tmp_path, environment(f"sqlite:///{tmp_path / 'events.db'}"))
    done = cli("audit", "replay", "--help")
    assert done.returncode == 0, done.stderr
    for table in auth_metadata.tables:
        assert table in done.stdout
