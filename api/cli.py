"""The ``callcraft`` command line.

Every command reads the settings once (``load_settings()``), opens what it needs and
publishes the default rulebook when the store has none. Exit codes: 0 done; 1 the input or
the store's state was refused (bad rows, a non-empty store for ``demo``, an unwritable file);
2 the command line itself is wrong (click's usage errors); 3 a setting is bad or the store
cannot be opened.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import click
from eventsourcing.persistence import PersistenceError
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from api.collector import BatchCollector
from api.demo import (
    DEFAULT_AGENTS,
    DEFAULT_DAYS,
    DEMO_PASSWORDS,
    StoreNotEmpty,
    fill_demo,
    store_is_empty,
)
from api.exporter import FORMATS as EXPORT_FORMATS
from api.exporter import export_lines, write_all
from api.import_rows import FORMATS, ImportFileError, format_for
from api.importer import DEFAULT_BATCH_SIZE, ImportReport, import_file
from api.integrity_text import report_lines, summary
from api.lockdown import (
    BadRoleName,
    apply_lockdown,
    check_role_name,
    lockdown_statements,
    other_tables,
)
from api.log_waker import LogWaker, waker_for
from api.replay import replay_runtime, run_replay_check
from api.runtime import Runtime, open_runtime
from api.settings import SETTINGS_DOC, Settings, SettingsError, load_settings
from api.standings import StandingsError, leaderboard_text, profile_text
from domain.application import MAX_BATCH, Callcraft
from domain.competencies import ALL_COMPETENCIES
from domain.exceptions import DomainError, UnknownUser
from domain.signatures import InvalidKey, public_key_from_pem
from projections.event_filters import FilterText, parse_filter
from projections.queries import MAX_LIMIT, SCOPES, WINDOW_NAMES, QueryError
from projections.rebuild import rebuild as rebuild_read_models
from projections.replay import Difference, ReplaySummary

EXIT_REFUSED = 1
EXIT_SETTINGS = 3
REBUILD_BATCH_SIZE = 5000


class Refused(click.ClickException):
    """The input or the store's state was refused; nothing (more) was changed."""

    exit_code = EXIT_REFUSED


class CannotStart(click.ClickException):
    """A setting is bad, or the store cannot be opened."""

    exit_code = EXIT_SETTINGS


def _settings() -> Settings:
    try:
        settings = load_settings()
        settings.effective_read_database_url  # noqa: B018 - validates the derived URL too
    except SettingsError as error:
        raise CannotStart(f"bad setting: {error}") from None
    return settings


@contextmanager
def _runtime(
    settings: Settings, now: datetime, *, publish_default_rulebook: bool = True
) -> Iterator[Runtime]:
    try:
        runtime = open_runtime(settings, now=now, publish_default_rulebook=publish_default_rulebook)
    except SettingsError as error:
        raise CannotStart(f"bad setting: {error}") from None
    except (PersistenceError, SQLAlchemyError, OSError) as error:
        raise CannotStart(_cannot_open(settings, error)) from None
    try:
        yield runtime
    finally:
        runtime.close()


def _cannot_open(settings: Settings, error: Exception) -> str:
    return f"cannot open the store ({_safe_url(settings.database_url)}): {error}"


def _safe_url(url: str) -> str:
    """The URL with its password hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _progress_bar(
    desc: str, start: int = 0
) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A tqdm bar on stderr fed with (position, last notification id), from ``start``."""
    bar = tqdm(desc=desc, unit="event", unit_scale=True, file=sys.stderr, leave=True)

    def update(position: int, last: int) -> None:
        bar.total = max(last - start, 0)
        bar.n = max(position - start, 0)
        bar.refresh()

    return update, bar.close


def _catch_up(runtime: Runtime, desc: str) -> int:
    update, close = _progress_bar(desc, runtime.projector.position())
    try:
        return runtime.projector.catch_up(update)
    finally:
        close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callcraft", prog_name="callcraft")
def main() -> None:
    """Callcraft: a gamified, event-sourced competency tracker for contact-centre agents.

    Settings come from the environment; `callcraft settings` lists them.
    """


