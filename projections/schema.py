"""Create and drop every read-model table (they can always be rebuilt from the log)."""

from __future__ import annotations

from sqlalchemy import Engine

import projections.asof_tables  # noqa: F401 - registers the as-of tables
from projections.tables import metadata


def create_all(engine: Engine) -> None:
    """Create the read-model tables that do not exist yet."""
    metadata.create_all(engine)


def drop_all(engine: Engine) -> None:
    """Drop every read-model table, tracking included."""
    metadata.drop_all(engine)
