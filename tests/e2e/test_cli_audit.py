"""`callcraft audit seal` and `callcraft audit verify` as real subprocesses: exit codes and
messages, a tampered store, another key, and a bad signing-key setting."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import stat
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from domain.signatures import SigningKey
from tests.child_processes import ends_with_parent
from tests.e2e.test_cli_commands import CALLCRAFT, DEMO, WAIT_SECONDS, Cli, environment


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    place = tmp_path_factory.mktemp("audit-store")
    done = Cli(place, environment(f"sqlite:///{place / 'var' / 'events.db'}"))(*DEMO)
    assert done.returncode == 0, done.stderr
    return place / "var"


@pytest.fixture
def cli(tmp_path: Path, demo_store: Path) -> Cli:
    assert CALLCRAFT.exists()
    shutil.copytree(demo_store, tmp_path / "var")
    return Cli(tmp_path, environment(f"sqlite:///{tmp_path / 'var' / 'events.db'}"))


def events_db(cli: Cli) -> Path:
    return cli.cwd / "var" / "events.db"


def event_count(cli: Cli) -> int:
    with sqlite3.connect(events_db(cli)) as conn:
        return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def test_an_unsealed_store_verifies_and_says_how_much_is_not_yet_sealed(cli: Cli) -> None:
    done = cli("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert f"not yet sealed: {event_count(cli):,} events after position 0" in done.stdout
    assert "OK:" in done.stdout


def test_seal_then_verify_reports_a_clean_history(cli: Cli) -> None:
    count = event_count(cli)
    sealed = cli("audit", "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert f"sealed {count} new events; the chain reaches position {count}" in sealed.stdout
    assert f"signed a checkpoint at {count}" in sealed.stdout
    again = cli("audit", "seal")
    assert "sealed 0 new events" in again.stdout
    assert "no new checkpoint" in again.stdout
    done = cli("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert f"checked {count:,} stored events" in done.stdout
    assert "not yet sealed" not in done.stdout
    assert "verifying" in done.stderr  # the progress bar


def test_a_tampered_store_fails_with_every_problem_named(cli: Cli) -> None:
    assert cli("audit", "seal").returncode == 0
    with sqlite3.connect(events_db(cli)) as conn:
        conn.execute("UPDATE stored_events SET state = x'7b7d' WHERE rowid = 5")
        conn.execute("DELETE FROM stored_events WHERE rowid = 9")
    done = cli("audit", "verify")
    assert done.returncode == 1
    assert "PROBLEM event-changed at 5:" in done.stdout
    assert "PROBLEM event-deleted at 9:" in done.stdout
    assert "OK:" not in done.stdout
    assert "the history does NOT verify: 2 problems" in done.stderr


def test_checkpoints_fail_against_a_public_key_that_did_not_sign_them(cli: Cli) -> None:
    assert cli("audit", "seal").returncode == 0
    stranger = cli.cwd / "stranger.pem"
    stranger.write_text(SigningKey.generate().public_key.pem)
    done = cli("audit", "verify", "--public-key", str(stranger))
    assert done.returncode == 1
    assert "PROBLEM checkpoint-signature-invalid" in done.stdout
    own = cli.cwd / "own.pem"
    key = SigningKey.from_pem((cli.cwd / "var" / "events-signing-key.pem").read_bytes())
    own.write_text(key.public_key.pem)
    assert cli("audit", "verify", "--public-key", str(own)).returncode == 0
    garbage = cli.cwd / "garbage.pem"
    garbage.write_text("not a key")
    refused = cli("audit", "verify", "--public-key", str(garbage))
    assert refused.returncode == 1
    assert "--public-key" in refused.stderr


def test_the_default_signing_key_is_generated_once_readable_only_by_its_owner(cli: Cli) -> None:
    key_file = cli.cwd / "var" / "events-signing-key.pem"
    key_file.unlink(missing_ok=True)
    assert cli("audit", "seal").returncode == 0
    first = key_file.read_bytes()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert cli("audit", "seal").returncode == 0
    assert key_file.read_bytes() == first


@pytest.mark.parametrize("content", [None, "-----BEGIN PRIVATE KEY-----\nnope\n"])
def test_a_missing_or_bad_signing_key_stops_the_start_naming_the_setting(
    cli: Cli, content: str | None
) -> None:
    named = cli.cwd / "named.pem"
    if content is not None:
        named.write_text(content)
    cli.env["CALLCRAFT_SIGNING_KEY_FILE"] = str(named)
    for command in (("audit", "verify"), ("audit", "seal")):
        done = cli(*command)
        assert done.returncode == 3, command
        assert "bad setting: CALLCRAFT_SIGNING_KEY_FILE" in done.stderr
    assert not named.exists() or named.read_text() == content


def last_checkpoint(cli: Cli) -> int | None:
    with closing(sqlite3.connect(events_db(cli), timeout=30)) as conn:
        try:
            found = conn.execute("SELECT max(position) FROM callcraft_checkpoints").fetchone()
        except sqlite3.OperationalError:  # the tables do not exist yet
            return None
    return None if found[0] is None else int(found[0])


def test_the_projection_worker_seals_the_log_and_signs_a_checkpoint(cli: Cli) -> None:
    worker = subprocess.Popen(
        [str(CALLCRAFT), "project"],
        cwd=cli.cwd,
        env=cli.env,
        stderr=subprocess.DEVNULL,
        preexec_fn=ends_with_parent(),
    )
    count = event_count(cli)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        signed = None
        while time.monotonic() < deadline and signed is None:
            signed = last_checkpoint(cli)
            time.sleep(0.1)
        assert signed == count
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=WAIT_SECONDS)
    done = cli("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert f"signed to position {count:,}" in done.stdout


def test_a_rebuild_of_the_read_models_leaves_the_chain_and_its_checkpoints_alone(cli: Cli) -> None:
    count = event_count(cli)
    assert cli("audit", "seal").returncode == 0
    assert cli("rebuild").returncode == 0
    done = cli("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert f"sealed to position {count:,}) and 1 checkpoint (signed to position {count:,}" in (
        done.stdout
    )
