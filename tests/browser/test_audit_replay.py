"""The auditor runs the replay check from the browser and watches it end in "identical"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, Server, screenshot

pytestmark = pytest.mark.browser


def test_the_auditor_clicks_the_replay_button_and_the_progress_ends_in_identical(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="auditor")
    page.goto(server.url("/audit/replay"))
    expect(page.get_by_role("heading", name="Replay check", exact=True)).to_be_visible()

    page.get_by_role("button", name="Run the replay check").click()

    job = page.locator("#replay-job")
    expect(job).to_have_attribute("data-state", "identical")
    expect(job.get_by_role("heading")).to_have_text("Replay check: identical")
    expect(job.get_by_role("status")).to_contain_text("every read model matches")
    expect(job).not_to_have_attribute("hx-trigger", "every 1s")  # the polling stopped
    assert page.url == server.url("/audit/replay")  # htmx swapped the report in place
    screenshot(page, "audit-replay")
