"""An agent reads why their XP and streak are what they are, picking the figure in the page."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import READ_DATABASE, DemoAgent, OpenPage, Server, screenshot

pytestmark = pytest.mark.browser


def test_an_agent_picks_a_figure_and_reads_the_events_behind_it(
    open_page: OpenPage, server: Server, demo_agent: DemoAgent
) -> None:
    with closing(sqlite3.connect(server.home / READ_DATABASE)) as db:
        (hex_id,) = db.execute(
            "SELECT agent_id FROM agents WHERE handle = ?", (demo_agent.handle,)
        ).fetchone()
    agent_id = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
    page = open_page(signed_in_as="agent")
    page.goto(server.url(f"/audit/agents/{agent_id}/explain"))

    explanation = page.locator("#explanation")
    expect(explanation.get_by_role("heading", name="Total XP")).to_be_visible()
    expect(explanation.locator("tbody tr").first).to_be_visible()
    expect(explanation.locator("tbody tr td").first).to_have_text(re.compile(r"^#\d+$"))
    expect(explanation.locator("tbody tr a")).to_have_count(0)  # the log is for auditors

    page.get_by_label("Figure").select_option("streak")
    expect(explanation.get_by_role("heading", name="Streak")).to_be_visible()
    expect(page).to_have_url(server.url_pattern(f"/audit/agents/{agent_id}/explain"))
    assert "figure=streak" in page.url
    expect(explanation).to_contain_text("Best streak")
    screenshot(page, "explain-streak")
