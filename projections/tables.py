"""The read models' tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Facts (``recognitions``, the directory tables, ``activity``) mirror events one to one;
derived tables (``agent_profiles``, ``agent_badges``, ``period_xp`` and the ``points``/
``rule``/``capped`` columns of ``recognitions``) are recomputed from the facts by the pure
rules of :mod:`domain.scoring`. ``tracking`` holds each projection's log position.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database.

    PostgreSQL stores ``timestamptz``; SQLite stores the UTC wall time (text), which this
    type reads back as UTC. Naive datetimes are refused: a time without a zone is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

NAME = 200
SHORT = 200

# A name that sorts by code point on every database: PostgreSQL's locale would not.
SortedName = String(NAME).with_variant(String(NAME, collation="C"), "postgresql")

# A log position as a table's whole key: BIGINT on PostgreSQL; on SQLite INTEGER, which
# makes it the rowid itself. A BIGINT key there is a unique index beside the rowid table:
# one more B-tree written for every event, in the tables that hold a row per event.
Position = BigInteger().with_variant(Integer(), "sqlite")

tracking = Table(
    "tracking",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# ----------------------------------------------------------------------------- directory

teams = Table(
    "teams",
    metadata,
    Column("team_id", Uuid, primary_key=True),
    Column("name", String(NAME), nullable=False),
)

team_supervisors = Table(
    "team_supervisors",
    metadata,
    Column("team_id", Uuid, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
)

agents = Table(
    "agents",
    metadata,
    Column("agent_id", Uuid, primary_key=True),
    Column("handle", String(100), nullable=False, unique=True),
    Column("name", String(NAME), nullable=False),
    Column("team_id", Uuid, nullable=False, index=True),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("departed_at", UtcDateTime, nullable=True),
)
# Counting a board's agents: the present ones, by team.
Index(
    "ix_agents_present",
    agents.c.team_id,
    sqlite_where=agents.c.departed_at.is_(None),
    postgresql_where=agents.c.departed_at.is_(None),
)

users = Table(
    "users",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(NAME), nullable=False),
    Column("agent_id", Uuid, nullable=True),
    Column("roles", String(200), nullable=False, default=""),
    Column("disabled", Boolean, nullable=False, default=False),
)

rulebooks = Table(
    "rulebooks",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("effective_from", UtcDateTime, nullable=False),
    Column("rules", JSON, nullable=False),
)

# ----------------------------------------------------------------------------- facts

recognitions = Table(
    "recognitions",
    metadata,
    Column("recording_id", Uuid, primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
    Column("agent_id", Uuid, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("competencies", String(200), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    # occurred_at's calendar day in the organisation's time zone (the projector's)
    Column("local_day", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(SHORT), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("rating", Integer, nullable=True),
    Column("feedback_kind", String(20), nullable=True),
    Column("given_by", String(SHORT), nullable=True),
    Column("course", String(SHORT), nullable=True),
    Column("score", Integer, nullable=True),
    Column("call_ref", String(SHORT), nullable=True),
    Column("description", Text, nullable=True),
    Column("from_agent", Uuid, nullable=True),
    Column("retracted", Boolean, nullable=False, default=False),
    Column("retracted_at", UtcDateTime, nullable=True),
    Column("retracted_by", String(SHORT), nullable=True),
    Column("retraction_reason", Text, nullable=True),
    # derived: filled by the recompute
    Column("points", Integer, nullable=False, default=0),
    Column("rulebook_version", Integer, nullable=True),
    Column("rule", Text, nullable=True),
    Column("capped", Boolean, nullable=False, default=False),
    Index("ix_recognitions_agent_occurred", "agent_id", "occurred_at"),
    Index("ix_recognitions_agent_day", "agent_id", "local_day"),
    Index("ix_recognitions_from_agent", "from_agent"),
)

activity = Table(
    "activity",
    metadata,
    Column("notification_id", Position, primary_key=True, autoincrement=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("agent_id", Uuid, nullable=True),
    Column("team_id", Uuid, nullable=True),
    Column("kind", String(40), nullable=False),
    Column("summary", Text, nullable=False),
    Column("recording_id", Uuid, nullable=True),
    Column("retracted", Boolean, nullable=False, default=False),
    Index("ix_activity_agent", "agent_id", "notification_id"),
    Index("ix_activity_team", "team_id", "notification_id"),
    Index("ix_activity_recording", "recording_id"),
)

# ----------------------------------------------------------------------------- derived

XP_COLUMNS = (
    "xp_communication",
    "xp_teamwork",
    "xp_problem_solving",
    "xp_adaptability",
    "xp_customer_service",
    "xp_time_management",
    "xp_leadership",
)

agent_profiles = Table(
    "agent_profiles",
    metadata,
    Column("agent_id", Uuid, primary_key=True),
    Column("team_id", Uuid, nullable=False),
    Column("departed", Boolean, nullable=False, default=False),
    Column("xp_total", Integer, nullable=False, default=0),
    *(Column(name, Integer, nullable=False, default=0) for name in XP_COLUMNS),
    Column("level", Integer, nullable=False, default=1),
    Column("xp_into_level", Integer, nullable=False, default=0),
    Column("xp_for_next_level", Integer, nullable=True),
    Column("best_streak", Integer, nullable=False, default=0),
    Column("streak_run", Integer, nullable=False, default=0),
    Column("last_active_day", Date, nullable=True),
    Index("ix_agent_profiles_xp", "xp_total"),
)

agent_badges = Table(
    "agent_badges",
    metadata,
    Column("agent_id", Uuid, primary_key=True),
    Column("badge_key", String(64), primary_key=True),
    Column("tier", String(10), nullable=True),
    Column("progress", Integer, nullable=False),
    Column("next_threshold", Integer, nullable=True),
    Column("earned_at", UtcDateTime, nullable=True),
    Column("evidence", JSON, nullable=False),
)

period_xp = Table(
    "period_xp",
    metadata,
    Column("window", String(10), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("competency", String(40), nullable=False),
    Column("agent_id", Uuid, nullable=False),
    Column("xp", Integer, nullable=False),
    # Read and written by agent only (a batch's agents, a rebuild's chunk): the agent first
    # in the key, and on SQLite the key is the table — one B-tree, where a rowid table, its
    # key's index and an index by agent were three.
    PrimaryKeyConstraint("agent_id", "window", "period_start", "competency"),
    sqlite_with_rowid=False,
)

board_entries = Table(
    "board_entries",
    metadata,
    # period_xp's rows of present agents, with the agent's team and name beside the XP, so
    # that a leaderboard page is one range of one index (see projections.boards).
    # The agent first in the key: a batch rewrites the entries of the agents it changed.
    Column("agent_id", Uuid, primary_key=True),
    Column("window", String(10), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("competency", String(40), primary_key=True),
    Column("team_id", Uuid, nullable=False),
    Column("name", SortedName, nullable=False),
    Column("xp", Integer, nullable=False),
    sqlite_with_rowid=False,  # the key is the table: one B-tree fewer to write
)
Index(
    "ix_board_entries_rank",
    board_entries.c.window,
    board_entries.c.period_start,
    board_entries.c.competency,
    board_entries.c.xp.desc(),
    board_entries.c.name,
    board_entries.c.agent_id,
)
# A team's board: its entries found by team, not kept in XP order — a team is tens of
# agents, sorted as they are read, and an XP change rewrites no entry of this index (SQLite
# updates only the indexes holding a changed column), where one ordered by XP moved every
# recording's eight entries a second time.
Index(
    "ix_board_entries_team",
    board_entries.c.window,
    board_entries.c.period_start,
    board_entries.c.competency,
    board_entries.c.team_id,
)

DERIVED_TABLES = (agent_profiles, agent_badges, period_xp, board_entries)