# ------------------------------------------------------------------------------------ demo


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the store holds events.")
@click.option("--seed", type=int, default=None, help="Random seed (default: CALLCRAFT_DEMO_SEED).")
@click.option(
    "--agents",
    type=click.IntRange(6, 500),
    default=DEFAULT_AGENTS,
    show_default=True,
    help="How many agents.",
)
@click.option(
    "--days",
    type=click.IntRange(7, 730),
    default=DEFAULT_DAYS,
    show_default=True,
    help="How many days of history, ending today.",
)
def demo(if_empty: bool, seed: int | None, agents: int, days: int) -> None:
    """Fill an EMPTY store with a demo contact centre, then catch up the read models."""
    settings = _settings()
    now = datetime.now(UTC)
    # fill_demo publishes the default rulebook itself, stamped at the start of its history
    with _runtime(settings, now, publish_default_rulebook=False) as runtime:
        if not store_is_empty(runtime.app):
            if if_empty:
                click.echo("The store already holds events; no demo data added.")
                _echo_existing_demo_accounts(runtime.app)
                return
            raise Refused(
                "the store already holds events; the demo only fills an empty store "
                "(use --if-empty to make this a no-op)"
            )
        chosen_seed = settings.demo_seed if seed is None else seed
        click.echo(
            f"Filling the store with a demo centre: {agents} agents, {days} days, "
            f"seed {chosen_seed} …",
            err=True,
        )
        try:
            summary = fill_demo(runtime.app, now=now, seed=chosen_seed, agents=agents, days=days)
        except StoreNotEmpty as error:  # another process got there first
            raise Refused(str(error)) from None
        _catch_up(runtime, "projecting")
    click.echo(
        f"Demo centre recorded: {summary.teams} teams, {summary.agents} agents, "
        f"{summary.users} user accounts, {summary.recordings} recognitions, "
        f"{summary.retractions} retractions, {summary.transfers} transfers, "
        f"{summary.departures} departure."
    )
    _echo_accounts(summary.passwords)


def _echo_accounts(passwords: Mapping[str, str]) -> None:
    click.echo("Sign in with these demo accounts (fixed demo passwords; never use them for real):")
    for username, password in passwords.items():
        click.echo(f"  {username:<11} {password}")


def _echo_existing_demo_accounts(app: Callcraft) -> None:
    """On a store an earlier demo filled, remind who can sign in (when those users exist)."""
    present: dict[str, str] = {}
    for username, password in DEMO_PASSWORDS.items():
        try:
            app.user_named(username)
        except UnknownUser:
            continue
        present[username] = password
    if present:
        _echo_accounts(present)


# ---------------------------------------------------------------------------------- import


def _print_report(report: ImportReport, skip_invalid: bool) -> None:
    for problem in report.problems:
        click.echo(problem.describe(), err=True)
    click.echo(
        f"recorded {report.recorded}, already present {report.already_present}, "
        f"invalid {report.invalid}"
    )
    if report.checked_only:
        raise Refused(
            f"{report.invalid} of {report.rows} rows are invalid; nothing was recorded. "
            "Fix them, or pass --skip-invalid to record the valid rows."
        )
    if report.aborted:
        raise Refused(
            "the store refused a row while recording (it changed since the check); the rows "
            "before it are recorded. Fix the row and run the import again: rows already "
            "recorded are recognised by their idempotency keys and not recorded twice."
        )
    if report.problems and skip_invalid:
        click.echo(f"skipped {report.invalid} invalid rows (--skip-invalid)", err=True)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="csv or jsonl (default: from the file name: .csv, .jsonl/.ndjson/.json).",
)
@click.option("--skip-invalid", is_flag=True, help="Record the valid rows, report the others.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Recordings per store transaction.",
)
def import_(file: Path, fmt: str | None, skip_invalid: bool, batch_size: int) -> None:
    """Record recognitions from a CSV or JSON Lines FILE (see docs/import-format.md).

    Every row is checked first; when any row is invalid nothing is recorded (exit 1) unless
    --skip-invalid. Importing the same file again records nothing new.
    """
    settings = _settings()
    try:
        chosen = format_for(file.name, fmt)
    except ImportFileError as error:
        raise Refused(str(error)) from None
    now = datetime.now(UTC)
    with _runtime(settings, now) as runtime:
        try:
            report = import_file(
                runtime.app,
                file,
                chosen,
                now=now,
                skip_invalid=skip_invalid,
                batch_size=batch_size,
                show_progress=True,
            )
        except ImportFileError as error:
            raise Refused(f"{file}: {error}") from None
    _print_report(report, skip_invalid)


# ---------------------------------------------------------------------------------- export


