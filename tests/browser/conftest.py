"""A real Chromium against `callcraft serve` as a real process, filled with the demo centre.

One server and one browser for the whole session (per xdist worker); every test gets a fresh
browser context (its own cookies), so the tests do not see each other's sign-ins.
Without Chromium the tests skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.child_processes import ends_with_parent
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
CALLCRAFT = ROOT / ".venv" / "bin" / "callcraft"
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READ_DATABASE = "read-models.db"
DEMO_ARGS = ["demo", "--seed", "7", "--agents", "16", "--days", "30"]
STARTUP_LIMIT_SECONDS = 60
# Upper bounds of playwright's waits (an element, a navigation, an `expect`): generous, so a
# busy machine (the whole suite on two cores, password hashing at sign-in) does not fail them.
PAGE_TIMEOUT_MS = 20_000
expect.set_options(timeout=PAGE_TIMEOUT_MS)

PASSWORDS = {
    "agent": "callcraft-agent",
    "supervisor": "callcraft-supervisor",
    "auditor": "callcraft-auditor",
    "admin": "callcraft-admin",
}


def chromium_missing() -> str | None:
    """None when Debian's Chromium is installed, otherwise why the browser tests cannot run."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    found = shutil.which("chromium")
    hint = f" (found {found}, but the tests launch {CHROMIUM})" if found else ""
    return f"Chromium is not installed at {CHROMIUM}{hint}: run `make deps-system`"


def _require_chromium() -> None:
    problem = chromium_missing()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {problem}")
    pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _health(base_url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:
            health: dict[str, Any] = json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return health


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: politely first, then for certain."""
    if server.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # whatever is left of the group
    server.wait()


@dataclass(frozen=True)
class Server:
    base_url: str
    home: Path  # the temporary directory holding the store and the server's log
    log: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def url_pattern(self, path: str) -> re.Pattern[str]:
        """The page at ``path``, with or without a query string."""
        return re.compile(re.escape(self.url(path)) + r"(\?.*)?$")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`callcraft serve` on a free port, over a temporary SQLite store holding the demo."""
    _require_chromium()  # no point in starting a server nobody can look at
    home = tmp_path_factory.mktemp("callcraft-browser")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCRAFT_")}
    env["DATABASE_URL"] = f"sqlite:///{home / 'callcraft.db'}"
    env["CALLCRAFT_READ_DATABASE_URL"] = f"sqlite:///{home / READ_DATABASE}"
    env["CALLCRAFT_HOST"] = "127.0.0.1"
    env["CALLCRAFT_PORT"] = str(port)
    seeded = subprocess.run(
        [str(CALLCRAFT), *DEMO_ARGS],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_LIMIT_SECONDS,
        check=False,
    )
    assert seeded.returncode == 0, f"`callcraft demo` failed:\n{seeded.stderr}"
    log = home / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(CALLCRAFT), "serve"],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
            preexec_fn=ends_with_parent(),
        )
    running = Server(base_url=f"http://127.0.0.1:{port}", home=home, log=log)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            health = _health(running.base_url)
            if health and health.get("projector_position") == health.get("log_position"):
                break
            time.sleep(0.1)
        assert server.poll() is None, f"`callcraft serve` exited:\n{log.read_text()}"
        assert health is not None, f"no answer from /healthz:\n{log.read_text()}"
        assert health.get("status") == "ok", health
        assert health["projector_position"] == health["log_position"], health
        yield running
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    _require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole session."""
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield chromium
    finally:
        chromium.close()


class OpenPage(Protocol):
    def __call__(self, signed_in_as: str | None = None) -> Page: ...


@pytest.fixture(scope="session")
def signed_in_states() -> dict[str, Any]:
    """Each demo account's cookies after one sign-in through the form, for later tests to reuse.

    Signing in is deliberately slow (password hashing), so the journeys about signing in do it
    through the form and the others start from a saved sign-in.
    """
    return {}


@pytest.fixture
def open_page(
    browser: Browser, server: Server, signed_in_states: dict[str, Any]
) -> Iterator[OpenPage]:
    """Open a page in a fresh browser profile (its own cookies and storage): one per person.

    ``signed_in_as="agent"`` gives a profile already signed in as that demo account. Every
    profile a test opens is closed when the test ends.
    """
    contexts: list[BrowserContext] = []

    def fresh_page(signed_in_as: str | None = None) -> Page:
        context = browser.new_context(
            base_url=server.base_url,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
            storage_state=signed_in_states.get(signed_in_as or ""),
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if signed_in_as is not None and signed_in_as not in signed_in_states:
            sign_in(page, server, signed_in_as)
            signed_in_states[signed_in_as] = context.storage_state()
        return page

    try:
        yield fresh_page
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A page in a fresh browser profile of its own, signed out."""
    return open_page()


@dataclass(frozen=True)
class DemoAgent:
    """The agent the demo's `agent` account is linked to, and the team they work in."""

    handle: str
    name: str
    team: str
    team_supervisors: frozenset[str]


@pytest.fixture(scope="session")
def demo_agent(server: Server) -> DemoAgent:
    """Read from the demo's read models (the projector has caught up before `server` yields)."""
    with closing(sqlite3.connect(server.home / READ_DATABASE)) as db:
        row = db.execute(
            "SELECT a.handle, a.name, t.name, a.team_id FROM users u"
            " JOIN agents a ON a.agent_id = u.agent_id JOIN teams t ON t.team_id = a.team_id"
            " WHERE u.username = 'agent'"
        ).fetchone()
        assert row is not None, "the demo's `agent` account is not linked to an agent"
        leads = db.execute(
            "SELECT u.username FROM team_supervisors s JOIN users u ON u.user_id = s.user_id"
            " WHERE s.team_id = ?",
            (row[3],),
        ).fetchall()
    return DemoAgent(
        handle=row[0], name=row[1], team=row[2], team_supervisors=frozenset(r[0] for r in leads)
    )


def sign_in(page: Page, server: Server, username: str) -> None:
    """Sign in through the sign-in form, as a person would, and land on a page of the app."""
    page.goto(server.url("/signin"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/signin" not in page.url, f"{username} could not sign in: {page.url}"


def screenshot(page: Page, name: str) -> Path:
    """Save what the page looks like now to var/screenshots/<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def settle(page: Page) -> None:
    """Wait until htmx has no request in flight and has swapped and settled what came back.

    htmx marks the element that issued a request with ``htmx-request`` as it sends it (within
    the event that triggered it), so right after a click or a change this waits for the answer.
    """
    page.wait_for_function(
        "() => document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling') === null"
    )


def set_field(page: Page, selector: str, value: str) -> None:
    """Type into a text field and leave it, as a person does (so its change event fires)."""
    field = page.locator(selector)
    field.fill(value)
    field.blur()
    settle(page)


def number_in(text: str) -> int:
    """The integer in a figure as the pages print it: "1,234", "+30 XP", "−5 XP"."""
    sign = -1 if text.strip().startswith(("-", "−")) else 1
    digits = re.sub(r"[^0-9]", "", text)
    assert digits, f"no number in {text!r}"
    return sign * int(digits)
