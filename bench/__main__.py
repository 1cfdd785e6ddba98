"""`python -m bench [--scale smoke|quick|full] [--databases sqlite,postgres] [--json FILE]
[--no-http | --http-only | --live-only] [--stores DIR | --no-store-cache]
[--http-client auto|wrk|asyncio]`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench.full_store import STORES
from bench.http_leaderboard import DEMO_SIZE, bench_http_leaderboard, full_size
from bench.places import DEFAULT_POSTGRES_URL, postgres_problem
from bench.report import table, write_json
from bench.run import bench_database, bench_live_only
from bench.scale import SCALES

DATABASES = ("sqlite", "postgres")


def _databases(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(DATABASES)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--databases", type=_databases, default=list(DATABASES))
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CALLCRAFT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a database the benchmark may create and drop schemas in",
    )
    parser.add_argument("--scratch", type=Path, default=None, help="where SQLite files go")
    parser.add_argument(
        "--no-http",
        action="store_true",
        help="skip the HTTP leaderboard benchmark (callcraft serve on a SQLite store)",
    )
    parser.add_argument(
        "--http-only",
        action="store_true",
        help="only the leaderboard figures: the query in-process and the page over HTTP",
    )
    parser.add_argument(
        "--live-only",
        action="store_true",
        help="only the live-lag figures (on the store they need; no HTTP benchmark)",
    )
    parser.add_argument(
        "--stores",
        type=Path,
        default=STORES,
        help="where the HTTP benchmark keeps its built stores for the next run (same day)",
    )
    parser.add_argument(
        "--http-client",
        choices=("auto", "wrk", "asyncio"),
        default="auto",
        help="what drives the HTTP benchmark: wrk (auto: when installed) or a lean asyncio client",
    )
    parser.add_argument(
        "--no-store-cache", action="store_true", help="build the HTTP stores afresh, keep none"
    )
    options = parser.parse_args(argv)
    if options.http_only and options.no_http:
        parser.error("--http-only and --no-http exclude each other")
    if options.live_only and options.http_only:
        parser.error("--live-only and --http-only exclude each other")
    scale = SCALES[options.scale]

    figures = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="callcraft-bench-", dir=options.scratch) as scratch:
        for kind in [] if options.http_only else options.databases:
            problem = postgres_problem(options.postgres_url) if kind == "postgres" else None
            if problem:
                skipped[kind] = problem
                print(f"skipping {kind}: {problem}", file=sys.stderr)
                continue
            print(f"{kind} ({scale.name} scale)", file=sys.stderr)
            run = bench_live_only if options.live_only else bench_database
            figures += run(kind, scale, options.seed, Path(scratch), options.postgres_url)
        # The served app runs on SQLite: `callcraft serve` takes no schema to isolate a run in.
        if not options.no_http and not options.live_only:
            sizes = [DEMO_SIZE]
            if scale.http_full_store:  # first: its figures matter most if a run is cut short
                sizes.insert(0, full_size(scale.agents, scale.events))
            for size in sizes:
                print(f"HTTP leaderboard ({size.label})", file=sys.stderr)
                figures += bench_http_leaderboard(
                    size,
                    scale.http_requests,
                    options.seed,
                    Path(scratch),
                    queries=scale.queries,
                    stores=None if options.no_store_cache else options.stores,
                    client=options.http_client,
                )

    print(
        f"\nCallcraft benchmark — scale {scale.name} ({scale.agents:,} agents, "
        f"{scale.events:,} events), seed {options.seed}, medians of {scale.runs} runs "
        f"({scale.bulk_runs} for import and rebuild)\n"
    )
    print(table(figures))
    for kind, problem in skipped.items():
        print(f"\n{kind} skipped: {problem}")
    write_json(
        options.json,
        figures,
        {
            "scale": scale.name,
            "agents": scale.agents,
            "events": scale.events,
            "seed": options.seed,
            "runs": scale.runs,
            "bulk_runs": scale.bulk_runs,
            "skipped": skipped,
            "http_requests": 0 if options.no_http or options.live_only else scale.http_requests,
            "live_only": options.live_only,
        },
    )
    print(f"\n(also written to {options.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