@main.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    show_default=True,
    help="Where to write (- for standard output).",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    default="jsonl",
    show_default=True,
    help="JSON Lines (one event per line) or CSV (with a header).",
)
@click.option("--agent", metavar="HANDLE", help="Only events about this agent (handle or id).")
@click.option("--team", metavar="NAME", help="Only events of this team (name or id).")
@click.option("--type", "kinds", metavar="TYPE", help="Only these event types (comma-separated).")
@click.option("--recorder", metavar="WHO", help="Only events recorded by a username or token:NAME.")
@click.option("--since", metavar="TIME", help="Recorded at or after TIME (ISO 8601).")
@click.option("--until", metavar="TIME", help="Recorded before TIME (ISO 8601).")
@click.option("--occurred-since", metavar="TIME", help="Happened at or after TIME.")
@click.option("--occurred-until", metavar="TIME", help="Happened before TIME.")
def export(output: Path, export_format: str, **filters: str | None) -> None:
    """Write the history, or the events matching the filters, in log order
    (see docs/export-format.md). Times without an offset are in CALLCRAFT_TIMEZONE."""
    settings = _settings()
    now = datetime.now(UTC)
    text = FilterText(type=filters.pop("kinds"), **filters)
    with _runtime(settings, now) as runtime:
        try:
            wanted = parse_filter(runtime.read_engine, text, settings.zone)
        except DomainError as error:
            option = f"--{(error.field or 'filter').replace('_', '-')}"
            raise Refused(f"{option}: {error.message}") from None
        if export_format != "jsonl" or not wanted.is_everything:
            runtime.projector.catch_up()  # these read the event log read model
        pieces = export_lines(runtime.app, runtime.read_engine, wanted, export_format)
        if str(output) == "-":
            lines = write_all(pieces, sys.stdout)
            sys.stdout.flush()
        else:
            try:
                stream: TextIO
                with output.open("w", encoding="utf-8", newline="") as stream:
                    lines = write_all(pieces, stream)
            except OSError as error:
                raise Refused(f"cannot write {output}: {error.strerror or error}") from None
    count = lines - 1 if export_format == "csv" else lines
    where = "standard output" if str(output) == "-" else str(output)
    click.echo(f"exported {count} events to {where}", err=True)


# ------------------------------------------------------------------------------ processes


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: CALLCRAFT_HOST).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to listen on (default: CALLCRAFT_PORT).",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    help="Log a line per request (off by default: it costs a worker ~7% of its requests).",
)
def serve(host: str | None, port: int | None, access_log: bool) -> None:
    """Serve the HTTP app; the projector runs inside unless CALLCRAFT_RUN_PROJECTOR=false."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    try:
        app = create_app(settings)
    except SettingsError as error:
        raise CannotStart(f"bad setting: {error}") from None
    except (PersistenceError, SQLAlchemyError, OSError) as error:
        raise CannotStart(_cannot_open(settings, error)) from None
    uvicorn.run(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        access_log=access_log,
    )


@main.command()
def project() -> None:
    """Run the projection worker until SIGTERM or SIGINT (stops cleanly between batches).

    It also seals new events into the hash chain and signs checkpoints when due."""
    settings = _settings()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"received {signal.Signals(signum).name}; stopping", err=True)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with _runtime(settings, datetime.now(UTC)) as runtime:
            click.echo(f"projector started at position {runtime.projector.position()}", err=True)
            runtime.projector.warm()  # the first batches then read no agent's facts again
            collector = BatchCollector()  # no full collection of the kept facts mid-batch
            collector.settle()
            waker = waker_for(runtime.app.recorder, stop)  # PostgreSQL: LISTEN, not only poll
            try:
                _project_until(runtime, stop, settings.projector_poll_seconds, collector, waker)
            finally:
                waker.close()
                collector.release()
            click.echo(f"projector stopped at position {runtime.projector.position()}", err=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _project_until(
    runtime: Runtime,
    stop: threading.Event,
    poll_seconds: float,
    collector: BatchCollector,
    waker: LogWaker,
) -> None:
    while not stop.is_set():
        try:
            applied = runtime.projector.run_once()
        except (PersistenceError, SQLAlchemyError) as error:
            click.echo(f"projector: {error}; retrying", err=True)
            stop.wait(max(poll_seconds, 1.0))
            continue
        runtime.seal_round()  # extend the hash chain, sign a checkpoint when due
        if applied == 0:
            waker.wait(poll_seconds)
        else:
            collector.settle()


@main.command()
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=REBUILD_BATCH_SIZE,
    show_default=True,
    help="Events per transaction.",
)
def rebuild(batch_size: int) -> None:
    """Drop every read model and rebuild it from the event log (with a progress bar)."""
    settings = _settings()
    with _runtime(settings, datetime.now(UTC)) as runtime:
        update, close = _progress_bar("rebuilding")
        try:
            applied = rebuild_read_models(
                runtime.app,
                runtime.read_engine,
                timezone=settings.zone,
                batch_size=batch_size,
                progress=update,
                page_cache_mib=settings.projector_cache_mib,
            )
        finally:
            close()
    click.echo(f"rebuilt the read models from {applied} events")


# ------------------------------------------------------------------------------ standings

AS_OF_HELP = (
    "See it as of a past moment, ISO 8601 (e.g. 2026-03-01T17:00; without an offset, in "
    "CALLCRAFT_TIMEZONE): later recordings and retractions are left out."
)


@main.command()
@click.option("--scope", type=click.Choice(SCOPES), default="overall", show_default=True)
@click.option("--window", type=click.Choice(WINDOW_NAMES), default="all", show_default=True)
@click.option("--team", default=None, help="The team (name or id) of a team leaderboard.")
@click.option(
    "--competency",
    type=click.Choice([c.value for c in ALL_COMPETENCIES]),
    default=None,
    help="The competency of a competency leaderboard.",
)
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=20, show_default=True)
@click.option("--as-of", "as_of", default=None, help=AS_OF_HELP)
def leaderboard(
    scope: str, window: str, team: str | None, competency: str | None, limit: int, as_of: str | None
) -> None:
    """Print a leaderboard as a table, now or as of a past moment."""
    if scope == "team" and team is None:
        raise click.UsageError("--scope team needs --team")
    if scope == "competency" and competency is None:
        raise click.UsageError("--scope competency needs --competency")
    settings = _settings()
    with _runtime(settings, datetime.now(UTC)) as runtime:
        runtime.projector.catch_up()  # show what the log holds, not what was last projected
        try:
            text = leaderboard_text(
                runtime.read_engine,
                settings.zone,
                scope=scope,
                window=window,
                team=team,
                competency=competency,
                limit=limit,
                as_of=as_of,
            )
        except (StandingsError, QueryError) as error:
            raise Refused(str(error)) from None
    click.echo(text)


@main.command()
@click.argument("handle")
@click.option("--as-of", "as_of", default=None, help=AS_OF_HELP)
def profile(handle: str, as_of: str | None) -> None:
    """Print an agent's level, XP, streaks and badges, now or as of a past moment."""
    settings = _settings()
    with _runtime(settings, datetime.now(UTC)) as runtime:
        runtime.projector.catch_up()
        try:
            text = profile_text(runtime.read_engine, settings.zone, handle, as_of)
        except StandingsError as error:
            raise Refused(str(error)) from None
    click.echo(text)


