"""The catch-up runner: pulls the notification log in batches into the read models.

Each batch is ONE transaction that (1) moves the tracking position with a compare-and-set
(``UPDATE tracking SET position = :new WHERE projection = :name AND position = :old``),
(2) applies every event of the batch to the fact tables, and (3) recomputes the agents the
batch touched. The compare-and-set comes first so that it also serialises competing
projectors: the loser's update matches no row (its ``old`` is stale) and it rolls back
before doing any work. So every event is applied exactly once, even when a process dies in
the middle of a batch or two projectors race.

While a rebuild is unfinished (a ``<name>:rescore`` row in ``tracking``), batches write
facts only; once the log is drained every agent is scored once, in one transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from domain.application import Callcraft
from projections.asof_index import note_events, refresh_points
from projections.asof_tables import asof_points
from projections.boards import fill_boards, refresh_every_board
from projections.context import BatchContext
from projections.decoding import EventDecoder
from projections.handlers import agents_named, apply_event
from projections.rebuild_scoring import score_everyone
from projections.schema import create_all, create_deferred_indexes, gather_statistics
from projections.scoped import LiveFacts, rescore_touched, warm_live_facts
from projections.scoring import RulebookCache, recompute_every_agent
from projections.tables import DERIVED_TABLES, activity, board_entries, recognitions, tracking

Progress = Callable[[int, int], None]
"""Called with (position reached, last notification id known) after each batch."""

EventHook = Callable[[int, object], None]
"""Called with (notification id, event) after each event is applied, inside the batch's
transaction; an exception raised by it rolls the whole batch back (a test hook)."""


PAGE_CACHE_MIB = 256
"""The page cache a projector gives its SQLite connection (SQLite's default is 2 MiB). A
batch of 50 recordings at the full size (10,000 agents, 1,000,000 events) dirties about 4,400
pages, 17 MB: in 2 MiB it spilled them to the WAL before its commit, wrote a page again each
time it changed it after that and read back the ones it needed again — 6,600 frames, and
25,000 reads and writes of pages a batch, 5,200 of them reads of the WAL. With 256 MiB it
writes 4,400 frames and makes 11,800 such calls, none of them on the WAL but its appends
(``strace`` of ``python -m bench.batches``'s batches, ``docs/performance.md``). 64 MiB holds a
batch; 256 MiB also keeps more of the indexes' hot pages between batches (3,000 reads of the
database file a batch, not 4,000). SQLite takes the memory only as it reads pages."""
_CACHE = "callcraft_page_cache_kib"


class Checkpointer(Protocol):
    """Checkpoints the read models' log (SQLite's WAL) beside the batches."""

    def before_batch(self) -> None: ...

    def committed(self) -> None: ...


class PositionMoved(Exception):
    """Another projector applied this batch first; nothing was written."""


def rescore_marker(name: str) -> str:
    return f"{name}:rescore"


class Projector:
    """Keeps the read models of one engine up to date with one application's log."""

    def __init__(
        self,
        app: Callcraft,
        engine: Engine,
        *,
        timezone: tzinfo,
        batch_size: int = 1000,
        name: str = "callcraft",
        after_each_event: EventHook | None = None,
        until: int | None = None,
        checkpointer: Checkpointer | None = None,
        kept_facts: int = 1_000_000,
        page_cache_mib: int = PAGE_CACHE_MIB,
    ) -> None:
        """``until``: apply the log only up to that notification id (a replay check).
        ``checkpointer``: told before each batch and after each commit
        (:class:`projections.wal_checkpointer.WalCheckpointer`). ``kept_facts``: the
        recognitions kept between batches at most (:class:`projections.scoped.LiveFacts`),
        and a quarter of it in periods of stored XP. ``page_cache_mib``: on SQLite, the page
        cache of the connection a batch runs on (:data:`PAGE_CACHE_MIB`)."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if kept_facts < 0:
            raise ValueError("kept_facts must not be negative")
        if page_cache_mib < 1:
            raise ValueError("page_cache_mib must be at least 1")
        self.app = app
        self.engine = engine
        self.timezone = timezone
        self.batch_size = batch_size
        self.name = name
        self.after_each_event = after_each_event
        self.until = until
        self.checkpointer = checkpointer
        self._rulebooks = RulebookCache()
        self._decoder = EventDecoder(app.mapper)
        self._cache_kib = page_cache_mib * 1024
        self._kept = LiveFacts(max_rows=kept_facts, max_periods=kept_facts // 4)
        self._stepping = threading.Lock()
        self._advanced = threading.Condition()
        self._woken = threading.Event()
        self._ready = False

    @property
    def kept_bounds(self) -> tuple[int, int]:
        """What is kept between batches at most: (recognitions, periods of stored XP)."""
        return self._kept.max_rows, self._kept.max_periods

    # --- set-up ------------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Create missing tables and this projection's tracking row (idempotent)."""
        if self._ready:
            return
        boards_missing = not inspect(self.engine).has_table(board_entries.name)
        for attempt in range(3):
            try:
                create_all(self.engine)
                break
            except DBAPIError:  # another process created the same tables at the same moment
                if attempt == 2:
                    raise
        with self.engine.begin() as connection:
            found = connection.execute(
                select(tracking.c.position).where(tracking.c.projection == self.name)
            ).first()
        if found is None:
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(tracking).values(projection=self.name, position=0))
            except IntegrityError:
                pass  # another projector created it first
        elif boards_missing:  # read models made before the boards existed: fill them once
            with self.engine.begin() as connection:
                fill_boards(connection)
        self._ready = True

    # --- reading the position ------------------------------------------------------------

    def position(self) -> int:
        """The notification id of the last event applied (0 before any)."""
        self.ensure_ready()
        with self.engine.connect() as connection:
            value = connection.execute(
                select(tracking.c.position).where(tracking.c.projection == self.name)
            ).scalar_one()
        return int(value)

    def rescore_pending(self) -> bool:
        with self.engine.connect() as connection:
            return self._marked(connection)

    def warm(self) -> bool:
        """Keep every agent's live facts and stored period XP in memory now (a process that
        just started), so that the first batches do not read them agent by agent: they are
        the facts the batches keep anyway (:class:`projections.scoped.LiveFacts`, within its
        bounds). True if kept: not while a rebuild is unfinished, nor when another projector
        moved the position meanwhile. The tracking row is held while reading, as a batch
        holds it, so the rows read are the read models at the position kept with them."""
        with self._stepping:
            self.ensure_ready()
            old = self.position()
            self._kept.clear()
            try:
                with self.engine.begin() as connection:
                    # the page cache too: the pages read now are pages the batches touch, and
                    # the cache's memory is then taken before the first batch, not during it
                    self._size_cache(connection)
                    if not self._moved(connection, old, old) or self._marked(connection):
                        return False  # nothing was kept yet
                    warm_live_facts(connection, self._kept)
            except BaseException:
                self._kept.clear()
                raise
            self._kept.position = old
            return True

    def _moved(self, connection: Connection, old: int, new: int) -> bool:
        """Move the tracking row from ``old`` to ``new`` (``new == old``: hold it for this
        transaction); False if another projector moved it first."""
        moved = connection.execute(
            update(tracking)
            .where(tracking.c.projection == self.name, tracking.c.position == old)
            .values(position=new)
        )
        return bool(moved.rowcount == 1)

    def _marked(self, connection: Connection) -> bool:
        """Whether a rebuild is unfinished (its rescore marker is there)."""
        return (
            connection.execute(
                select(tracking.c.position).where(
                    tracking.c.projection == rescore_marker(self.name)
                )
            ).first()
            is not None
        )

    # --- applying ------------------------------------------------------------------------

    def run_once(self) -> int:
        """Apply the next batch; return how many events were applied (0 when up to date,
        or when another projector applied this batch first)."""
        try:
            applied, _ = self._step()
        except PositionMoved:
            return 0
        return applied

    def _step(self) -> tuple[int, bool]:
        """(events applied, whether the log had more to apply)."""
        with self._stepping:  # one batch at a time in this process: they share _kept
            return self._step_alone()

    def _step_alone(self) -> tuple[int, bool]:
        self.ensure_ready()
        old = self.position()
        notifications = self.app.recorder.select_notifications(
            start=old, limit=self.batch_size, stop=self.until, inclusive_of_start=False
        )
        if not notifications:
            if self.rescore_pending():
                self._kept.clear()  # every point is scored again
                self._rescore_everyone(old)
            return 0, False
        decode = self._decoder.decode
        events = [(n.id, decode(n)) for n in notifications]
        new = notifications[-1].id
        self._kept.starting_at(old)
        if self.checkpointer is not None:
            self.checkpointer.before_batch()
        try:
            self._apply(old, new, events)
        except BaseException:
            self._kept.clear()  # it may hold rows of the batch rolled back
            raise
        self._kept.position = new
        self._committed()
        return len(events), True

    def _apply(self, old: int, new: int, events: list[tuple[int, Any]]) -> None:
        """Apply ``events`` (the log after ``old`` up to ``new``) in one transaction."""
        with self.engine.begin() as connection:
            self._size_cache(connection)
            if not self._moved(connection, old, new):
                raise PositionMoved(f"{self.name} is no longer at {old}")
            facts_only = self._marked(connection)
            ctx = BatchContext(connection, self.timezone)
            named = {a for _, event in events for a in agents_named(event) if a is not None}
            ctx.know_agents(self._kept.directory_of(named))
            ctx.look_up_agents(named)
            for notification_id, event in events:
                apply_event(ctx, notification_id, event)
                if self.after_each_event is not None:
                    self.after_each_event(notification_id, event)
            note_events(ctx, events)
            ctx.flush()
            if facts_only:
                self._kept.forget_scores()  # the points stay unscored until the rebuild ends
            else:
                self._recompute(ctx)
                refresh_points(ctx, self.timezone, self._rulebooks)
            self._kept.put_directory(ctx.cached_agents())

    def _size_cache(self, connection: Connection) -> None:
        """Give the SQLite connection the batch runs on its page cache, once per connection
        (``Connection.info`` lives as long as the connection to the database)."""
        if connection.dialect.name != "sqlite" or connection.info.get(_CACHE) == self._cache_kib:
            return
        connection.exec_driver_sql(f"PRAGMA cache_size = -{self._cache_kib}")
        connection.info[_CACHE] = self._cache_kib

    def _recompute(self, ctx: BatchContext) -> None:
        history = self._rulebooks.history(ctx.connection)
        if ctx.every_agent_dirty:
            self._kept.clear()  # every point may change
            recompute_every_agent(ctx.connection, history, self.timezone)
            refresh_every_board(ctx.connection)
        elif ctx.dirty_agents:
            # The batch's changes let the rescore keep the board entries too.
            rescore_touched(
                ctx.connection,
                ctx.dirty_agents,
                ctx.touched_groups,
                history,
                self.timezone,
                ctx.changes,
                self._kept,
                ctx.cached_agents(),
            )

    def _rescore_everyone(self, position: int) -> None:
        """Finish a rebuild: score every agent once, then drop the marker (one transaction,
        holding the tracking row so no batch slips in between)."""
        with self.engine.begin() as connection:
            self._size_cache(connection)  # it writes every derived row and builds the indexes
            if not self._moved(connection, position, position):
                raise PositionMoved(f"{self.name} is no longer at {position}")
            gone = connection.execute(
                delete(tracking).where(tracking.c.projection == rescore_marker(self.name))
            )
            if gone.rowcount != 1:
                return  # another projector finished the rescore
            # No batch wrote a derived row while the marker was there; clearing the derived
            # tables anyway keeps "fresh" (insert everything, compare nothing) true by
            # construction. On empty tables it costs nothing.
            for table in DERIVED_TABLES:
                connection.execute(delete(table))
            create_deferred_indexes(connection, (recognitions, activity))  # scoring reads by them
            history = self._rulebooks.history(connection)
            connection.execute(delete(asof_points))
            score_everyone(connection, history, self.timezone)
            create_deferred_indexes(connection)  # the derived tables' and the event log's
            gather_statistics(connection)  # the planner's picture of the tables just filled
        self._committed()

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply batches until the log is drained; return how many events this call applied."""
        total = 0
        while True:
            try:
                applied, more = self._step()
            except PositionMoved:
                continue
            total += applied
            if progress is not None:
                progress(self.position(), self._last_known())
            if not more:
                return total

    def _last_known(self) -> int:
        value: Any = self.app.recorder.max_notification_id()
        last = int(value or 0)
        return last if self.until is None else min(last, self.until)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        """Catch up, then poll every ``poll_seconds`` (or sooner, when :meth:`wake` is
        called) until ``stop`` is set."""
        while not stop.is_set():
            self.catch_up()
            self.idle(poll_seconds)

    def wake(self) -> None:
        """Look for new events now rather than at the next poll (called after a write)."""
        self._woken.set()

    def idle(self, seconds: float) -> None:
        """Wait until :meth:`wake` is called, at most ``seconds``."""
        self._woken.wait(seconds)
        self._woken.clear()

    # --- read-your-writes ----------------------------------------------------------------

    def _committed(self) -> None:
        self._announce()
        if self.checkpointer is not None:
            self.checkpointer.committed()

    def _announce(self) -> None:
        with self._advanced:
            self._advanced.notify_all()

    def wait_until(self, notification_id: int, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until the read models include
        ``notification_id``; True if they do. Wakes early when this process applies a batch,
        and re-reads the position regularly for batches applied by other processes."""
        deadline = time.monotonic() + timeout
        if self.position() < notification_id:
            self.wake()
        while True:
            if self.position() >= notification_id:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                self._advanced.wait(min(remaining, 0.05))
