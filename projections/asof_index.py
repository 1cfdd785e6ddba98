"""Keep the as-of tables (:mod:`projections.asof_tables`) in step with the other read models.

Three hooks of the projector, each inside the batch's transaction:

* :func:`note_events` — while a batch is applied: the positions of what happened;
* :func:`refresh_points` — after a batch is scored: the points versions of the local days
  it touched, per agent (all agents after a rulebook publication);
* :func:`rebuild_points` — at the end of a rebuild: every agent's points versions.

Versions are a pure function of the facts with their positions
(:func:`domain.timeline.points_versions`), and a later event only ever adds versions from its
own position on, so recomputing an agent's versions after any batch gives the same rows as a
rebuild, and a version once written for positions already reached never changes. A version
depends only on its group (agent, local day, kind: :func:`domain.timeline.points_versions`),
so a batch recomputes the versions of the agents' days it touched and leaves the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, and_, delete, func, or_, select, update

from domain.agents import Agent
from domain.competencies import ALL_COMPETENCIES, Competency
from domain.publications import RulebookPublication
from domain.recordings import Recording
from domain.rulebook import Publication
from domain.timeline import (
    Lifespan,
    PointsVersion,
    RulebookTimeline,
    inclusion_moments,
    points_versions,
)
from projections.asof_tables import (
    STILL,
    asof_agent_moves,
    asof_moments,
    asof_points,
    asof_retractions,
    asof_rulebooks,
)
from projections.bulk import bulk_delete, bulk_insert
from projections.context import BatchContext
from projections.prepared import Sized, item_binds
from projections.scoring import (
    RECOGNITION_COLUMNS,
    RulebookCache,
    every_agent,
    recognition_from_row,
)
from projections.tables import recognitions, rulebooks

CHUNK = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
COMPETENCY_BITS = {competency: 1 << index for index, competency in enumerate(ALL_COMPETENCIES)}


def microseconds(moment: datetime) -> int:
    """``moment`` as whole microseconds since the epoch (exact, unlike ``timestamp()``)."""
    return (moment - EPOCH) // MICROSECOND


def competency_mask(competencies: Iterable[Competency]) -> int:
    mask = 0
    for competency in competencies:
        mask |= COMPETENCY_BITS[competency]
    return mask


# ------------------------------------------------------------------------------ facts


def note_events(ctx: BatchContext, events: Sequence[tuple[int, Any]]) -> None:
    """Record when each event of the batch counts from, and the positions of the events
    whose effect as of a moment depends on where they are in the log."""
    if not events:
        return
    moments = inclusion_moments([event.timestamp for _, event in events], later=None)
    earliest = microseconds(min(moments))
    ctx.execute(
        update(asof_moments)
        .where(asof_moments.c.included_from > earliest)
        .values(included_from=earliest)
    )
    for (position, event), moment in zip(events, moments, strict=True):
        ctx.insert(
            asof_moments, {"notification_id": position, "included_from": microseconds(moment)}
        )
        _note_position(ctx, position, event)


def _note_position(ctx: BatchContext, position: int, event: Any) -> None:
    if isinstance(event, Agent.AgentEnrolled | Agent.AgentTransferred):
        move = {"team_id": event.team_id, "departed": False}
    elif isinstance(event, Agent.AgentDeparted):
        move = {"team_id": None, "departed": True}
    elif isinstance(event, Recording.RecordingRetracted):
        ctx.insert(asof_retractions, {"recording_id": event.originator_id, "position": position})
        return
    elif isinstance(event, RulebookPublication.RulebookPublished):
        ctx.insert(asof_rulebooks, {"version": event.version, "position": position})
        return
    else:
        return
    ctx.insert(asof_agent_moves, {"agent_id": event.originator_id, "position": position, **move})


# ----------------------------------------------------------------------------- timeline


def load_timeline(connection: Connection, parsed: RulebookCache | None = None) -> RulebookTimeline:
    """Every published rulebook with the position that published it (``parsed``: the
    rulebooks parsed before, by version: a published version never changes)."""
    cache = RulebookCache() if parsed is None else parsed
    rows = connection.execute(
        select(
            asof_rulebooks.c.position,
            rulebooks.c.version,
            rulebooks.c.effective_from,
            rulebooks.c.rules,
        ).select_from(
            asof_rulebooks.join(rulebooks, rulebooks.c.version == asof_rulebooks.c.version)
        )
    ).all()
    return RulebookTimeline(
        tuple(
            (
                row.position,
                Publication(
                    row.effective_from,
                    cache.rulebook(row.version, row.rules),
                ),
            )
            for row in rows
        )
    )


# ----------------------------------------------------------------------------- versions

# The order matters: recognition_from_row reads the first ten by position.
_LIFESPAN_COLUMNS = (
    *RECOGNITION_COLUMNS,
    asof_retractions.c.position,
)


def lifespans_where(connection: Connection, *conditions: ColumnElement[bool]) -> Iterator[Lifespan]:
    """The recognitions matching ``conditions``, with the positions that recorded and
    retracted them."""
    query = (
        select(*_LIFESPAN_COLUMNS)
        .select_from(
            recognitions.outerjoin(
                asof_retractions, asof_retractions.c.recording_id == recognitions.c.recording_id
            )
        )
        .where(*conditions)
    )
    for row in connection.execute(query):
        yield Lifespan(recognition_from_row(row), recorded=row[1], retracted=row[10])


def lifespans_of(
    connection: Connection, agent_ids: Sequence[UUID], up_to: int | None = None
) -> Iterator[Lifespan]:
    """The recognitions ``agent_ids`` received (recorded at or before ``up_to``, if given)."""
    conditions: list[ColumnElement[bool]] = [recognitions.c.agent_id.in_(agent_ids)]
    if up_to is not None:
        conditions.append(recognitions.c.notification_id <= up_to)
    return lifespans_where(connection, *conditions)


def agent_keys(connection: Connection, agent_ids: Sequence[UUID]) -> dict[UUID, int]:
    """Each agent's key in ``asof_points``: the position that enrolled it."""
    return {
        agent_id: int(key)
        for agent_id, key in connection.execute(
            select(asof_agent_moves.c.agent_id, func.min(asof_agent_moves.c.position))
            .where(asof_agent_moves.c.agent_id.in_(agent_ids))
            .group_by(asof_agent_moves.c.agent_id)
        )
    }


