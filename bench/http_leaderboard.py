"""The leaderboard page over real HTTP: `callcraft serve` as a subprocess, 32 connections.

A store is built in a scratch directory (the demo centre, or the demo centre plus enough
generated agents and recognitions for the full size), its read models are rebuilt, and the
real app serves it on a free loopback port with the projector running (the default). The
demo ``agent`` user signs in through the form (CSRF cookie and field), then each URL is driven
with 32 concurrent connections — by ``wrk`` when it is installed (``make bench`` installs it),
else by a lean asyncio client. The client shares the machine with the server, so requests/s
and latencies are a floor; requests per server CPU-second is what one worker answers with a
core to itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from api.bootstrap import build_read_engine
from api.demo import DEFAULT_AGENTS, DEFAULT_DAYS, DEMO_PASSWORDS, fill_demo
from api.runtime import open_runtime
from api.settings import Settings
from bench.data import NOW, command_for, enrol_centre, make_centre, recognition_rows
from bench.figures import leaderboard_timings
from bench.full_store import FastWriter, cached_store, code_fingerprint, whole_days_to
from bench.measure import Figure, Series, percentile
from projections.rebuild import rebuild
from projections.tables import agents, teams

CONNECTIONS = 32
START_TIMEOUT_SECONDS = 120.0
REQUEST_TIMEOUT_SECONDS = 60.0
MAX_RECONNECTS = 100
# A second bound: at 10,000 agents a page costs ~0.25 s of server time, so 3,000 requests per
# URL would take ~6 minutes each; stop a URL's run after this long and report what was done.
MAX_SECONDS_PER_URL = 120.0
WRK_SECONDS_PER_URL = 15.0  # wrk runs for a time, not a count
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Target:
    """One URL the benchmark drives, and the headers it sends."""

    label: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()


TARGETS = (
    Target("page /leaderboards (full page)", "/leaderboards?scope=overall&window=week"),
    Target(
        "page /leaderboards (htmx partial)",
        "/leaderboards?scope=overall&window=week",
        (("HX-Request", "true"),),
    ),
    Target("api /api/v1/leaderboards?around=me", "/api/v1/leaderboards?around=me"),
)


@dataclass(frozen=True)
class StoreSize:
    """How big the served store is: the demo centre, plus generated agents and events."""

    label: str
    agents: int  # total agents, demo ones included
    events: int  # total recognitions, demo ones included (0: just the demo)


DEMO_SIZE = StoreSize(f"demo ({DEFAULT_AGENTS} agents, {DEFAULT_DAYS} days)", DEFAULT_AGENTS, 0)


def full_size(agents: int, events: int) -> StoreSize:
    return StoreSize(f"{agents:,} agents, {events:,} events", agents, events)


@dataclass
class StoreFacts:
    agents: int
    events: int  # recognitions recorded
    log: int  # every event in the log
    fill_seconds: float
    rebuild_seconds: float


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _settings(directory: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{directory / 'events.db'}")


def build_store(directory: Path, size: StoreSize, seed: int) -> StoreFacts:
    """The demo centre (fast password hashes), generated agents and recognitions on top
    (written on the fast path), then a full rebuild of the read models so the server starts
    caught up."""
    now = datetime.now(UTC)
    settings = _settings(directory)
    runtime = open_runtime(settings, now=now)
    try:
        app = runtime.app
        started = time.perf_counter()
        summary = fill_demo(app, now=now, seed=seed)
        recorded = summary.recordings
        agents = summary.agents
        extra_agents = max(0, size.agents - summary.agents)
        extra_events = max(0, size.events - summary.recordings)
        if extra_agents and extra_events:
            centre = make_centre(extra_agents)
            _, enrolled = enrol_centre(app, centre)
            # The generated history ends at the bench's fixed NOW; move it by whole days to
            # end yesterday, so the week and month windows hold as many agents as in real use
            # (whole days keep every kudos on the calendar day its daily cap was counted on).
            shift = whole_days_to(now, NOW)
            writer = FastWriter(app, enrolled, now=now)
            rows = recognition_rows(seed + 7, centre, extra_events, key_prefix="http")
            for index, row in enumerate(rows, 1):
                command = command_for(row)
                writer.write(dataclasses.replace(command, occurred_at=command.occurred_at + shift))
                if index % 100_000 == 0:
                    say(f"http: recorded {index:,} of {extra_events:,} generated events")
            writer.flush()
            agents += extra_agents
            recorded += extra_events
        filled = time.perf_counter()
        log = rebuild(app, runtime.read_engine, timezone=settings.zone)
        rebuilt = time.perf_counter()
    finally:
        runtime.close()
    return StoreFacts(agents, recorded, log, filled - started, rebuilt - filled)


def store_key(size: StoreSize, seed: int, today: date) -> str:
    return f"http-{seed}-{size.agents}x{size.events}-{today.isoformat()}-{code_fingerprint()}"


def query_figures(
    directory: Path,
    where: str,
    queries: int,
    seed: int,
    today: date,
    progress: Callable[[str], None],
) -> list[Figure]:
    """The leaderboard query alone, in this process, on the store: p50 and p99 over a
    deterministic mix of scopes, windows and ``around`` — the first time (each board's
    remembered part read for the first time in this read-model version) and asked again."""
    engine = build_read_engine(_settings(directory).effective_read_database_url)
    try:
        with engine.connect() as connection:
            team_ids = list(connection.execute(select(teams.c.team_id)).scalars())
            agent_ids = list(connection.execute(select(agents.c.agent_id)).scalars())
        progress(f"http: {queries:,} leaderboard queries in-process, twice")
        first = leaderboard_timings(engine, team_ids, agent_ids, queries, seed, today=today)
        again = leaderboard_timings(engine, team_ids, agent_ids, queries, seed, today=today)
    finally:
        engine.dispose()
    note = f"{queries:,} queries: scopes, windows, 25% around an agent"
    figures: list[Figure] = []
    for label, timings in (("first time", first), ("asked again", again)):
        p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
        progress(f"http: leaderboard query ({label}) p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        figures += [
            Figure(f"leaderboard query p50, {label}", where, Series("query", "ms", [p50], note)),
            Figure(f"leaderboard query p99, {label}", where, Series("query", "ms", [p99], note)),
        ]
    return figures


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`callcraft serve` on a free loopback port, stopped on exit."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "serve.log"
        env = {
            **os.environ,
            "DATABASE_URL": _settings(directory).database_url,
            "CALLCRAFT_RUN_PROJECTOR": "true",
            "CALLCRAFT_SECRET_KEY": "bench-" + "x" * 40,
        }
        env.pop("CALLCRAFT_READ_DATABASE_URL", None)
        executable = Path(sys.executable).with_name("callcraft")
        command = [str(executable)] if executable.exists() else [sys.executable, "-m", "api.cli"]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line, fixed arguments
            [*command, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"callcraft serve exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/signin", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"callcraft serve did not answer in {START_TIMEOUT_SECONDS:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


def sign_in(base_url: str) -> httpx.Cookies:
    """The demo agent's session (and CSRF) cookies, signed in through the real form."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        form = client.get("/signin")
        found = _CSRF_INPUT.search(form.text)
        if not found:
            raise RuntimeError(f"no CSRF token on the sign-in page ({form.status_code})")
        answer = client.post(
            "/signin",
            data={
                "username": "agent",
                "password": DEMO_PASSWORDS["agent"],
                "next": "/",
                "_csrf_token": found.group(1),
            },
            follow_redirects=False,
        )
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"sign-in as the demo agent failed ({answer.status_code})")
        return httpx.Cookies(client.cookies)


