"""The auditor scrolls the event log (htmx appends the next page in place) and follows a
retraction to the recording it retracts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, Server, screenshot, settle

pytestmark = pytest.mark.browser

MARKER = "window.__sameDocument = 'kept'"
READ_MARKER = "() => window.__sameDocument"
ROWS = "#event-rows tr.event-row"


def test_scrolling_the_event_log_appends_the_next_page_without_a_page_load(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="auditor")
    page.goto(server.url("/leaderboards"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page).to_have_url(server.url("/audit"))
    page.get_by_role("link", name=re.compile("Event log")).click()
    expect(page).to_have_url(server.url("/audit/log"))
    rows = page.locator(ROWS)
    expect(rows.first).to_be_visible()
    first_page = rows.count()
    last_id = rows.nth(first_page - 1).get_attribute("id")
    screenshot(page, "event-log")

    page.evaluate(MARKER)
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    rows.nth(first_page - 1).scroll_into_view_if_needed()
    expect(rows).to_have_count(first_page * 2)
    settle(page)
    ids = [
        int(str(i).removeprefix("event-"))
        for i in page.eval_on_selector_all(ROWS, "rs => rs.map(r => r.id)")
    ]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert f"event-{ids[first_page - 1]}" == last_id
    assert page.evaluate(READ_MARKER) == "kept", "scrolling reloaded the whole page"
    assert loads == []


def test_the_auditor_follows_a_retraction_to_the_recording_it_retracts(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="auditor")
    page.goto(server.url("/audit/log"))
    page.get_by_label("Type").select_option("RecordingRetracted")
    page.get_by_role("button", name="Show events").click()
    expect(page).to_have_url(re.compile(r"/audit/log\?.*type=RecordingRetracted"))
    link = page.locator(ROWS).first.locator("a.retracts-link")
    expect(link).to_be_visible()
    target = link.get_attribute("href")
    assert target is not None
    link.click()
    expect(page).to_have_url(server.url(target))
    back = page.locator("#retracted-by a")
    expect(back).to_be_visible()
    back.click()
    expect(page.locator("#retracts a")).to_have_attribute("href", target)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recording retracted")
