"""The auditor verifies the whole history from the browser with one button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, Server, screenshot

pytestmark = pytest.mark.browser


def test_the_auditor_clicks_verify_now_and_sees_that_the_history_verifies(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="auditor")
    page.goto(server.url("/audit/integrity"))
    expect(page.get_by_role("heading", name="Integrity of the history")).to_be_visible()
    expect(page.get_by_label("Public key (PEM)")).to_have_value(re.compile("BEGIN PUBLIC KEY"))
    expect(page.locator("#integrity-report")).to_contain_text("Not verified yet")
    page.get_by_role("button", name="Verify now").click()
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("The history verifies")
    expect(page.locator("#integrity-report")).to_contain_text("Events checked")
    assert page.url == server.url("/audit/integrity")  # htmx swapped the report in place
    screenshot(page, "integrity-verified")