@dataclass
class Timings:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    response_bytes: int
    reconnects: int
    client: str
    server_cpu_seconds: float | None = None

    @property
    def per_server_cpu_second(self) -> float | None:
        """Requests per second of the server's own CPU time: what one worker could answer
        with a core to itself, whatever else the machine is doing."""
        if not self.server_cpu_seconds:
            return None
        return self.requests / self.server_cpu_seconds

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) process ``pid`` has used; None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cookie_header(cookies: httpx.Cookies) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# ------------------------------------------------------------------ the lean asyncio client
#
# The client shares the machine's two cores with the server, so a heavy client (httpx spends
# several times the server's own time per request) would set the figure. Without wrk, this
# one speaks just enough HTTP/1.1 — keep-alive, Content-Length bodies — in a few dozen
# microseconds per request.


class _Connection:
    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self) -> tuple[int, int, bool]:
        """One request: (status, body length, whether the server keeps the connection)."""
        if self.reader is None or self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, keep = 0, True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError("the lean client reads Content-Length bodies only")
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        body = await self.reader.readexactly(length) if length else b""
        if not keep:
            self.close()
        return status, len(body), keep


async def _drive_lean(
    base_url: str, cookie: str, target: Target, requests: int, warm_up: int, server_pid: int | None
) -> Timings:
    host, port = base_url.removeprefix("http://").split(":")
    headers = [f"GET {target.path} HTTP/1.1", f"Host: {host}:{port}", f"Cookie: {cookie}"]
    headers += [f"{name}: {value}" for name, value in target.headers]
    request = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1")
    connections = [_Connection(host, int(port), request) for _ in range(CONNECTIONS)]
    latencies: list[float] = []
    sizes: list[int] = []
    remaining = [warm_up]
    reconnects = [0]
    deadline = [time.perf_counter() + MAX_SECONDS_PER_URL]

    async def worker(connection: _Connection, record: bool) -> None:
        while remaining[0] > 0 and time.perf_counter() < deadline[0]:
            remaining[0] -= 1
            started = time.perf_counter()
            try:
                status, size, _ = await connection.get()
            except (OSError, asyncio.IncompleteReadError):
                # A kept-alive connection the server closed under us: count it, and time
                # the retry on a new connection from the first attempt's start.
                connection.close()
                reconnects[0] += 1
                if reconnects[0] > MAX_RECONNECTS:
                    raise
                status, size, _ = await connection.get()
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise RuntimeError(f"GET {target.path} answered {status}")
            if record:
                latencies.append(elapsed)
                sizes.append(size)

    try:
        await asyncio.gather(*(worker(c, False) for c in connections))
        remaining[0] = requests
        cpu_before = cpu_seconds(server_pid) if server_pid else None
        started = time.perf_counter()
        deadline[0] = started + MAX_SECONDS_PER_URL
        await asyncio.gather(*(worker(c, True) for c in connections))
        seconds = time.perf_counter() - started
        cpu_after = cpu_seconds(server_pid) if server_pid else None
    finally:
        for connection in connections:
            connection.close()
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Timings(
        requests=len(latencies),
        seconds=seconds,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        response_bytes=sizes[0] if sizes else 0,
        reconnects=reconnects[0],
        client="asyncio client",
        server_cpu_seconds=cpu,
    )


