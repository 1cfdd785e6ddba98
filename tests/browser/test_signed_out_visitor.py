"""A visitor who is not signed in is sent to the sign-in page, and comes back after it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORDS, Server, screenshot

pytestmark = pytest.mark.browser


def test_a_signed_out_visitor_opening_home_is_sent_to_sign_in(page: Page, server: Server) -> None:
    page.goto(server.url("/"))

    expect(page).to_have_url(server.url_pattern("/signin"))
    assert parse_qs(urlsplit(page.url).query).get("next", ["/"]) == ["/"]
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    screenshot(page, "signin")


def test_after_signing_in_the_visitor_lands_on_the_page_they_asked_for(
    page: Page, server: Server
) -> None:
    asked_for = "/leaderboards?scope=team&window=month"
    page.goto(server.url(asked_for))
    expect(page).to_have_url(server.url_pattern("/signin"))

    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill(PASSWORDS["agent"])
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(server.url(asked_for))
    expect(page.get_by_role("heading", name="Leaderboards")).to_be_visible()
