"""The wallboard: big, without navigation, refreshing its board every 30 seconds."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.pages_demo import SCRIPT_NAME, Centre, open_centre


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Centre]:
    yield from open_centre(request, tmp_path_factory)


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "admin"])
def test_every_role_sees_the_wallboard_without_the_site_navigation(
    centre: Centre, role: str
) -> None:
    answer = centre.view_as(role).get("/wall")
    assert answer.status_code == 200
    assert '<body class="wall-body"' in answer.text
    assert "site-nav" not in answer.text
    assert "The whole centre" in answer.text
    assert "This week" in answer.text
    assert "All time" in answer.text


def test_the_board_refreshes_itself_every_thirty_seconds(centre: Centre) -> None:
    html = centre.view_as("agent").get("/wall").text
    assert re.search(
        r'<section id="wall-board" class="wall-board" hx-get="/wall" '
        r'hx-trigger="every 30s" hx-swap="outerHTML"',
        html,
    )


def test_a_team_wall_refreshes_the_same_team(centre: Centre) -> None:
    html = centre.view_as("agent").get(f"/wall?team={centre.team_id}").text
    assert f'hx-get="/wall?team={centre.team_id}" hx-trigger="every 30s"' in html
    assert '<h1 id="wall-heading" class="wall-title">Billing Care</h1>' in html


def test_the_refresh_request_gets_only_the_board(centre: Centre) -> None:
    centre.view_as("agent")
    answer = centre.htmx(f"/wall?team={centre.team_id}")
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="wall-board"')
    assert "<html" not in answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_an_account_without_a_role_may_not_see_the_wall(centre: Centre) -> None:
    assert centre.view_as("nobody").get("/wall").status_code == 403


def test_a_signed_out_visitor_is_sent_to_sign_in(centre: Centre) -> None:
    centre.sign_out()
    answer = centre.client.get("/wall", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/wall"


@pytest.mark.parametrize(
    ("team", "status", "message"),
    [
        ("nonsense", 400, "That team id is not valid."),
        ("00000000-0000-0000-0000-000000000000", 404, "There is no such team."),
    ],
)
def test_a_bad_team_gets_a_clear_message_and_no_refreshing(
    centre: Centre, team: str, status: int, message: str
) -> None:
    answer = centre.view_as("agent").get(f"/wall?team={team}")
    assert answer.status_code == status
    assert message in answer.text
    assert "hx-trigger" not in answer.text


def test_the_wall_escapes_names(centre: Centre) -> None:
    html = centre.view_as("agent").get(f"/wall?team={centre.team_id}").text
    assert SCRIPT_NAME not in html
    assert "<script>alert" not in html
