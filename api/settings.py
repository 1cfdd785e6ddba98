"""Settings: read once from the environment into a dataclass that is passed in explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///var/callcraft.db"


class SettingsError(ValueError):
    """A setting has a value Callcraft cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str | None = None
    timezone: str = "UTC"
    host: str = "127.0.0.1"
    port: int = 8000
    run_projector: bool = True
    projector_batch_size: int = 1000
    projector_poll_seconds: float = 0.2
    read_your_writes_timeout: float = 2.0
    demo_seed: int = 2026
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_read_database_url(self) -> str:
        """Read models live beside the events on PostgreSQL, in a file of their own on SQLite."""
        if self.read_database_url:
            return self.read_database_url
        if self.database_url.startswith("sqlite"):
            path = sqlite_path(self.database_url)
            if path == ":memory:":
                raise SettingsError("an in-memory event store needs CALLCRAFT_READ_DATABASE_URL")
            p = Path(path)
            return f"sqlite:///{p.with_name(p.stem + '-read' + (p.suffix or '.db'))}"
        return self.database_url


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise SettingsError(f"DATABASE_URL {url!r} is not a sqlite:/// URL")
    return url[len(prefix) :] or ":memory:"


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


def _number(name: str, value: str, kind: type[int] | type[float]) -> float:
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative")
    return number


def _in_range(name: str, value: str, low: int, high: int) -> int:
    number = int(_number(name, value, int))
    if not low <= number <= high:
        raise SettingsError(f"{name} must be from {low} to {high}, not {number}")
    return number


# Every setting: environment variable, default, meaning. The README's table follows this.
SETTINGS_DOC: tuple[tuple[str, str, str], ...] = (
    (
        "DATABASE_URL",
        DEFAULT_DATABASE_URL,
        "Event store: sqlite:///PATH (embedded) or postgresql+psycopg://USER:PASS@HOST:PORT/DB",
    ),
    (
        "CALLCRAFT_READ_DATABASE_URL",
        "(derived)",
        "Read models (SQLAlchemy URL). Default: PATH-read.db beside a SQLite store; the same "
        "database as the events on PostgreSQL",
    ),
    (
        "CALLCRAFT_TIMEZONE",
        "UTC",
        "The organisation's time zone (IANA name): days, weeks and months are counted in it",
    ),
    ("CALLCRAFT_HOST", "127.0.0.1", "Address `callcraft serve` listens on"),
    ("CALLCRAFT_PORT", "8000", "Port `callcraft serve` listens on"),
    (
        "CALLCRAFT_RUN_PROJECTOR",
        "true",
        "Run the projection catch-up loop inside the web process (false when a separate "
        "`callcraft project` worker runs)",
    ),
    ("CALLCRAFT_PROJECTOR_BATCH_SIZE", "1000", "Events per projection transaction"),
    ("CALLCRAFT_PROJECTOR_POLL_SECONDS", "0.2", "How often an idle projector looks for new events"),
    (
        "CALLCRAFT_READ_YOUR_WRITES_TIMEOUT",
        "2.0",
        "Seconds a write waits, at most, for the projections to show its effect",
    ),
    ("CALLCRAFT_DEMO_SEED", "2026", "Seed of `callcraft demo` (the same seed, the same centre)"),
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("sqlite:///", "postgresql")):
        raise SettingsError(
            "DATABASE_URL must start with sqlite:/// or postgresql+psycopg://, "
            f"not {database_url!r}"
        )
    timezone = get("CALLCRAFT_TIMEZONE") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"CALLCRAFT_TIMEZONE {timezone!r} is not a known time zone") from None
    defaults = Settings()
    port = get("CALLCRAFT_PORT")
    batch = get("CALLCRAFT_PROJECTOR_BATCH_SIZE")
    poll = get("CALLCRAFT_PROJECTOR_POLL_SECONDS")
    wait = get("CALLCRAFT_READ_YOUR_WRITES_TIMEOUT")
    seed = get("CALLCRAFT_DEMO_SEED")
    run_projector = get("CALLCRAFT_RUN_PROJECTOR")
    return Settings(
        database_url=database_url,
        read_database_url=get("CALLCRAFT_READ_DATABASE_URL"),
        timezone=timezone,
        host=get("CALLCRAFT_HOST") or defaults.host,
        port=_in_range("CALLCRAFT_PORT", port, 1, 65535) if port else defaults.port,
        run_projector=(_bool("CALLCRAFT_RUN_PROJECTOR", run_projector) if run_projector else True),
        projector_batch_size=(
            _in_range("CALLCRAFT_PROJECTOR_BATCH_SIZE", batch, 1, 100_000)
            if batch
            else defaults.projector_batch_size
        ),
        projector_poll_seconds=(
            _number("CALLCRAFT_PROJECTOR_POLL_SECONDS", poll, float)
            if poll
            else defaults.projector_poll_seconds
        ),
        read_your_writes_timeout=(
            _number("CALLCRAFT_READ_YOUR_WRITES_TIMEOUT", wait, float)
            if wait
            else defaults.read_your_writes_timeout
        ),
        demo_seed=int(_number("CALLCRAFT_DEMO_SEED", seed, int)) if seed else defaults.demo_seed,
    )
