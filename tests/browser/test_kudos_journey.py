"""An agent gives kudos until the daily cap bites, and is told so clearly."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, Server, screenshot, set_field, settle

pytestmark = pytest.mark.browser

CAP = 3  # the default rulebook's kudos.cap_per_giver_per_day


def give_kudos(page: Page, colleague_index: int, note: str) -> None:
    page.get_by_label("Colleague").select_option(index=colleague_index)
    page.get_by_label("Teamwork", exact=True).check()
    set_field(page, "#kudos-note", note)
    page.get_by_role("button", name="Give kudos").click()
    settle(page)


def test_an_agent_gives_kudos_until_the_daily_cap_bites_and_sees_a_clear_message(
    open_page: OpenPage, server: Server
) -> None:
    page = open_page(signed_in_as="agent")
    page.goto(server.url("/kudos"))
    allowance = page.locator("#kudos-allowance")
    expect(allowance).to_contain_text(f"at most {CAP} a day")  # the cap shows before it bites
    remaining = int(allowance.locator("strong").inner_text())
    assert 1 <= remaining <= CAP  # the demo's agent gives at most 2 kudos a day

    for given in range(1, remaining + 1):
        give_kudos(page, given, f"Thanks for the help, round {given}!")
        expect(page.get_by_role("status").first).to_contain_text("Kudos sent to")

    expect(allowance).to_contain_text(f"You have given all {CAP} kudos for today")
    give_kudos(page, remaining + 1, "One more, over the cap.")

    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(re.compile("kudos cap", re.IGNORECASE))
    expect(refusal).to_contain_text("allowance starts again tomorrow")
    expect(page.get_by_role("status").filter(has_text="Kudos sent to")).to_have_count(0)
    screenshot(page, "kudos-cap")
