"""A supervisor records a tough call; the agent then sees the XP it brought and the badge move."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DemoAgent,
    OpenPage,
    Server,
    number_in,
    screenshot,
    set_field,
    settle,
    sign_in,
)

pytestmark = pytest.mark.browser

TOUGH_CALL = "Tough call handled with grace"
TOUGH_CALL_BADGE = "#badge-empathy_first"  # "Empathy first": tough calls handled with grace


def xp_total(page: Page) -> int:
    return number_in(page.locator(".level-card .stat-value").first.inner_text())


def badge_progress(page: Page) -> int:
    progress = page.locator(TOUGH_CALL_BADGE)
    expect(progress).to_be_attached()
    return int(progress.get_attribute("value") or "")


def test_a_supervisor_records_a_tough_call_and_the_agent_then_sees_its_xp_and_badge_progress(
    open_page: OpenPage, server: Server, demo_agent: DemoAgent
) -> None:
    assert "supervisor" in demo_agent.team_supervisors, (
        f"the demo's `supervisor` does not lead {demo_agent.team}, the team of the demo agent"
    )
    agent = open_page()
    sign_in(agent, server, "agent")
    agent.goto(server.url("/"))
    xp_before = xp_total(agent)
    badge_before = badge_progress(agent)

    supervisor = open_page()
    sign_in(supervisor, server, "supervisor")
    supervisor.goto(server.url("/record"))
    supervisor.get_by_label("Type of recognition").select_option(label=TOUGH_CALL)
    settle(supervisor)
    supervisor.get_by_label("Agent", exact=True).select_option(label=demo_agent.name)
    settle(supervisor)
    for competency in ("Customer service", "Adaptability"):
        supervisor.get_by_label(competency, exact=True).check()
        settle(supervisor)
    call_ref = f"CALL-{uuid.uuid4().hex[:8].upper()}"
    set_field(supervisor, "#rec-call_ref", call_ref)
    set_field(supervisor, "#rec-note", "Stayed calm with a furious caller and fixed the bill.")
    screenshot(supervisor, "record")
    supervisor.get_by_role("button", name="Record", exact=True).click()
    settle(supervisor)

    confirmation = supervisor.locator("#record-confirmation")
    expect(confirmation).to_contain_text(f"Recorded: {TOUGH_CALL.lower()} for {demo_agent.name}")
    earned = confirmation.locator(".xp-earned .xp")
    expect(earned).to_have_text(re.compile(r"^\+\d+ XP$"))
    xp_earned = number_in(earned.inner_text())
    assert xp_earned > 0
    screenshot(supervisor, "record-confirmation")

    agent.reload()
    line = agent.locator(".activity-item", has_text=call_ref)
    expect(line).to_have_count(1)
    expect(line.locator(".points")).to_have_text(f"+{xp_earned} XP")
    assert xp_total(agent) == xp_before + xp_earned
    assert badge_progress(agent) == badge_before + 1
    screenshot(agent, "home")