# ----------------------------------------------------------------------------------- wrk

_WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("callcraft-wrk %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def _wrk(wrk: str, url: str, headers: list[str], seconds: float, script: Path) -> list[int]:
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(  # noqa: S603 - wrk with our own arguments
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    for line in done.stdout.splitlines():
        if line.startswith("callcraft-wrk "):
            return [int(value) for value in line.split()[1:]]
    raise RuntimeError(f"wrk printed no report: {done.stdout[-500:]} {done.stderr[-500:]}")


def _drive_wrk(
    wrk: str, base_url: str, cookie: str, target: Target, seconds: float, server_pid: int | None
) -> Timings:
    headers = [f"Cookie: {cookie}"] + [f"{name}: {value}" for name, value in target.headers]
    url = base_url + target.path
    with tempfile.TemporaryDirectory(prefix="callcraft-wrk-") as scratch:
        script = Path(scratch) / "report.lua"
        script.write_text(_WRK_REPORT)
        _wrk(wrk, url, headers, 2, script)  # warm-up, not measured
        cpu_before = cpu_seconds(server_pid) if server_pid else None
        count, micros, size, p50, p99, bad_status, broken = _wrk(wrk, url, headers, seconds, script)
        cpu_after = cpu_seconds(server_pid) if server_pid else None
    if bad_status:
        raise RuntimeError(f"GET {target.path}: {bad_status} answers were not 2xx/3xx")
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Timings(
        requests=count,
        seconds=micros / 1e6,
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        response_bytes=size // count if count else 0,
        reconnects=broken,
        client="wrk",
        server_cpu_seconds=cpu,
    )


def drive(
    base_url: str,
    cookies: httpx.Cookies,
    target: Target,
    requests: int,
    server_pid: int | None = None,
    *,
    client: str = "auto",
) -> Timings:
    """One URL over 32 connections after an unmeasured warm-up, with ``server_pid``'s CPU
    time over the measured part: ``client`` "wrk" (a C client; "auto" picks it when it is
    installed) for ``WRK_SECONDS_PER_URL``, or "asyncio": ``requests`` GETs from the lean
    asyncio client (at most ``MAX_SECONDS_PER_URL``)."""
    cookie = cookie_header(cookies)
    wrk = shutil.which("wrk") if client in ("auto", "wrk") else None
    if client == "wrk" and wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    if wrk is not None:
        return _drive_wrk(wrk, base_url, cookie, target, WRK_SECONDS_PER_URL, server_pid)
    return asyncio.run(_drive_lean(base_url, cookie, target, requests, 2 * CONNECTIONS, server_pid))


def bench_http_leaderboard(
    size: StoreSize,
    requests: int,
    seed: int,
    root: Path,
    progress: Callable[[str], None] = say,
    *,
    queries: int = 1_000,
    stores: Path | None = None,
    client: str = "auto",
) -> list[Figure]:
    """Build (or reuse, under ``stores``) a store of ``size``, time the leaderboard query
    on it in-process, then serve it and measure every target: requests/s, p50, p99."""
    today = datetime.now(UTC).date()

    def build(directory: Path) -> None:
        progress(f"http: building the store ({size.label})")
        facts = build_store(directory, size, seed)
        (directory / "facts.json").write_text(json.dumps(dataclasses.asdict(facts)))

    if stores is None:
        directory = root / f"http-{size.agents}-{size.events}"
        directory.mkdir(parents=True, exist_ok=True)
        build(directory)
    else:
        directory = cached_store(store_key(size, seed, today), build, root=stores, say=progress)
    facts = StoreFacts(**json.loads((directory / "facts.json").read_text()))
    progress(
        f"http: {facts.agents:,} agents, {facts.events:,} recognitions, {facts.log:,} events "
        f"in the log; filled in {facts.fill_seconds:,.1f} s, rebuilt in "
        f"{facts.rebuild_seconds:,.1f} s"
    )
    where = f"sqlite, {facts.agents:,} agents / {facts.events:,} events"
    figures = query_figures(directory, where, queries, seed, today, progress)
    server = Server(directory)
    try:
        server.wait_until_ready()
        cookies = sign_in(server.base_url)
        for target in TARGETS:
            progress(f"http: {requests:,} × GET {target.path} ({target.label})")
            timings = drive(
                server.base_url, cookies, target, requests, server.process.pid, client=client
            )
            note = (
                f"{CONNECTIONS} connections, {timings.client}, {timings.requests:,} requests "
                f"in {timings.seconds:.1f} s, {timings.response_bytes:,} B a response"
                + (" with its headers, " if timings.client == "wrk" else ", ")
                + f"{timings.reconnects} reconnects"
            )
            per_cpu = timings.per_server_cpu_second
            progress(
                f"http: {timings.per_second:,.0f} req/s, p50 {timings.p50_ms:,.1f} ms, "
                f"p99 {timings.p99_ms:,.1f} ms ({note}); "
                + (f"{per_cpu:,.0f} requests per server CPU-second" if per_cpu else "")
            )
            figures += [
                Figure(
                    f"HTTP {target.label}: requests/s",
                    where,
                    Series(target.label, "/s", [timings.per_second], note=note),
                ),
                Figure(
                    f"HTTP {target.label}: p50",
                    where,
                    Series(target.label, "ms", [timings.p50_ms], note),
                ),
                Figure(
                    f"HTTP {target.label}: p99",
                    where,
                    Series(target.label, "ms", [timings.p99_ms], note),
                ),
            ]
            if per_cpu:
                figures.append(
                    Figure(
                        f"HTTP {target.label}: requests per server CPU-second",
                        where,
                        Series(target.label, "/s", [per_cpu], note),
                    )
                )
    finally:
        server.stop()
    return figures
