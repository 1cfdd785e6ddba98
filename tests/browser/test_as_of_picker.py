"""An auditor picks a past moment on the leaderboard and sees the standings of then."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from api.store import event_store_env
from domain.application import Callcraft
from domain.facts import RecognitionKind
from domain.organisation import Team
from domain.recordings import RecordRecognition
from tests.browser.conftest import OpenPage, Server, _health, screenshot, settle

pytestmark = pytest.mark.browser

NEWCOMER = "Tess Travel"
AS_OF_IN_URL = re.compile(r"[?&]as_of=")


def _enrol_a_newcomer_with_xp(server: Server) -> None:
    """Record, beside the running server, an agent who joins and earns XP at once."""
    app = Callcraft(env=event_store_env(f"sqlite:///{server.home / 'callcraft.db'}"))
    try:
        now = datetime.now(UTC)
        team_id = Team.create_id("Billing Care")
        agent_id = app.enrol_agent(
            handle="tess.travel",
            name=NEWCOMER,
            team_id=team_id,
            enrolled_at=now - timedelta(days=2),
            enrolled_by="test",
            now=now,
        )
        app.record(
            RecordRecognition(
                kind=RecognitionKind.TRAINING_COMPLETED,
                agent_id=agent_id,
                competencies=("leadership",),
                occurred_at=now - timedelta(hours=1),
                recorded_by="test",
                course="Time travel for auditors",
                score=95,
            ),
            now=now,
        )
    finally:
        app.close()


def _wait_for_the_projector(server: Server) -> None:
    deadline = time.monotonic() + 30
    health = None
    while time.monotonic() < deadline:
        health = _health(server.base_url)
        if health and health["projector_position"] == health["log_position"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the projector did not catch up: {health}")


def test_an_auditor_picks_a_past_moment_and_sees_the_earlier_standings(
    open_page: OpenPage, server: Server
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)  # everything from now on is stamped after `before`
    _enrol_a_newcomer_with_xp(server)
    _wait_for_the_projector(server)

    page = open_page(signed_in_as="auditor")
    page.goto(server.url("/leaderboards?window=all"))
    board = page.locator("#board")
    expect(board.get_by_role("rowheader", name=NEWCOMER)).to_be_visible()

    picker = page.get_by_label("Show as of")
    picker.fill(before.strftime("%Y-%m-%dT%H:%M:%S"))  # the server's zone is UTC
    page.get_by_role("button", name="Show").click()
    settle(page)

    expect(page).to_have_url(AS_OF_IN_URL)  # pushed into the history by the form's swap
    banner = page.locator("#as-of-banner")
    expect(banner).to_contain_text("later recordings excluded")
    expect(board.locator("tbody tr").first).to_be_visible()
    expect(board.get_by_role("rowheader", name=NEWCOMER)).to_have_count(0)
    screenshot(page, "leaderboards-as-of")

    page.get_by_role("navigation", name="Leaderboard").get_by_role("link", name="Team").click()
    settle(page)
    expect(page).to_have_url(re.compile(r"[?&]scope=team\b"))
    expect(page).to_have_url(AS_OF_IN_URL)  # switching the scope keeps the moment
    expect(banner).to_be_visible()

    banner.get_by_role("link", name="Back to now").click()
    settle(page)
    expect(page).not_to_have_url(AS_OF_IN_URL)
    expect(page.locator("#as-of-banner")).to_have_count(0)
    page.get_by_role("navigation", name="Leaderboard").get_by_role("link", name="Overall").click()
    settle(page)
    expect(board.get_by_role("rowheader", name=NEWCOMER)).to_be_visible()
