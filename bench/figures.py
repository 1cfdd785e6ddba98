"""Our own figures: recording, importing, rebuilding and querying through Callcraft's code."""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from bench.data import NOW, command_for
from domain.application import MAX_BATCH, Callcraft
from domain.competencies import ALL_COMPETENCIES


def available(module: str) -> bool:
    """Whether a module another part of the code base provides exists yet."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def record_one_by_one(app: Callcraft, rows: list[dict[str, str]]) -> Callable[[int], object]:
    """Step ``i``: row ``i`` through ``Callcraft.record``, one durable recording."""
    commands = [command_for(row) for row in rows]
    return lambda i: app.record(commands[i], now=NOW)


def record_in_batches(app: Callcraft, rows: list[dict[str, str]]) -> Callable[[], None]:
    """``Callcraft.record_many`` with full batches (what the importer builds on)."""
    commands = [command_for(row) for row in rows]

    def run() -> None:
        for first in range(0, len(commands), MAX_BATCH):
            app.record_many(commands[first : first + MAX_BATCH], now=NOW)

    return run


def import_csv(app: Callcraft, path: Path, expected: int) -> Callable[[], None]:
    """The code path of ``callcraft import FILE``: check every row, then record in batches."""
    from api.importer import import_file

    def run() -> None:
        report = import_file(app, path, "csv", now=NOW)
        if report.problems or report.recorded != expected:
            problems = [p.describe() for p in report.problems[:5]]
            raise RuntimeError(
                f"the import recorded {report.recorded} of {expected} rows: {problems}"
            )

    return run


def rebuild_read_models(app: Callcraft, engine: Engine) -> Callable[[], int]:
    """``callcraft rebuild``: drop every read model and project the whole log again."""
    from projections.rebuild import rebuild

    def run() -> int:
        return int(rebuild(app, engine, timezone=UTC))

    return run


def leaderboard_timings(
    engine: Engine,
    team_ids: list[UUID],
    agent_ids: list[UUID],
    queries: int,
    seed: int,
    *,
    today: date | None = None,
) -> list[float]:
    """Milliseconds per leaderboard page over a deterministic mix of scopes and windows
    (``today``: the day the boards are for; the data's own NOW by default)."""
    from projections.queries import leaderboard

    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not secrets
    today = today or NOW.date()
    timings: list[float] = []
    for _ in range(queries):
        scope = rng.choice(("overall", "overall", "team", "competency"))
        arguments: dict[str, Any] = {
            "scope": scope,
            "window": rng.choice(("week", "month", "all")),
            "today": today,
        }
        if scope == "team":
            arguments["team_id"] = rng.choice(team_ids)
        if scope == "competency":
            arguments["competency"] = rng.choice(ALL_COMPETENCIES).value
        if rng.random() < 0.25:
            arguments["around_agent"] = rng.choice(agent_ids)
        started = time.perf_counter()
        leaderboard(engine, **arguments)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def as_of_moment(engine: Engine, fraction: float) -> Any:
    """The moment at ``fraction`` of the log, with the bench's "today" (so that the week and
    month windows hold recognitions, as they would in a store recorded day by day)."""
    from sqlalchemy import func, select

    from projections.asof import Moment
    from projections.asof_tables import asof_moments

    with engine.connect() as connection:
        last = connection.execute(select(func.max(asof_moments.c.notification_id))).scalar_one()
        position, included_from = connection.execute(
            select(asof_moments.c.notification_id, asof_moments.c.included_from)
            .where(asof_moments.c.notification_id <= max(1, int(last * fraction)))
            .order_by(asof_moments.c.notification_id.desc())
            .limit(1)
        ).one()
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=included_from)
    return Moment(at=at, position=int(position), today=NOW.date())


def as_of_timings(
    engine: Engine,
    team_ids: list[UUID],
    agent_ids: list[UUID],
    queries: int,
    seed: int,
    fraction: float,
) -> list[float]:
    """Milliseconds per as-of leaderboard page at ``fraction`` of the log, over the same mix
    of scopes and windows as :func:`leaderboard_timings`."""
    from projections.asof import leaderboard_as_of

    moment = as_of_moment(engine, fraction)
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not secrets
    timings: list[float] = []
    for _ in range(queries):
        scope = rng.choice(("overall", "overall", "team", "competency"))
        arguments: dict[str, Any] = {
            "scope": scope,
            "window": rng.choice(("week", "month", "all")),
        }
        if scope == "team":
            arguments["team_id"] = rng.choice(team_ids)
        if scope == "competency":
            arguments["competency"] = rng.choice(ALL_COMPETENCIES).value
        if rng.random() < 0.25:
            arguments["around_agent"] = rng.choice(agent_ids)
        started = time.perf_counter()
        leaderboard_as_of(engine, moment, **arguments)
        timings.append((time.perf_counter() - started) * 1000)
    return timings
