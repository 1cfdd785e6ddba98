"""The home page: the agent's progress, and a landing page for everyone else."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.pages_demo import SCRIPT_NOTE, Centre, open_centre


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Centre]:
    yield from open_centre(request, tmp_path_factory)


def test_a_signed_out_visitor_is_sent_to_sign_in(centre: Centre) -> None:
    centre.sign_out()
    answer = centre.client.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/"


def test_a_signed_out_htmx_request_moves_the_whole_page_to_sign_in(centre: Centre) -> None:
    centre.sign_out()
    answer = centre.htmx("/leaderboards?window=month")
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"] == "/signin?next=/leaderboards%3Fwindow%3Dmonth"
    assert answer.text == ""


def test_the_agent_sees_level_progress_xp_and_streaks(centre: Centre) -> None:
    page = centre.view_as("agent").get("/")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'<progress id="level-progress" class="progress" max="\d+" value="\d+"', html)
    assert "XP in total" in html
    assert "towards level" in html
    assert "Current streak" in html
    assert "Best streak" in html


def test_the_agent_sees_a_radar_with_seven_competency_axes(centre: Centre) -> None:
    html = centre.view_as("agent").get("/").text
    svg = html[
        html.index('<svg class="radar-chart"') : html.index("</svg>", html.index("radar-chart"))
    ]
    assert svg.count('class="radar-axis"') == 7
    assert svg.count('class="radar-label"') == 7
    assert 'class="radar-shape"' in svg
    for label in ("Communication", "Teamwork", "Problem solving", "Leadership"):
        assert label in svg


def test_the_agent_sees_badges_with_tier_and_progress_to_the_next_tier(centre: Centre) -> None:
    html = centre.view_as("agent").get("/").text
    assert "Badges" in html
    assert re.search(r"\d+ of \d+ for (bronze|silver|gold)", html)
    assert re.search(r'<progress id="badge-[a-z_]+" class="progress progress-small"', html)


def test_recent_activity_shows_the_xp_each_event_brought_and_why(centre: Centre) -> None:
    html = centre.view_as("agent").get("/").text
    assert "Recent activity" in html
    assert re.search(r"\+\d+ XP", html)
    assert "why: Initiative taken: " in html


def test_a_note_holding_a_script_shows_as_text(centre: Centre) -> None:
    html = centre.view_as("agent").get("/").text
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt; covered the queue" in html
    assert SCRIPT_NOTE not in html


def test_a_supervisor_lands_on_links_to_the_teams_they_lead(centre: Centre) -> None:
    html = centre.view_as("supervisor").get("/").text
    assert f'href="/teams/{centre.team_id}"' in html
    assert "Billing Care" in html
    assert 'href="/leaderboards"' in html


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_land_on_the_week_and_a_way_to_the_leaderboards(
    centre: Centre, role: str
) -> None:
    answer = centre.view_as(role).get("/")
    assert answer.status_code == 200
    assert "Top of the week" in answer.text
    assert 'href="/leaderboards"' in answer.text
    assert ('href="/admin"' in answer.text) == (role == "admin")


def test_an_account_without_a_role_is_told_so_and_shown_no_data(centre: Centre) -> None:
    answer = centre.view_as("nobody").get("/")
    assert answer.status_code == 200
    assert "No role yet" in answer.text
    assert "Top of the week" not in answer.text


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "admin"])
def test_every_page_has_a_skip_link_landmarks_and_no_inline_script_or_style(
    centre: Centre, role: str
) -> None:
    answer = centre.view_as(role).get("/")
    html = answer.text
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert '<nav class="site-nav" aria-label="Main">' in html
    assert "<style" not in html
    assert " style=" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert " hx-on" not in html
    assert "x-csrftoken" in html


def test_the_pages_are_sent_with_a_content_security_policy(centre: Centre) -> None:
    answer = centre.view_as("agent").get("/")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy


def test_the_stylesheet_and_htmx_are_served_from_this_site(centre: Centre) -> None:
    style = centre.client.get("/static/css/app.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    htmx = centre.client.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200, "htmx is missing: run `make assets` (make test does)"
    assert 'version:"2.0.' in htmx.text