# -------------------------------------------------------------------------------- settings


def _setting_value(settings: Settings, name: str) -> Any:
    if name == "CALLCRAFT_READ_DATABASE_URL":
        return settings.effective_read_database_url
    if name == "CALLCRAFT_SIGNING_KEY_FILE":
        return settings.effective_signing_key_file
    attribute = name.removeprefix("CALLCRAFT_").lower()
    value = getattr(settings, attribute)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


@main.command("settings")
def settings_() -> None:
    """Print every setting: its value now, its default and what it means."""
    settings = _settings()
    for name, default, meaning in SETTINGS_DOC:
        value = str(_setting_value(settings, name))
        if "DATABASE_URL" in name:
            value = _safe_url(value)
        click.echo(f"{name}={value}")
        click.echo(f"    {meaning} (default: {default})")


@main.group()
def audit() -> None:
    """The auditor's tools: verify the tamper-evident history, replay the read models."""


# --- callcraft audit verify: the hash chain and its signed checkpoints -----------------------


@audit.command("verify")
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check the checkpoints against this PEM public key (one kept apart from the server) "
    "instead of the configured signing key's.",
)
def audit_verify(public_key_file: Path | None) -> None:
    """Check the whole store against the hash chain and its signed checkpoints.

    Reports every problem by kind and position (changed, deleted, swapped, moved or inserted
    events, altered chain rows, checkpoints that fail); exit 0 only when nothing is wrong.
    """
    settings = _settings()
    key = None
    if public_key_file is not None:
        try:
            key = public_key_from_pem(public_key_file.read_bytes())
        except (InvalidKey, OSError) as error:
            raise Refused(f"--public-key {public_key_file}: {error}") from None
    with _runtime(settings, datetime.now(UTC)) as runtime:
        update, close = _progress_bar("verifying")
        try:
            report = runtime.integrity.verify(update, public_key=key)
        finally:
            close()
        used = key or runtime.integrity.public_key
    for line in report_lines(report, used.key_id):
        click.echo(line)
    if not report.clean:
        raise Refused(f"the history does NOT verify: {summary(report)}")


