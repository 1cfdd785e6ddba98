"""The tables that let every read model be seen as of a past position of the log.

Facts, written as the events are applied (:func:`projections.asof_index.note_events`):

* ``asof_moments`` — per notification, the moment (µs since the epoch, UTC) from which it is
  part of the view "as of T" (see :func:`domain.timeline.inclusion_moments`);
* ``asof_agent_moves`` — each enrolment, transfer and departure with its position;
* ``asof_retractions`` — the position that retracted each recording;
* ``asof_rulebooks`` — the position that published each rulebook version.

Derived (rebuilt from the facts, like every derived read model):

* ``asof_points`` — every non-zero points version of every recognition: worth ``points`` from
  position ``valid_from`` up to ``valid_until`` (exclusive; :data:`STILL` while it lasts).
  ``agent_key`` is the agent's enrolment position, ``day`` the local day's ordinal,
  ``competencies`` a bit mask over :data:`domain.competencies.ALL_COMPETENCIES`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, Table, Uuid

from projections.tables import Position, metadata

STILL = 2**62
"""``valid_until`` of a version still in force."""

asof_moments = Table(
    "asof_moments",
    metadata,
    Column("notification_id", Position, primary_key=True, autoincrement=False),
    Column("included_from", BigInteger, nullable=False),
    Index("ix_asof_moments_included", "included_from", "notification_id"),
)

asof_agent_moves = Table(
    "asof_agent_moves",
    metadata,
    Column("agent_id", Uuid, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("team_id", Uuid, nullable=True),
    Column("departed", Boolean, nullable=False),
    Index("ix_asof_agent_moves_position", "position"),
)

asof_retractions = Table(
    "asof_retractions",
    metadata,
    Column("recording_id", Uuid, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

asof_rulebooks = Table(
    "asof_rulebooks",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
)

asof_points = Table(
    "asof_points",
    metadata,
    Column("agent_key", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),
    Column("competencies", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    # Both indexes cover every column, so a board is read from one index alone: by agent
    # (all time, a team's agents) or by day (a week or a month).
    Index(
        "ix_asof_points_agent",
        "agent_key",
        "valid_from",
        "valid_until",
        "points",
        "competencies",
        "day",
    ),
    Index(
        "ix_asof_points_day",
        "day",
        "valid_from",
        "valid_until",
        "agent_key",
        "points",
        "competencies",
    ),
)

ASOF_DERIVED_TABLES = (asof_points,)
