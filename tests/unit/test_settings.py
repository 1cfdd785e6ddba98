"""Settings come from the environment given at the call, are checked, and say what is wrong."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.settings import (
    DEFAULT_DATABASE_URL,
    SETTINGS_DOC,
    Settings,
    SettingsError,
    load_settings,
)
from api.store import event_store_env

EVERY_VARIABLE = {
    "DATABASE_URL": "postgresql+psycopg://cc:secret@db.internal:6543/callcraft",
    "CALLCRAFT_READ_DATABASE_URL": "postgresql+psycopg://cc:secret@replica:5432/callcraft",
    "CALLCRAFT_TIMEZONE": "Europe/Lisbon",
    "CALLCRAFT_HOST": "0.0.0.0",
    "CALLCRAFT_PORT": "9090",
    "CALLCRAFT_RUN_PROJECTOR": "false",
    "CALLCRAFT_PROJECTOR_BATCH_SIZE": "250",
    "CALLCRAFT_PROJECTOR_POLL_SECONDS": "0.5",
    "CALLCRAFT_PROJECTOR_KEPT_FACTS": "2000000",
    "CALLCRAFT_PROJECTOR_CACHE_MIB": "512",
    "CALLCRAFT_READ_YOUR_WRITES_TIMEOUT": "3.5",
    "CALLCRAFT_DEMO_SEED": "7",
    "CALLCRAFT_SECURE_COOKIES": "true",
    "CALLCRAFT_SECRET_KEY": "k" * 40,
    "CALLCRAFT_SESSION_HOURS": "8",
    "CALLCRAFT_MAX_BODY_BYTES": "4096",
    "CALLCRAFT_SIGNIN_ATTEMPTS": "3",
    "CALLCRAFT_SIGNIN_WINDOW_SECONDS": "60",
    "CALLCRAFT_SIGNING_KEY_FILE": "/etc/callcraft/signing.pem",
    "CALLCRAFT_CHECKPOINT_EVERY": "500",
    "CALLCRAFT_CHECKPOINT_SECONDS": "5",
    "CALLCRAFT_DB_LOCKED_DOWN": "true",
}


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///var/callcraft.db"
    assert settings.read_database_url is None
    assert (settings.timezone, settings.host, settings.port) == ("UTC", "127.0.0.1", 8000)
    assert settings.run_projector is True
    assert settings.projector_batch_size == 1000
    assert settings.projector_poll_seconds == 0.2
    assert settings.projector_kept_facts == 1_000_000
    assert settings.projector_cache_mib == 256
    assert settings.read_your_writes_timeout == 2.0
    assert settings.demo_seed == 2026


def test_the_documented_defaults_are_the_defaults_load_settings_applies() -> None:
    settings = load_settings({})
    applied = {
        "DATABASE_URL": settings.database_url,
        "CALLCRAFT_READ_DATABASE_URL": "(derived)",
        "CALLCRAFT_TIMEZONE": settings.timezone,
        "CALLCRAFT_HOST": settings.host,
        "CALLCRAFT_PORT": str(settings.port),
        "CALLCRAFT_RUN_PROJECTOR": str(settings.run_projector).lower(),
        "CALLCRAFT_PROJECTOR_BATCH_SIZE": str(settings.projector_batch_size),
        "CALLCRAFT_PROJECTOR_POLL_SECONDS": str(settings.projector_poll_seconds),
        "CALLCRAFT_PROJECTOR_KEPT_FACTS": str(settings.projector_kept_facts),
        "CALLCRAFT_PROJECTOR_CACHE_MIB": str(settings.projector_cache_mib),
        "CALLCRAFT_READ_YOUR_WRITES_TIMEOUT": str(settings.read_your_writes_timeout),
        "CALLCRAFT_DEMO_SEED": str(settings.demo_seed),
        "CALLCRAFT_SECURE_COOKIES": str(settings.secure_cookies).lower(),
        "CALLCRAFT_SECRET_KEY": "(random)",
        "CALLCRAFT_SESSION_HOURS": str(settings.session_hours),
        "CALLCRAFT_MAX_BODY_BYTES": str(settings.max_body_bytes),
        "CALLCRAFT_SIGNIN_ATTEMPTS": str(settings.signin_attempts),
        "CALLCRAFT_SIGNIN_WINDOW_SECONDS": str(settings.signin_window_seconds),
        "CALLCRAFT_SIGNING_KEY_FILE": "(derived)",
        "CALLCRAFT_CHECKPOINT_EVERY": str(settings.checkpoint_every),
        "CALLCRAFT_CHECKPOINT_SECONDS": str(settings.checkpoint_seconds),
        "CALLCRAFT_DB_LOCKED_DOWN": str(settings.db_locked_down).lower(),
    }
    assert {name: default for name, default, _ in SETTINGS_DOC} == applied


def test_every_variable_is_read_into_its_setting() -> None:
    settings = load_settings(EVERY_VARIABLE)
    assert settings.database_url == EVERY_VARIABLE["DATABASE_URL"]
    assert settings.read_database_url == EVERY_VARIABLE["CALLCRAFT_READ_DATABASE_URL"]
    assert settings.timezone == "Europe/Lisbon"
    assert settings.zone == ZoneInfo("Europe/Lisbon")
    assert settings.host == "0.0.0.0"
    assert settings.port == 9090
    assert settings.run_projector is False
    assert settings.projector_batch_size == 250
    assert settings.projector_poll_seconds == 0.5
    assert settings.projector_kept_facts == 2_000_000
    assert settings.projector_cache_mib == 512
    assert settings.read_your_writes_timeout == 3.5
    assert settings.demo_seed == 7
    assert settings.secure_cookies is True
    assert settings.secret_key == "k" * 40
    assert settings.session_hours == 8.0
    assert settings.max_body_bytes == 4096
    assert (settings.signin_attempts, settings.signin_window_seconds) == (3, 60)
    assert settings.signing_key_file == "/etc/callcraft/signing.pem"
    assert (settings.checkpoint_every, settings.checkpoint_seconds) == (500, 5.0)
    assert settings.db_locked_down is True


def test_every_documented_variable_changes_the_settings() -> None:
    defaults = load_settings({})
    for name, _default, _meaning in SETTINGS_DOC:
        assert load_settings({name: EVERY_VARIABLE[name]}) != defaults, name


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " True "])
def test_truthy_words_switch_a_flag_on(value: str) -> None:
    assert load_settings({"CALLCRAFT_RUN_PROJECTOR": value}).run_projector is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "off"])
def test_falsy_words_switch_a_flag_off(value: str) -> None:
    assert load_settings({"CALLCRAFT_RUN_PROJECTOR": value}).run_projector is False


def test_an_empty_value_counts_as_unset() -> None:
    assert load_settings({name: "" for name, _, _ in SETTINGS_DOC}) == Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/callcraft"),
        ("DATABASE_URL", "var/callcraft.db"),
        ("CALLCRAFT_TIMEZONE", "Mars/Olympus_Mons"),
        ("CALLCRAFT_PORT", "eighty"),
        ("CALLCRAFT_PORT", "-1"),
        ("CALLCRAFT_PORT", "80.5"),
        ("CALLCRAFT_RUN_PROJECTOR", "maybe"),
        ("CALLCRAFT_PROJECTOR_BATCH_SIZE", "lots"),
        ("CALLCRAFT_PROJECTOR_BATCH_SIZE", "-10"),
        ("CALLCRAFT_PROJECTOR_POLL_SECONDS", "soon"),
        ("CALLCRAFT_PROJECTOR_POLL_SECONDS", "-0.1"),
        ("CALLCRAFT_PROJECTOR_KEPT_FACTS", "plenty"),
        ("CALLCRAFT_PROJECTOR_KEPT_FACTS", "-1"),
        ("CALLCRAFT_PROJECTOR_KEPT_FACTS", "1.5"),
        ("CALLCRAFT_PROJECTOR_CACHE_MIB", "lots"),
        ("CALLCRAFT_READ_YOUR_WRITES_TIMEOUT", "forever"),
        ("CALLCRAFT_READ_YOUR_WRITES_TIMEOUT", "-2"),
        ("CALLCRAFT_DEMO_SEED", "random"),
        ("CALLCRAFT_SECURE_COOKIES", "sometimes"),
        ("CALLCRAFT_SECRET_KEY", "too-short"),
        ("CALLCRAFT_SESSION_HOURS", "0"),
        ("CALLCRAFT_MAX_BODY_BYTES", "10"),
        ("CALLCRAFT_SIGNIN_ATTEMPTS", "0"),
        ("CALLCRAFT_SIGNIN_WINDOW_SECONDS", "never"),
        ("CALLCRAFT_CHECKPOINT_EVERY", "0"),
        ("CALLCRAFT_CHECKPOINT_SECONDS", "soon"),
        ("CALLCRAFT_DB_LOCKED_DOWN", "perhaps"),
    ],
)
def test_a_bad_value_is_refused_with_an_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_settings_are_read_at_each_call_not_cached_at_import() -> None:
    first = load_settings({"CALLCRAFT_PORT": "8001", "CALLCRAFT_TIMEZONE": "Asia/Tokyo"})
    second = load_settings({"CALLCRAFT_PORT": "8002", "CALLCRAFT_TIMEZONE": "America/Chicago"})
    assert (first.port, first.timezone) == (8001, "Asia/Tokyo")
    assert (second.port, second.timezone) == (8002, "America/Chicago")


def test_without_an_explicit_mapping_the_process_environment_is_read_at_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLCRAFT_DEMO_SEED", "11")
    assert load_settings().demo_seed == 11
    monkeypatch.setenv("CALLCRAFT_DEMO_SEED", "12")
    assert load_settings().demo_seed == 12


def test_the_read_models_get_a_file_of_their_own_beside_a_sqlite_store() -> None:
    assert load_settings({}).effective_read_database_url == "sqlite:///var/callcraft-read.db"
    settings = load_settings({"DATABASE_URL": "sqlite:////srv/cc/events.sqlite3"})
    assert settings.effective_read_database_url == "sqlite:////srv/cc/events-read.sqlite3"
    settings = load_settings({"DATABASE_URL": "sqlite:///data/events"})
    assert settings.effective_read_database_url == "sqlite:///data/events-read.db"


def test_the_read_models_live_beside_the_events_on_postgresql() -> None:
    url = "postgresql+psycopg://cc@db:5432/callcraft"
    assert load_settings({"DATABASE_URL": url}).effective_read_database_url == url


def test_an_explicit_read_database_url_wins_over_the_derived_one() -> None:
    settings = load_settings(
        {"DATABASE_URL": "sqlite:///var/a.db", "CALLCRAFT_READ_DATABASE_URL": "sqlite:///b.db"}
    )
    assert settings.effective_read_database_url == "sqlite:///b.db"


def test_an_in_memory_event_store_needs_an_explicit_read_database() -> None:
    settings = load_settings({"DATABASE_URL": "sqlite:///"})
    with pytest.raises(SettingsError, match="CALLCRAFT_READ_DATABASE_URL"):
        _ = settings.effective_read_database_url


def test_a_sqlite_url_becomes_the_builtin_sqlite_recorder_and_its_folder_is_made(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested" / "events.db"
    env = event_store_env(f"sqlite:///{path}")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == str(path)
    assert int(env["SQLITE_LOCK_TIMEOUT"]) > 0
    assert path.parent.is_dir()


def test_an_in_memory_sqlite_url_is_shared_between_connections() -> None:
    env = event_store_env("sqlite:///")
    assert env["SQLITE_DBNAME"] == "file::memory:?cache=shared"


@pytest.mark.parametrize("scheme", ["postgresql+psycopg://", "postgresql://", "postgres://"])
def test_a_postgresql_url_becomes_the_builtin_postgres_recorder(scheme: str) -> None:
    env = event_store_env(f"{scheme}cc:p%40ss%2Fword@db.internal:6543/call%20craft")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_HOST"] == "db.internal"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "cc"
    assert env["POSTGRES_PASSWORD"] == "p@ss/word"
    assert env["POSTGRES_DBNAME"] == "call craft"
    assert "POSTGRES_SCHEMA" not in env


def test_a_postgresql_url_without_port_or_password_gets_the_usual_defaults() -> None:
    env = event_store_env("postgresql+psycopg://postgres@localhost/test", schema="t_abc")
    assert (env["POSTGRES_PORT"], env["POSTGRES_PASSWORD"]) == ("5432", "")
    assert env["POSTGRES_SCHEMA"] == "t_abc"


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://postgres@localhost", "postgresql://postgres@localhost/"]
)
def test_a_postgresql_url_without_a_database_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        event_store_env(url)


def test_an_unknown_database_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        event_store_env("mysql://localhost/callcraft")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CALLCRAFT_PORT", "0"),
        ("CALLCRAFT_PORT", "70000"),
        ("CALLCRAFT_PROJECTOR_BATCH_SIZE", "0"),
        ("CALLCRAFT_PROJECTOR_KEPT_FACTS", "100000001"),
        ("CALLCRAFT_PROJECTOR_CACHE_MIB", "1"),
        ("CALLCRAFT_PROJECTOR_CACHE_MIB", "16385"),
    ],
)
def test_numbers_outside_their_range_are_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_the_signing_key_lives_beside_a_sqlite_store_unless_named() -> None:
    settings = load_settings({"DATABASE_URL": "sqlite:///srv/cc/events.db"})
    assert settings.effective_signing_key_file == Path("srv/cc/events-signing-key.pem")
    named = load_settings({"CALLCRAFT_SIGNING_KEY_FILE": "/etc/key.pem"})
    assert named.effective_signing_key_file == Path("/etc/key.pem")
