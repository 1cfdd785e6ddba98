"""PostgreSQL: after ``callcraft db lock-down``, the application's role records events (and
seals them) but cannot update, delete or truncate what is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import main
from api.runtime import open_runtime
from api.settings import Settings
from tests.conftest import POSTGRES_URL, _postgres_schema, require_postgres

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _as_role(url: str, role: str) -> str:
    return url.replace("://postgres@", f"://{role}@", 1)


@pytest.fixture
def locked_down() -> Iterator[tuple[str, str, Settings]]:
    """A schema whose store the owner filled and sealed, then locked down for a new role."""
    require_postgres()
    if "://postgres@" not in POSTGRES_URL:
        pytest.skip("the lock-down test connects as a new role through the postgres user's URL")
    role = f"cc_app_{uuid.uuid4().hex[:10]}"
    owner = Settings(database_url=POSTGRES_URL)
    for schema in _postgres_schema():
        runtime = open_runtime(owner, now=NOW, schema=schema)
        try:
            runtime.app.form_team(name="Billing", formed_by="owner")
            runtime.sealer.seal(force_checkpoint=True)
        finally:
            runtime.close()
        yield schema, role, Settings(database_url=_as_role(POSTGRES_URL, role), db_locked_down=True)
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def lock_down(schema: str, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the real command as the owner, on this test's schema."""
    import api.cli

    real = api.cli.open_runtime
    monkeypatch.setattr(
        api.cli,
        "open_runtime",
        lambda settings, **options: real(settings, **options, schema=schema),
    )
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    result = CliRunner().invoke(main, ["db", "lock-down", "--app-role", role])
    assert result.exit_code == 0, result.output
    assert f"locked down: {role} may only SELECT and INSERT" in result.output


def test_the_locked_down_role_records_and_seals_but_cannot_rewrite_the_history(
    locked_down: tuple[str, str, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, role, settings = locked_down
    lock_down(schema, role, monkeypatch)

    runtime = open_runtime(settings, now=NOW, schema=schema)
    try:
        before = runtime.log_position()
        runtime.app.form_team(name="Tech", formed_by="app")
        runtime.app.form_team(name="Sales", formed_by="app")
        assert runtime.log_position() == before + 2
        runtime.projector.catch_up()
        assert runtime.projector.position() == runtime.log_position()
        outcome = runtime.sealer.seal(force_checkpoint=True)
        assert outcome.head == runtime.log_position()
        assert runtime.integrity.verify().clean
    finally:
        runtime.close()

    url = _libpq(_as_role(POSTGRES_URL, role))
    with psycopg.connect(url, options=f"-csearch_path={schema}") as conn:
        readable = conn.execute("SELECT count(*) FROM callcraft_events").fetchone()
        assert readable == (before + 2,)
    statements = [
        "UPDATE callcraft_events SET state = state",
        "DELETE FROM callcraft_events",
        "TRUNCATE callcraft_events",
        "UPDATE callcraft_snapshots SET state = state",
        "DELETE FROM callcraft_snapshots",
        "UPDATE callcraft_chain SET link = link",
        "DELETE FROM callcraft_chain",
        "TRUNCATE callcraft_chain",
        "UPDATE callcraft_checkpoints SET signature = signature",
        "DELETE FROM callcraft_checkpoints",
        "LOCK TABLE callcraft_events IN ACCESS EXCLUSIVE MODE",
        "ALTER TABLE callcraft_events DISABLE TRIGGER ALL",
        "DROP TABLE callcraft_chain",
    ]
    for statement in statements:
        with (
            psycopg.connect(url, options=f"-csearch_path={schema}") as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege) as refused,
        ):
            conn.execute(statement)
        message = str(refused.value)
        assert "permission denied" in message or "must be owner" in message, statement


def test_lock_down_refuses_a_role_name_that_is_not_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    require_postgres()
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    result = CliRunner().invoke(main, ["db", "lock-down", "--app-role", 'x"; DROP TABLE y; --'])
    assert result.exit_code == 2
    assert "not a plain role name" in result.output


def test_lock_down_is_refused_on_sqlite(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path_factory.mktemp("lockdown-sqlite")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{directory / 'events.db'}")
    result = CliRunner().invoke(main, ["db", "lock-down", "--app-role", "app"])
    assert result.exit_code == 1
    assert "lock-down is for PostgreSQL" in result.output
