"""Fixtures shared by every layer: hypothesis profiles and the two databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from api.bootstrap import build_read_engine
from api.store import event_store_env

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "CALLCRAFT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_available() -> str | None:
    """None when PostgreSQL answers, otherwise why not."""
    try:
        with psycopg.connect(_libpq(POSTGRES_URL), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}".strip()
    return None


def require_postgres() -> None:
    """Skip (with the reason) outside CI; fail in CI, where PostgreSQL must be there."""
    problem = postgres_available()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {problem}")
    pytest.skip(problem)


@dataclass(frozen=True)
class Database:
    """One isolated place for the events and the read models of one test."""

    kind: str  # "sqlite" or "postgres"
    database_url: str
    read_url: str
    schema: str | None = None

    def event_env(self) -> dict[str, str]:
        return event_store_env(self.database_url, schema=self.schema)

    def read_engine(self):  # type: ignore[no-untyped-def]
        return build_read_engine(self.read_url, schema=self.schema)


def _postgres_schema() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def make_sqlite_database(directory: Path) -> Database:
    return Database(
        kind="sqlite",
        database_url=f"sqlite:///{directory / 'events.db'}",
        read_url=f"sqlite:///{directory / 'read.db'}",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Every test that takes this runs on both databases."""
    if request.param == "sqlite":
        yield make_sqlite_database(tmp_path)
        return
    require_postgres()
    for schema in _postgres_schema():
        yield Database(
            kind="postgres", database_url=POSTGRES_URL, read_url=POSTGRES_URL, schema=schema
        )


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Database:
    return make_sqlite_database(tmp_path)
