"""Turn DATABASE_URL into the eventsourcing library's environment for its built-in recorders."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from api.lockdown import LOCKED_DOWN_RECORDER_TOPIC
from api.settings import SettingsError, sqlite_path

SQLITE_LOCK_TIMEOUT_SECONDS = "30"

# The built-in recorders, plus "these streams after these versions" in one query
# (api/recorders.py): a command reads everything it decides on in one round trip.

# The library's aggregate cache, fast-forwarded from the store on every read (one query
# for the events after the cached version), so a command reads an agent with one cheap
# query instead of a snapshot look-up plus its events; other processes' writes are seen.
AGGREGATE_CACHE = {
    "AGGREGATE_CACHE_MAXSIZE": "20000",
    "AGGREGATE_CACHE_FASTFORWARD": "y",
    "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
}


# Callcraft's events stored through the fast encoder (the library's bytes, see
# api/event_encoding.py); the name-prefixed key leaves other applications the library's mapper.
ENCODING_MAPPER = {"CALLCRAFT_MAPPER_TOPIC": "api.event_encoding:EncodingMapper"}


def event_store_env(
    database_url: str, *, schema: str | None = None, locked_down: bool = False
) -> dict[str, str]:
    """The ``env`` for ``Callcraft(env=...)``: the built-in sqlite or postgres recorder
    (``locked_down``: the role of ``callcraft db lock-down``, see ``api.lockdown``)."""
    if database_url.startswith("sqlite:///"):
        path = sqlite_path(database_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            **AGGREGATE_CACHE,
            **ENCODING_MAPPER,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": "api.recorders:StreamsSQLiteRecorder",
            "SQLITE_DBNAME": path if path != ":memory:" else "file::memory:?cache=shared",
            "SQLITE_LOCK_TIMEOUT": SQLITE_LOCK_TIMEOUT_SECONDS,
        }
    if database_url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        parts = urlsplit(database_url)
        if not parts.path.strip("/"):
            raise SettingsError("DATABASE_URL names no PostgreSQL database")
        env = {
            **AGGREGATE_CACHE,
            **ENCODING_MAPPER,
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "api.recorders:StreamsPostgresRecorder",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_LOCK_TIMEOUT": "30",
        }
        if schema:
            env["POSTGRES_SCHEMA"] = schema
        if locked_down:
            env["CREATE_TABLE"] = "n"
            env["APPLICATION_RECORDER_TOPIC"] = LOCKED_DOWN_RECORDER_TOPIC
        return env
    raise SettingsError(f"DATABASE_URL {database_url!r} is neither SQLite nor PostgreSQL")