def version_row(key: int, version: PointsVersion) -> dict[str, Any]:
    return {
        "agent_key": key,
        "day": version.day.toordinal(),
        "competencies": competency_mask(version.competencies),
        "points": version.points,
        "valid_from": version.valid_from,
        "valid_until": STILL if version.valid_until is None else version.valid_until,
    }


def _write_chunk(
    connection: Connection,
    chunk: Sequence[UUID],
    timeline: RulebookTimeline,
    tz: tzinfo,
    *,
    replace: bool,
) -> None:
    keys = agent_keys(connection, chunk)
    if not keys:
        return
    present = list(keys)
    if replace:
        connection.execute(delete(asof_points).where(asof_points.c.agent_key.in_(keys.values())))
    versions = points_versions(lifespans_of(connection, present), timeline, tz)
    bulk_insert(
        connection,
        asof_points,
        [version_row(keys[v.recognition.agent_id], v) for v in versions],
    )


DAYS_PER_QUERY = 100  # SQLite refuses expressions deeper than 1,000: OR at most this many


_LIFESPANS_ON_DAYS = Sized(
    lambda n: (
        select(*_LIFESPAN_COLUMNS)
        .select_from(
            recognitions.outerjoin(
                asof_retractions, asof_retractions.c.recording_id == recognitions.c.recording_id
            )
        )
        .where(
            or_(
                *(
                    and_(recognitions.c.agent_id == a, recognitions.c.local_day == d)
                    for a, d in item_binds(n, recognitions.c.agent_id, recognitions.c.local_day)
                )
            )
        )
    )
)
""":func:`lifespans_where` the recognitions of (agent, local day) items, prepared."""


def refresh_points(ctx: BatchContext, tz: tzinfo, parsed: RulebookCache | None = None) -> None:
    """Bring the points versions of the groups this batch touched up to date: every
    version of each touched agent's touched local day is computed again (a day holds
    few recognitions), and no other version can have changed. ``parsed``: as
    :func:`load_timeline`'s."""
    if ctx.every_agent_dirty:
        rebuild_points(ctx.connection, tz)
        return
    days = sorted({(agent_id, day) for agent_id, day, _ in ctx.touched_groups})
    if not days:
        return
    connection = ctx.connection
    timeline = load_timeline(connection, parsed)
    keys = agent_keys(connection, sorted({agent_id for agent_id, _ in days}))
    wanted = [(agent_id, day) for agent_id, day in days if agent_id in keys]
    for start in range(0, len(wanted), DAYS_PER_QUERY):
        chunk = wanted[start : start + DAYS_PER_QUERY]
        bulk_delete(
            connection,
            asof_points,
            ("agent_key", "day"),
            [{"b_agent_key": keys[agent_id], "b_day": day.toordinal()} for agent_id, day in chunk],
        )
        facts = (
            Lifespan(recognition_from_row(row), recorded=row[1], retracted=row[10])
            for row in _LIFESPANS_ON_DAYS.rows(connection, chunk)
        )
        versions = points_versions(facts, timeline, tz)
        bulk_insert(
            connection,
            asof_points,
            [version_row(keys[v.recognition.agent_id], v) for v in versions],
        )


def rebuild_points(connection: Connection, tz: tzinfo) -> None:
    """Recompute every agent's points versions from the facts."""
    connection.execute(delete(asof_points))
    timeline = load_timeline(connection)
    for chunk in every_agent(connection, CHUNK):
        _write_chunk(connection, chunk, timeline, tz, replace=False)
