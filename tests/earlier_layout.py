"""Read-model tables in the layout of a Callcraft before 2026-12-04 (they must keep working)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
)

from projections.asof_tables import asof_moments
from projections.event_log import event_log
from projections.tables import activity


def make_earlier_layout(engine: Engine) -> None:
    """The row-per-event tables keyed by a BIGINT and ``period_xp`` keyed window first with
    an index by agent, as read models made before 2026-12-04 have them."""
    earlier = MetaData()
    for table in (event_log, activity, asof_moments):
        copy = table.to_metadata(earlier)
        copy.c.notification_id.type = BigInteger()
    Table(
        "period_xp",
        earlier,
        Column("window", String(10), primary_key=True),
        Column("period_start", Date, primary_key=True),
        Column("competency", String(40), primary_key=True),
        Column("agent_id", Uuid, primary_key=True),
        Column("xp", Integer, nullable=False),
        Index("ix_period_xp_agent", "agent_id"),
    )
    earlier.create_all(engine)
