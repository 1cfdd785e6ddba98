"""One database's benchmark: our figures and their ceilings, interleaved run by run."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from bench.ceilings import (
    CeilingApp,
    library_bulk_saves,
    library_durability,
    library_log_read,
    library_one_save_per_event,
    raw_driver,
    raw_log_read,
)
from bench.data import (
    NOW,
    Centre,
    command_for,
    make_centre,
    recognition_rows,
    set_up_centre,
    write_csv,
)
from bench.export_memory import export_memory_figures
from bench.figures import (
    as_of_timings,
    available,
    import_csv,
    leaderboard_timings,
    rebuild_read_models,
    record_in_batches,
    record_one_by_one,
)
from bench.history import HISTORY_LONG, HISTORY_SHORT, agents_with_history
from bench.integrity import integrity_figures
from bench.live import LiveLag, live_lag, live_lag_separate, rebuild_peak_growth
from bench.measure import Figure, Series, percentile, rate, rates_taking_turns
from bench.memory import peak_growth_mib
from bench.places import Places
from bench.replay import replay_figures
from bench.scale import Scale
from domain.application import Callcraft


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def import_memory(
    places: Places, centre: Centre, scale: Scale, seed: int, root: Path, kind: str
) -> Figure:
    """Peak RSS growth of an import of the whole data set, beside one of a quarter of it."""
    sizes = (scale.events // 4, scale.events)
    growth: list[Series] = []
    for size in sizes:
        path = root / f"recognitions-{seed}-{scale.agents}-{size}.csv"
        if not path.exists():
            write_csv(path, recognition_rows(seed + 3, centre, size, key_prefix="import"))
        with places.fresh(f"memory{size}") as place:
            setup = Callcraft(env=place.event_env())
            set_up_centre(setup, centre)
            setup.close()
            say(f"{kind}: import memory, {size:,} rows (a process of its own)")
            series = Series(f"peak RSS growth, {size:,} rows", "MiB")
            series.runs.append(peak_growth_mib(place.event_env(), path, size))
            growth.append(series)
    return Figure(f"import memory: {sizes[1]:,} vs {sizes[0]:,} rows", kind, growth[1], growth[0])


def bench_database(
    kind: str, scale: Scale, seed: int, root: Path, postgres_url: str
) -> list[Figure]:
    places = Places(kind, root, postgres_url)
    centre = make_centre(scale.agents)
    figures: list[Figure] = []
    with ExitStack() as stack:
        # --- one recording at a time, beside the library's and the driver's own rates ------
        say(f"{kind}: setting up {scale.agents:,} agents")
        single = stack.enter_context(places.fresh("single"))
        app = Callcraft(env=single.event_env())
        single_teams, _ = set_up_centre(app, centre)
        n = scale.single_recordings
        given: Counter[tuple[int, date]] = Counter()  # one kudos cap for the whole store
        keyed = list(
            recognition_rows(
                seed, centre, scale.runs * n + 1, key_prefix="single", kudos_given=given
            )
        )
        unkeyed = list(
            recognition_rows(seed + 1, centre, scale.runs * n, keyed=False, kudos_given=given)
        )
        batched_count = max(1000, scale.bulk_rows // scale.runs)
        batched = list(
            recognition_rows(
                seed + 2, centre, scale.runs * batched_count, key_prefix="many", kudos_given=given
            )
        )
        app.record(command_for(keyed[0]), now=NOW)  # warm-up; and a real stored event's shape
        last = app.recorder.max_notification_id() or 0
        payload = bytes(app.recorder.select_notifications(last, 1)[0].state)
        durability = library_durability(app, single)
        say(f"{kind}: durability {durability.description}; event payload {len(payload)} bytes")

        ceiling_place = stack.enter_context(places.fresh("ceiling"))
        library = CeilingApp(env=ceiling_place.event_env())
        raw = stack.enter_context(raw_driver(ceiling_place, durability))

        say(f"{kind}: agents with {HISTORY_SHORT:,} and {HISTORY_LONG:,} prior recordings")
        short_history, long_history = agents_with_history(
            app, single_teams[0], (HISTORY_SHORT, HISTORY_LONG)
        )

        ours_keyed = Series("Callcraft.record, idempotency key", "/s")
        ours_unkeyed = Series("Callcraft.record, no key", "/s")
        ours_many = Series("Callcraft.record_many, 1,000 per save", "/s")
        lib_one = Series("library: one app.save per event", "/s", note=durability.description)
        raw_one = Series("raw driver: one commit per row", "/s", note=durability.description)
        lib_bulk = Series("library: 1,000 aggregates per save", "/s")
        raw_bulk = Series("raw driver: one transaction", "/s")
        ours_long = Series(f"Callcraft.record, agent with {HISTORY_LONG:,} prior", "/s")
        ours_short = Series(f"same, agent with {HISTORY_SHORT:,} prior recordings", "/s")
        c = scale.ceiling_rows
        for run in range(scale.runs):
            say(f"{kind}: one-at-a-time run {run + 1}/{scale.runs}")
            part = slice(1 + run * n, 1 + (run + 1) * n)
            # Taking turns, one recording each: the ratios compare like with like.
            rates = rates_taking_turns(
                n,
                {
                    "keyed": record_one_by_one(app, keyed[part]),
                    "unkeyed": record_one_by_one(app, unkeyed[run * n : (run + 1) * n]),
                    "library": library_one_save_per_event(library),
                    "short": short_history.more(n),
                    "long": long_history.more(n),
                },
            )
            ours_keyed.runs.append(rates["keyed"])
            ours_unkeyed.runs.append(rates["unkeyed"])
            lib_one.runs.append(rates["library"])
            ours_short.runs.append(rates["short"])
            ours_long.runs.append(rates["long"])
            raw_one.runs.append(rate(c, raw.one_commit_per_row(c, payload)))
            many = batched[run * batched_count : (run + 1) * batched_count]
            ours_many.runs.append(rate(batched_count, record_in_batches(app, many)))
            lib_bulk.runs.append(
                rate(scale.bulk_rows, library_bulk_saves(library, scale.bulk_rows))
            )
            raw_bulk.runs.append(
                rate(scale.bulk_rows, raw.one_transaction(scale.bulk_rows, payload))
            )
        figures += [
            Figure("record one recognition, durable (idempotency key)", kind, ours_keyed, lib_one),
            Figure("record one recognition, durable (no key)", kind, ours_unkeyed, lib_one),
            Figure(
                f"record one: {HISTORY_LONG:,} vs {HISTORY_SHORT:,} prior recordings",
                kind,
                ours_long,
                ours_short,
            ),
            Figure("library one-save-per-event vs raw commits", kind, lib_one, raw_one),
            Figure("record_many, 1,000 per batch", kind, ours_many, lib_bulk),
            Figure("library 1,000-aggregate saves vs raw", kind, lib_bulk, raw_bulk),
        ]

        # --- bulk import, then rebuild and leaderboards on the imported store ---------------
        csv_path = root / f"recognitions-{seed}-{scale.agents}-{scale.events}.csv"
        if not csv_path.exists():
            say(f"{kind}: writing {scale.events:,} rows to {csv_path.name}")
            write_csv(
                csv_path, recognition_rows(seed + 3, centre, scale.events, key_prefix="import")
            )
        ours_import = Series("callcraft import (CSV)", "/s")
        last_place = None
        last_app: Callcraft | None = None
        team_ids: list[Any] = []
        agent_ids: list[Any] = []
        for run in range(scale.bulk_runs):
            place_stack = ExitStack()
            place = place_stack.enter_context(places.fresh(f"import{run}"))
            bulk_app = Callcraft(env=place.event_env())
            team_ids, agent_ids = set_up_centre(bulk_app, centre)
            if available("api.importer"):
                say(f"{kind}: import run {run + 1}/{scale.bulk_runs}")
                ours_import.runs.append(
                    rate(scale.events, import_csv(bulk_app, csv_path, scale.events))
                )
            else:
                say(f"{kind}: filling the log (no importer yet)")
                rows = list(recognition_rows(seed + 3, centre, scale.events, key_prefix="import"))
                record_in_batches(bulk_app, rows)()
            if run == scale.bulk_runs - 1 or not available("api.importer"):
                stack.enter_context(place_stack)
                last_place, last_app = place, bulk_app
                break
            bulk_app.close()
            place_stack.close()
        assert last_place is not None
        assert last_app is not None
        lib_bulk_again = lib_bulk
        figures.append(
            Figure(
                "bulk import (callcraft import)",
                kind,
                ours_import,
                lib_bulk_again,
                missing="" if available("api.importer") else "api.importer not built yet",
            )
        )

        if available("api.importer"):
            figures.append(import_memory(places, centre, scale, seed, root, kind))

        ours_rebuild = Series("callcraft rebuild", "/s")
        raw_read = Series("raw driver: read the whole log", "/s")
        lib_read = Series("library: read + decode the log", "/s")
        total = last_app.recorder.max_notification_id() or 0
        engine = None
        if available("projections.rebuild"):
            engine = last_place.read_engine()
            stack.callback(engine.dispose)
        for run in range(scale.bulk_runs):
            say(f"{kind}: log reads and rebuild run {run + 1}/{scale.bulk_runs}")
            count, seconds = _timed(raw_log_read(last_place))
            raw_read.runs.append(count / seconds)
            count, seconds = _timed(library_log_read(last_app))
            lib_read.runs.append(count / seconds)
            if engine is not None:
                count, seconds = _timed(rebuild_read_models(last_app, engine))
                ours_rebuild.runs.append(count / seconds)
        missing = "" if engine is not None else "projections.rebuild not built yet"
        figures += [
            Figure(
                f"full rebuild ({total:,} events)", kind, ours_rebuild, raw_read, missing=missing
            ),
            Figure("library log read+decode vs raw read", kind, lib_read, raw_read),
        ]
        if engine is not None and available("projections.event_log"):
            say(f"{kind}: export memory")
            figures += export_memory_figures(kind, last_place, scale.bulk_runs)
        if engine is not None:
            figures += replay_figures(
                kind, last_place, last_app, engine, total, scale.bulk_runs, ours_rebuild
            )
        figures += integrity_figures(kind, last_app, last_place, scale.bulk_runs, raw_read)

        p50 = Series("leaderboard page p50", "ms")
        p99 = Series("leaderboard page p99", "ms")
        if engine is not None and available("projections.queries"):
            for run in range(scale.runs):
                say(f"{kind}: leaderboard run {run + 1}/{scale.runs}")
                timings = leaderboard_timings(
                    engine, team_ids, agent_ids, scale.queries, seed + run
                )
                p50.runs.append(percentile(timings, 0.50))
                p99.runs.append(percentile(timings, 0.99))
        missing = "" if p50.runs else "projections.queries / rebuild not built yet"
        figures += [
            Figure("leaderboard page p50 (server-side)", kind, p50, missing=missing),
            Figure("leaderboard page p99 (server-side)", kind, p99, missing=missing),
        ]
        figures += as_of_figures(kind, engine, team_ids, agent_ids, scale.queries // 4, seed)
        if engine is not None:
            figures += _live_lag(kind, scale, seed, centre, last_app, engine, last_place)
            figures += _rebuild_memory(kind, scale, seed, centre, places, last_place, stack)
        last_app.close()
        library.close()
        app.close()
    return figures


def bench_live_only(
    kind: str, scale: Scale, seed: int, root: Path, postgres_url: str
) -> list[Figure]:
    """Only the live-lag figures, on the same store the whole run builds for them (the
    centre, the bulk data set, one rebuild): minutes rather than the whole benchmark."""
    places = Places(kind, root, postgres_url)
    centre = make_centre(scale.agents)
    with places.fresh("live") as place:
        app = Callcraft(env=place.event_env())
        engine = place.read_engine()
        try:
            fill_live_store(app, engine, centre, scale, seed, kind)
            return _live_lag(kind, scale, seed, centre, app, engine, place)
        finally:
            engine.dispose()
            app.close()


def fill_live_store(
    app: Callcraft, engine: Any, centre: Any, scale: Scale, seed: int, kind: str = "sqlite"
) -> None:
    """The store the live-lag figures run on: the centre, the bulk data set, one rebuild."""
    say(f"{kind}: setting up {scale.agents:,} agents and {scale.events:,} recognitions")
    set_up_centre(app, centre)
    rows = list(recognition_rows(seed + 3, centre, scale.events, key_prefix="import"))
    record_in_batches(app, rows)()
    say(f"{kind}: rebuilding the read models")
    rebuild_read_models(app, engine)()


def live_rows(seed: int, centre: Any, count: int) -> list[dict[str, str]]:
    """The live-lag figures' recordings: backdated over the history like the bulk data set,
    without kudos (the bulk data set used the givers' daily caps up)."""
    return list(
        recognition_rows(seed + 4, centre, count, key_prefix="live", kudos_given=_NoKudosLeft())
    )


AS_OF_FRACTIONS = (0.25, 0.5, 0.9)


def as_of_figures(
    kind: str, engine: Any, team_ids: list[Any], agent_ids: list[Any], queries: int, seed: int
) -> list[Figure]:
    """The p50 and the slowest as-of leaderboard page at a few past moments of the log."""
    figures: list[Figure] = []
    built = engine is not None and available("projections.asof")
    for fraction in AS_OF_FRACTIONS:
        p50 = Series("as-of leaderboard p50", "ms")
        slowest = Series("as-of leaderboard max", "ms")
        if built:
            say(f"{kind}: as-of leaderboards at {fraction:.0%} of the log")
            timings = as_of_timings(engine, team_ids, agent_ids, max(queries, 5), seed, fraction)
            p50.runs.append(percentile(timings, 0.50))
            slowest.runs.append(max(timings))
        missing = "" if built else "projections.asof not built yet"
        at = f"as of {fraction:.0%} of the log"
        figures += [
            Figure(f"as-of leaderboard p50 ({at})", kind, p50, missing=missing),
            Figure(f"as-of leaderboard max ({at})", kind, slowest, missing=missing),
        ]
    return figures


LIVE_RATE = 500.0


class _NoKudosLeft(Counter[tuple[int, date]]):
    """Every giver's kudos cap counted as reached, so the rows carry no kudos."""

    def __missing__(self, key: tuple[int, date]) -> int:
        return 1_000_000


def _live_lag(
    kind: str, scale: Scale, seed: int, centre: Any, app: Callcraft, engine: Any, place: Any
) -> list[Figure]:
    """Commit-to-visible lag at 500 recordings/s, on the store the rebuild just projected:
    with the projector in its own process (``callcraft project`` beside web workers that do
    not project, the shape for that rate), and as a thread of the writer's process."""
    n = scale.live_recordings
    rows = live_rows(seed, centre, 2 * scale.bulk_runs * n)
    figures: list[Figure] = []

    def in_process(part: list[dict[str, str]]) -> Callable[[], LiveLag]:
        return live_lag_separate(app, place, part, LIVE_RATE)

    def in_thread(part: list[dict[str, str]]) -> Callable[[], LiveLag]:
        return live_lag(app, engine, part, LIVE_RATE)

    shapes = (("projector process", in_process), ("projector thread", in_thread))
    for shape_index, (shape, run_with) in enumerate(shapes):
        p50 = Series("live lag p50", "ms")
        p99 = Series("live lag p99", "ms")
        reached = Series("recordings/s reached", "/s")
        for run in range(scale.bulk_runs):
            say(f"{kind}: live lag, {shape}, run {run + 1}/{scale.bulk_runs} ({n:,} at 500/s)")
            first = (shape_index * scale.bulk_runs + run) * n
            outcome = run_with(rows[first : first + n])()
            p50.runs.append(percentile(outcome.lags_ms, 0.50))
            p99.runs.append(percentile(outcome.lags_ms, 0.99))
            reached.runs.append(outcome.rate)
        target = Series("target rate", "/s", runs=[LIVE_RATE])
        at = f"at {LIVE_RATE:,.0f}/s, {shape}"
        figures += [
            Figure(f"live lag p50, commit to visible ({at})", kind, p50),
            Figure(f"live lag p99, commit to visible ({at})", kind, p99),
            Figure(f"live lag: recordings/s the writer reached ({shape})", kind, reached, target),
        ]
    return figures


def _rebuild_memory(
    kind: str,
    scale: Scale,
    seed: int,
    centre: Any,
    places: Places,
    full: Any,
    stack: ExitStack,
) -> list[Figure]:
    """Peak RSS growth of a rebuild at a quarter of the size and at the whole size."""
    quarter = stack.enter_context(places.fresh("memory"))
    small = Callcraft(env=quarter.event_env())
    set_up_centre(small, centre)
    count = scale.events // 4
    say(f"{kind}: a store of {count:,} events for the memory figure")
    record_in_batches(small, list(recognition_rows(seed + 3, centre, count, key_prefix="import")))()
    small.close()
    figures = []
    for place, label in ((quarter, f"{count:,}"), (full, f"{scale.events:,}")):
        say(f"{kind}: rebuild memory ({label} recognitions)")
        growth = Series("peak RSS growth", "MiB")
        growth.runs.append(rebuild_peak_growth(place.database_url, place.read_url, place.schema))
        figures.append(Figure(f"rebuild peak RSS growth ({label} recognitions)", kind, growth))
    return figures