@audit.command("seal")
def audit_seal() -> None:
    """Extend the hash chain over every event not sealed yet and sign a checkpoint now."""
    settings = _settings()
    with _runtime(settings, datetime.now(UTC)) as runtime:
        outcome = runtime.sealer.seal(force_checkpoint=True)
        key_id = runtime.sealer.key.key_id
    click.echo(f"sealed {outcome.sealed} new events; the chain reaches position {outcome.head}")
    if outcome.checkpoint is not None:
        click.echo(f"signed a checkpoint at {outcome.checkpoint.position} with key {key_id}")
    else:
        click.echo("no new checkpoint: the last one already covers the chain's head")


# --- callcraft db lock-down: an application role that cannot rewrite history ----------------


@main.group("db")
def db_group() -> None:
    """The database itself: roles and rights."""


@db_group.command("lock-down")
@click.option("--app-role", required=True, help="The PostgreSQL role the application runs as.")
@click.option("--print-sql", is_flag=True, help="Only print the SQL; change nothing.")
def db_lock_down(app_role: str, print_sql: bool) -> None:
    """PostgreSQL: let APP_ROLE only SELECT and INSERT the stored events and the chain.

    Run it with DATABASE_URL naming the tables' owner; then run Callcraft as APP_ROLE with
    CALLCRAFT_DB_LOCKED_DOWN=true (see the README, "Locking the history down").
    """
    settings = _settings()
    if settings.database_url.startswith("sqlite"):
        raise Refused(
            "lock-down is for PostgreSQL; protect a SQLite store with the file's permissions"
        )
    try:
        check_role_name(app_role)
    except BadRoleName as error:
        raise click.BadParameter(str(error), param_hint="--app-role") from None
    with _runtime(settings, datetime.now(UTC)) as runtime:
        runtime.sealer.ensure_ready()
        engine = runtime.integrity.engine
        schema = str(runtime.app.recorder.datastore.schema)  # type: ignore[attr-defined]
        if print_sql:
            with engine.connect() as connection:
                statements = lockdown_statements(schema, app_role, other_tables(connection, schema))
            for statement in statements:
                click.echo(statement + ";")
            return
        try:
            statements = apply_lockdown(engine, schema, app_role)
        except SQLAlchemyError as error:
            raise Refused(f"the lock-down failed (run it as the tables' owner): {error}") from None
    click.echo(
        f"locked down: {app_role} may only SELECT and INSERT the stored events and the chain "
        f"in schema {schema} ({len(statements)} statements); run Callcraft as {app_role} "
        "with CALLCRAFT_DB_LOCKED_DOWN=true"
    )


# --- callcraft audit replay: rebuild into a scratch database and compare ---------------------


@audit.command("replay")
def audit_replay() -> None:
    """Rebuild every read model from the log into a scratch database and compare.

    The scratch database is a temporary SQLite file (on PostgreSQL, a schema of its own),
    removed afterwards. The live read models are read in one consistent snapshot and the
    replay stops at the log position they had reached, so a running app causes no false
    difference. Every difference is printed (table, key, column, live and replayed value; a
    missing or an extra row). Exit 0 only when identical, 1 when anything differs.

    Compared: every read-model table, tracking included. Not compared, since no event
    produces them: web_sessions (sign-ins) and signin_failures (the sign-in throttle).
    Writes nothing to the event store or to the live read models.
    """
    settings = _settings()
    opened = ExitStack()
    try:
        runtime = opened.enter_context(replay_runtime(settings))
    except (PersistenceError, SQLAlchemyError, OSError, SettingsError) as error:
        raise CannotStart(_cannot_open(settings, error)) from None
    with opened:
        summary = _replay_with_progress(runtime)
    where = f"the replay of the log up to notification {summary.position}"
    if not summary.identical:
        raise Refused(
            f"{summary.differences} difference(s) between the live read models and {where}"
        )
    click.echo(
        f"identical: {summary.tables} read-model tables, {summary.rows_compared} rows, "
        f"match {where}"
    )


def _replay_with_progress(runtime: Runtime) -> ReplaySummary:
    """Two bars on stderr (replaying, then comparing); the differences on stdout."""
    rebuilt, close_rebuilt = _progress_bar("replaying")
    bars: list[tqdm[Any]] = []

    def compared(done: int, total: int) -> None:
        if not bars:
            close_rebuilt()
            bars.append(tqdm(desc="comparing", unit="row", unit_scale=True, file=sys.stderr))
        bars[0].total = total
        bars[0].n = done
        bars[0].refresh()

    def report(difference: Difference) -> None:
        for bar in bars:
            bar.clear()
        click.echo(difference.describe())

    try:
        return run_replay_check(runtime, report, rebuilt=rebuilt, compared=compared)
    finally:
        close_rebuilt()
        for bar in bars:
            bar.close()
