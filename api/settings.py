"""Settings: read once from the environment into a dataclass that is passed in explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///var/callcraft.db"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024  # a batch of 1,000 recordings with full notes fits
MIN_SECRET_LENGTH = 32
DEFAULT_SIGNING_KEY_FILE = "var/callcraft-signing-key.pem"


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
    projector_kept_facts: int = 1_000_000
    projector_cache_mib: int = 256
    read_your_writes_timeout: float = 2.0
    demo_seed: int = 2026
    secure_cookies: bool = False
    secret_key: str | None = None
    session_hours: float = 12.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    signin_attempts: int = 5
    signin_window_seconds: int = 300
    signing_key_file: str | None = None
    checkpoint_every: int = 10_000
    checkpoint_seconds: float = 60.0
    db_locked_down: bool = False
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

    @property
    def effective_signing_key_file(self) -> Path:
        """The checkpoints' Ed25519 key: beside a SQLite store by default, else under var/."""
        if self.signing_key_file:
            return Path(self.signing_key_file)
        if self.database_url.startswith("sqlite"):
            path = sqlite_path(self.database_url)
            if path != ":memory:":
                p = Path(path)
                return p.with_name(p.stem + "-signing-key.pem")
        return Path(DEFAULT_SIGNING_KEY_FILE)


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


