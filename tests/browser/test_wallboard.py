"""The wallboard on a big screen: legible rows for the whole centre, kept as a screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, Server, screenshot

pytestmark = pytest.mark.browser


def test_the_wallboard_shows_the_centre_on_a_wall_sized_screen(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="supervisor")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(server.url("/wall"))

    board = page.locator("#wall-board")
    expect(board.get_by_role("heading", name="This week")).to_be_visible()
    expect(board.get_by_role("heading", name="All time")).to_be_visible()
    expect(board.locator("tbody tr").first).to_be_visible()
    screenshot(page, "wall")
