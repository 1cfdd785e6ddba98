"""Leaderboard tabs switch the board in place (htmx), and every view keeps a working URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, Server, screenshot, settle

pytestmark = pytest.mark.browser

# Set on `window` before a click: a full page load would throw it away, an htmx swap keeps it.
MARKER = "window.__sameDocument = 'kept'"
READ_MARKER = "() => window.__sameDocument"


def test_leaderboard_tabs_switch_the_board_without_a_full_page_load(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="agent")
    page.goto(server.url("/leaderboards"))
    board = page.locator("#board")
    expect(board.locator("tbody tr").first).to_be_visible()
    screenshot(page, "leaderboards")

    page.evaluate(MARKER)
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))

    period = page.get_by_role("navigation", name="Period")
    current_tab = period.locator("[aria-current='page']")
    other_tab = period.locator("a:not([aria-current])").first
    label = other_tab.inner_text()
    target = other_tab.get_attribute("href")
    assert target is not None
    other_tab.click()
    settle(page)

    expect(page).to_have_url(server.url(target))  # pushed into the history by hx-push-url
    expect(current_tab).to_have_text(label)
    assert page.evaluate(READ_MARKER) == "kept", "the tab reloaded the whole page"

    page.get_by_role("navigation", name="Leaderboard").get_by_role("link", name="Team").click()
    settle(page)
    expect(page).to_have_url(re.compile(r"[?&]scope=team\b"))
    expect(board.locator("tbody tr").first).to_be_visible()
    assert page.evaluate(READ_MARKER) == "kept", "the tab reloaded the whole page"
    assert loads == []

    # The URL the tabs pushed is a page of its own: opened afresh it shows the same view.
    shown = page.url
    page.goto(shown)
    assert page.evaluate(READ_MARKER) is None
    expect(
        page.get_by_role("navigation", name="Period").locator("[aria-current='page']")
    ).to_have_text(label)
    expect(
        page.get_by_role("navigation", name="Leaderboard").locator("[aria-current='page']")
    ).to_have_text("Team")
