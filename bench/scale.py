"""How big a benchmark run is: a quick size for every day, and the full size of issue #5."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    agents: int
    events: int  # recognitions in the bulk data set (import, rebuild, leaderboards)
    single_recordings: int  # recordings per run of the one-at-a-time figure
    ceiling_rows: int  # rows per run of the raw one-commit-per-row ceilings
    bulk_rows: int  # rows per run of the raw one-transaction ceilings
    runs: int  # runs per figure; the table shows the median
    bulk_runs: int  # imports and rebuilds are long: fewer runs
    queries: int  # leaderboard queries per run (p50 and p99 over all of them)
    http_requests: int  # GETs per URL in the HTTP leaderboard benchmark (32 connections)
    http_full_store: bool  # also serve a store of `agents` agents and `events` events
    live_recordings: int  # recordings per run of the live-lag figure (at 500/s)


SCALES = {
    # Seconds, not minutes: checks that the harness itself works.
    "smoke": Scale(
        name="smoke",
        agents=30,
        events=2_000,
        single_recordings=50,
        ceiling_rows=100,
        bulk_rows=2_000,
        runs=3,
        bulk_runs=2,
        queries=30,
        http_requests=300,
        http_full_store=False,
        live_recordings=200,
    ),
    "quick": Scale(
        name="quick",
        agents=200,
        events=20_000,
        single_recordings=300,
        ceiling_rows=1_000,
        bulk_rows=20_000,
        runs=5,
        bulk_runs=3,
        queries=200,
        http_requests=3_000,
        http_full_store=False,
        live_recordings=1_500,
    ),
    "full": Scale(
        name="full",
        agents=10_000,
        events=1_000_000,
        single_recordings=2_000,
        ceiling_rows=5_000,
        bulk_rows=200_000,
        runs=5,
        bulk_runs=3,
        queries=1_000,
        http_requests=3_000,
        http_full_store=True,
        live_recordings=5_000,
    ),
}
