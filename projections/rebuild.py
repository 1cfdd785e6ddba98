"""Rebuild every read model from the event log.

Drops and recreates the tables (leaving the indexes only queries need until the facts are
loaded: :mod:`projections.schema`), marks the projection as "rescore pending", and catches up:
batches then write facts only, and once the log is drained every agent is scored once
(streaming agents in chunks, so memory stays bounded). A rebuild that dies half-way leaves
the marker behind; the next projector run (or rebuild) finishes the job.
"""

from __future__ import annotations

from datetime import tzinfo

from sqlalchemy import Engine, insert

from domain.application import Callcraft
from projections.collection import YOUNG_THRESHOLD, fewer_collections
from projections.projector import PAGE_CACHE_MIB, Progress, Projector, rescore_marker
from projections.schema import create_all, drop_all, drop_deferred_indexes
from projections.tables import tracking


def rebuild(
    app: Callcraft,
    engine: Engine,
    *,
    timezone: tzinfo,
    batch_size: int = 5000,
    progress: Progress | None = None,
    name: str = "callcraft",
    until: int | None = None,
    page_cache_mib: int = PAGE_CACHE_MIB,
) -> int:
    """Drop and rebuild the read models; return how many events were applied.

    ``progress(position, last_notification_id)`` is called after each batch; ``until`` stops
    at that notification id (a replay check compares with read models at that position);
    ``page_cache_mib``: the projector's (:class:`projections.projector.Projector`).
    """
    drop_all(engine)
    create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(tracking),
            [
                {"projection": name, "position": 0},
                {"projection": rescore_marker(name), "position": 0},
            ],
        )
    drop_deferred_indexes(engine)  # after the marker: its rescore creates them again
    projector = Projector(
        app,
        engine,
        timezone=timezone,
        batch_size=batch_size,
        name=name,
        until=until,
        page_cache_mib=page_cache_mib,
    )
    with fewer_collections(YOUNG_THRESHOLD):
        return projector.catch_up(progress)
