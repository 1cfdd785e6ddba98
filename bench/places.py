"""Where a benchmark writes: a fresh SQLite directory or a fresh PostgreSQL schema, every time."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import Engine

from api.bootstrap import build_read_engine
from api.store import event_store_env

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def libpq(url: str) -> str:
    """A SQLAlchemy-style URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_problem(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, otherwise why not."""
    try:
        with psycopg.connect(libpq(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {url} is not reachable: {error}".strip()
    return None


@dataclass(frozen=True)
class Place:
    """One isolated store: events and read models of one benchmark."""

    kind: str  # "sqlite" or "postgres"
    database_url: str
    read_url: str
    schema: str | None = None
    directory: Path | None = None

    def event_env(self) -> dict[str, str]:
        return event_store_env(self.database_url, schema=self.schema)

    def read_engine(self) -> Engine:
        return build_read_engine(self.read_url, schema=self.schema)

    @classmethod
    def sqlite_in(cls, directory: Path) -> Place:
        """The SQLite place whose files are in ``directory``."""
        return cls(
            kind="sqlite",
            database_url=f"sqlite:///{directory / 'events.db'}",
            read_url=f"sqlite:///{directory / 'read.db'}",
            directory=directory,
        )

    @property
    def sqlite_file(self) -> Path:
        assert self.directory is not None
        return self.directory / "events.db"


class Places:
    """Makes fresh places for one database kind under one scratch root."""

    def __init__(self, kind: str, root: Path, postgres_url: str) -> None:
        self.kind = kind
        self.root = root
        self.postgres_url = postgres_url

    @contextmanager
    def fresh(self, label: str) -> Iterator[Place]:
        if self.kind == "sqlite":
            yield Place.sqlite_in(Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.root)))
            return
        schema = f"bench_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(libpq(self.postgres_url), autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        try:
            yield Place(
                kind="postgres",
                database_url=self.postgres_url,
                read_url=self.postgres_url,
                schema=schema,
            )
        finally:
            with psycopg.connect(libpq(self.postgres_url), autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
