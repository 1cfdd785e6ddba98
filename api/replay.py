"""Where a replay check rebuilds: a scratch database of the live read models' kind.

SQLite (the embedded default): a temporary file beside the live read models (the same disk,
whose room they already take), deleted afterwards. PostgreSQL: a schema of
its own (``callcraft_replay_<random>``) in the read models' database, dropped afterwards.
Nothing is written anywhere else: not the event store, not the live read models.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from api.auth.tables import auth_metadata
from api.bootstrap import build_application, build_read_engine, sqlalchemy_url
from api.runtime import Runtime
from api.settings import Settings, sqlite_path
from projections.projector import Progress, Projector
from projections.replay import Counted, Difference, ReplaySummary, replay_check

NOT_READ_MODELS: tuple[str, ...] = tuple(sorted(auth_metadata.tables))
"""Tables beside the read models that no event produces (sign-in sessions, the sign-in
throttle): never compared."""
REPLAY_BATCH_SIZE = 5000


@contextmanager
def scratch_read_engine(read_database_url: str) -> Iterator[Engine]:
    """An empty database for the replay's read models, removed when the block ends."""
    url = sqlalchemy_url(read_database_url)
    if url.startswith("sqlite"):
        live = sqlite_path(url)
        parent = Path(live).resolve().parent
        beside = parent if live != ":memory:" and parent.is_dir() else None
        with tempfile.TemporaryDirectory(prefix="callcraft-replay-", dir=beside) as directory:
            engine = build_read_engine(f"sqlite:///{Path(directory) / 'replay-read.db'}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    schema = f"callcraft_replay_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = build_read_engine(url, schema=schema)
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def replay_runtime(settings: Settings) -> Iterator[Runtime]:
    """The store and the live read models, opened to be read only: unlike ``open_runtime``,
    no default rulebook is published and no missing table is created."""
    app = build_application(settings)
    try:
        engine = build_read_engine(settings.effective_read_database_url)
    except BaseException:
        app.close()
        raise
    projector = Projector(app, engine, timezone=settings.zone)
    runtime = Runtime(settings=settings, app=app, read_engine=engine, projector=projector)
    try:
        yield runtime
    finally:
        runtime.close()


def run_replay_check(
    runtime: Runtime,
    on_difference: Callable[[Difference], None],
    *,
    batch_size: int = REPLAY_BATCH_SIZE,
    rebuilt: Progress | None = None,
    compared: Counted | None = None,
) -> ReplaySummary:
    """Replay the log into a scratch database and compare it with ``runtime``'s read models."""
    with scratch_read_engine(runtime.settings.effective_read_database_url) as scratch:
        return replay_check(
            runtime.app,
            runtime.read_engine,
            scratch,
            timezone=runtime.settings.zone,
            on_difference=on_difference,
            excluded=NOT_READ_MODELS,
            batch_size=batch_size,
            rebuilt=rebuilt,
            compared=compared,
            name=runtime.projector.name,
        )
