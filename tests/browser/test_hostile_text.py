"""Markup typed into a recording shows as text wherever it appears, and never runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DemoAgent,
    OpenPage,
    Server,
    screenshot,
    set_field,
    settle,
)

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__pwned=1</script>"
IMAGE = "<img src=x onerror=window.__pwned=2>"
# Short enough to show whole in an activity summary; the note also tries to leave its textarea.
DESCRIPTION = f"{SCRIPT}{IMAGE}"
NOTE = f"</textarea>{SCRIPT}{IMAGE}"


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate("() => window.__pwned") is None, "injected markup ran"
    assert page.locator("img[src='x']").count() == 0, "an injected element reached the page"
    assert page.locator("script:not([src])").count() == 0, "an inline script reached the page"


def test_a_script_typed_into_a_recording_shows_as_text_and_does_not_run(
    open_page: OpenPage, server: Server, demo_agent: DemoAgent
) -> None:
    page = open_page(signed_in_as="supervisor")
    page.goto(server.url("/record"))
    page.get_by_label("Type of recognition").select_option(label="Initiative taken")
    settle(page)
    teammates = page.locator(f"#rec-agent optgroup[label='{demo_agent.team}'] option")
    colleague = next(n for n in teammates.all_inner_texts() if n != demo_agent.name)
    page.get_by_label("Agent", exact=True).select_option(label=colleague)
    settle(page)
    set_field(page, "#rec-description", DESCRIPTION)
    set_field(page, "#rec-note", NOTE)

    # Sent without a competency: the form comes back with a message and what was typed, as text.
    page.get_by_role("button", name="Record", exact=True).click()
    settle(page)
    expect(page.locator("#rec-competencies-error")).to_be_visible()
    expect(page.locator("#rec-note")).to_have_value(NOTE)
    expect(page.locator("#rec-description")).to_have_value(DESCRIPTION)
    assert_nothing_ran(page)

    page.get_by_label("Problem solving", exact=True).check()
    settle(page)
    page.get_by_role("button", name="Record", exact=True).click()
    settle(page)
    expect(page.locator("#record-confirmation")).to_contain_text(f"for {colleague}")
    assert_nothing_ran(page)

    page.get_by_role("link", name="My team").click()
    page.wait_for_load_state()
    recording = page.locator(".recording", has_text=colleague).filter(has_text="Initiative taken")
    expect(recording.first.locator(".summary")).to_contain_text(DESCRIPTION)
    assert_nothing_ran(page)
    screenshot(page, "team-dashboard")