def _positive(name: str, value: str) -> float:
    number = _number(name, value, float)
    if number <= 0:
        raise SettingsError(f"{name} must be more than zero")
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
    (
        "CALLCRAFT_PROJECTOR_POLL_SECONDS",
        "0.2",
        "How often an idle projector looks for new events (on PostgreSQL `callcraft project`"
        " is also woken by each append; on SQLite 0.01 keeps the live lag to a batch)",
    ),
    (
        "CALLCRAFT_PROJECTOR_KEPT_FACTS",
        "1000000",
        "Recognitions a projector keeps in memory between batches (about 600 bytes each, "
        "resident, with the stored period XP kept beside them: a quarter of it, in "
        "periods), so that a batch need not read its agents' histories again. The default "
        "keeps every fact of 10,000 agents with 1,000,000 events (770 MB resident, "
        "measured), which cut a full-size batch from 150 to 85 ms; 0 keeps none. callcraft "
        "project and serve's projector read them all once at start, after catching up (33 s "
        "at that size)",
    ),
    (
        "CALLCRAFT_PROJECTOR_CACHE_MIB",
        "256",
        "SQLite: the page cache of the projector's connection to the read models (callcraft "
        "project, serve's projector, callcraft rebuild), in MiB "
        "(SQLite's own default is 2 MiB). A full-size batch dirties about 4,400 pages (17 MB): "
        "in 2 MiB it spilled them to the WAL mid-batch and read them back, twice the system "
        "calls a batch; the memory is taken only as pages are read. From 2 to 16384",
    ),
    (
        "CALLCRAFT_READ_YOUR_WRITES_TIMEOUT",
        "2.0",
        "Seconds a write waits, at most, for the projections to show its effect",
    ),
    ("CALLCRAFT_DEMO_SEED", "2026", "Seed of `callcraft demo` (the same seed, the same centre)"),
    (
        "CALLCRAFT_SECURE_COOKIES",
        "false",
        "Mark the session and CSRF cookies Secure: true whenever the site is served over HTTPS",
    ),
    (
        "CALLCRAFT_SECRET_KEY",
        "(random)",
        "Signs the CSRF tokens (at least 32 characters). Default: a random key per process, so "
        "set it when several web processes serve one site",
    ),
    ("CALLCRAFT_SESSION_HOURS", "12.0", "Hours a sign-in lasts"),
    (
        "CALLCRAFT_MAX_BODY_BYTES",
        str(DEFAULT_MAX_BODY_BYTES),
        "Largest request body accepted (bytes); a larger one is refused with 413",
    ),
    (
        "CALLCRAFT_SIGNIN_ATTEMPTS",
        "5",
        "Failed sign-ins allowed per username and address within the window; then 429",
    ),
    ("CALLCRAFT_SIGNIN_WINDOW_SECONDS", "300", "The window of the sign-in rate limit (seconds)"),
    (
        "CALLCRAFT_SIGNING_KEY_FILE",
        "(derived)",
        "The Ed25519 private key (PEM) that signs the chain's checkpoints. Default: PATH-signing-"
        f"key.pem beside a SQLite store, else {DEFAULT_SIGNING_KEY_FILE}; a default file is "
        "generated on first use (mode 0600), a file named here must exist",
    ),
    (
        "CALLCRAFT_CHECKPOINT_EVERY",
        "10000",
        "Sign a checkpoint of the hash chain at least every this many sealed events",
    ),
    (
        "CALLCRAFT_CHECKPOINT_SECONDS",
        "60.0",
        "After catching up, sign a checkpoint when the last one is older than this (seconds)",
    ),
    (
        "CALLCRAFT_DB_LOCKED_DOWN",
        "false",
        "PostgreSQL: the database role is the locked-down one of `callcraft db lock-down` "
        "(no UPDATE/DELETE on events): create no tables at start, lock through its function",
    ),
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
    kept = get("CALLCRAFT_PROJECTOR_KEPT_FACTS")
    cache = get("CALLCRAFT_PROJECTOR_CACHE_MIB")
    wait = get("CALLCRAFT_READ_YOUR_WRITES_TIMEOUT")
    seed = get("CALLCRAFT_DEMO_SEED")
    run_projector = get("CALLCRAFT_RUN_PROJECTOR")
    secure = get("CALLCRAFT_SECURE_COOKIES")
    secret = get("CALLCRAFT_SECRET_KEY")
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(f"CALLCRAFT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
    hours = get("CALLCRAFT_SESSION_HOURS")
    body = get("CALLCRAFT_MAX_BODY_BYTES")
    attempts = get("CALLCRAFT_SIGNIN_ATTEMPTS")
    window = get("CALLCRAFT_SIGNIN_WINDOW_SECONDS")
    every = get("CALLCRAFT_CHECKPOINT_EVERY")
    seconds = get("CALLCRAFT_CHECKPOINT_SECONDS")
    locked = get("CALLCRAFT_DB_LOCKED_DOWN")
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
        projector_kept_facts=(
            _in_range("CALLCRAFT_PROJECTOR_KEPT_FACTS", kept, 0, 100_000_000)
            if kept
            else defaults.projector_kept_facts
        ),
        projector_cache_mib=(
            _in_range("CALLCRAFT_PROJECTOR_CACHE_MIB", cache, 2, 16_384)
            if cache
            else defaults.projector_cache_mib
        ),
        read_your_writes_timeout=(
            _number("CALLCRAFT_READ_YOUR_WRITES_TIMEOUT", wait, float)
            if wait
            else defaults.read_your_writes_timeout
        ),
        demo_seed=int(_number("CALLCRAFT_DEMO_SEED", seed, int)) if seed else defaults.demo_seed,
        secure_cookies=_bool("CALLCRAFT_SECURE_COOKIES", secure) if secure else False,
        secret_key=secret,
        session_hours=(
            _positive("CALLCRAFT_SESSION_HOURS", hours) if hours else defaults.session_hours
        ),
        max_body_bytes=(
            _in_range("CALLCRAFT_MAX_BODY_BYTES", body, 1024, 1024**3)
            if body
            else defaults.max_body_bytes
        ),
        signin_attempts=(
            _in_range("CALLCRAFT_SIGNIN_ATTEMPTS", attempts, 1, 1000)
            if attempts
            else defaults.signin_attempts
        ),
        signin_window_seconds=(
            _in_range("CALLCRAFT_SIGNIN_WINDOW_SECONDS", window, 1, 86_400)
            if window
            else defaults.signin_window_seconds
        ),
        signing_key_file=get("CALLCRAFT_SIGNING_KEY_FILE"),
        checkpoint_every=(
            _in_range("CALLCRAFT_CHECKPOINT_EVERY", every, 1, 10_000_000)
            if every
            else defaults.checkpoint_every
        ),
        checkpoint_seconds=(
            _number("CALLCRAFT_CHECKPOINT_SECONDS", seconds, float)
            if seconds
            else defaults.checkpoint_seconds
        ),
        db_locked_down=_bool("CALLCRAFT_DB_LOCKED_DOWN", locked) if locked else False,
    )
