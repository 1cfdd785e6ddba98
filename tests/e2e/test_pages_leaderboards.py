"""The leaderboard page: tabs switched in place by htmx, the viewer's own row, near me, paging."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest

from tests.e2e.pages_demo import SCRIPT_NAME, Centre, open_centre


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Centre]:
    yield from open_centre(request, tmp_path_factory)


def names(html: str) -> list[str]:
    return [unescape(n) for n in re.findall(r'<th scope="row" class="name">([^<]*)', html)]


def own_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="is-me" aria-current="true">.*?</tr>', html, re.S)


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "admin"])
def test_every_role_gets_the_full_leaderboard_page(centre: Centre, role: str) -> None:
    answer = centre.view_as(role).get("/leaderboards")
    assert answer.status_code == 200
    assert answer.text.startswith("<!doctype html>")
    assert '<div id="board"' in answer.text
    assert '<th scope="col">Agent</th>' in answer.text


def test_an_account_without_a_role_may_not_see_the_leaderboards(centre: Centre) -> None:
    assert centre.view_as("nobody").get("/leaderboards").status_code == 403


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(centre: Centre) -> None:
    centre.sign_out()
    answer = centre.client.get("/leaderboards?scope=team", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/leaderboards%3Fscope%3Dteam"


def test_an_htmx_request_gets_only_the_board_partial(centre: Centre) -> None:
    centre.view_as("agent")
    answer = centre.htmx("/leaderboards?scope=overall&window=month")
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="board"')
    assert "<html" not in answer.text
    assert "site-nav" not in answer.text
    assert "HX-Request" in answer.headers["vary"]
    full = centre.client.get("/leaderboards?scope=overall&window=month").text
    assert answer.text.strip() in full


def test_a_history_restore_gets_the_whole_page(centre: Centre) -> None:
    centre.view_as("agent")
    answer = centre.htmx("/leaderboards?window=all", **{"HX-History-Restore-Request": "true"})
    assert answer.text.startswith("<!doctype html>")


def test_tabs_are_links_that_htmx_follows_in_place_with_a_url_of_their_own(
    centre: Centre,
) -> None:
    html = centre.view_as("agent").get("/leaderboards").text
    assert 'hx-target="#board" hx-swap="outerHTML" hx-push-url="true"' in html
    tabs = re.findall(r'<a class="tab" id="[a-z-]+" href="([^"]+)" hx-get="([^"]+)"', html)
    assert len(tabs) >= 8
    assert all(href == hx_get for href, hx_get in tabs)
    assert 'href="/leaderboards?scope=overall&amp;window=week"' in html
    assert 'aria-current="page">This week</a>' in html
    for scope in ("overall", "team", "competency"):
        assert f"scope={scope}" in html
    for window in ("week", "month", "all"):
        assert f"window={window}" in html


def test_every_hx_attribute_is_built_from_validated_values_only(centre: Centre) -> None:
    centre.view_as("agent")
    for url in (
        "/leaderboards",
        "/leaderboards?scope=team&window=all",
        "/leaderboards?scope=competency&competency=Problem-solving",
        "/leaderboards?around=me",
    ):
        html = centre.client.get(url).text
        for value in re.findall(r' hx-[a-z-]+="([^"]*)"', html):
            assert re.fullmatch(r"[#/a-z0-9?=&;_.-]*|outerHTML|true", value), value


def test_the_viewers_own_row_is_highlighted(centre: Centre) -> None:
    html = centre.view_as("agent").get("/leaderboards?window=all&around=me").text
    rows = own_rows(html)
    assert len(rows) == 1
    assert "(you)" in rows[0]


def test_near_me_centres_the_page_on_the_viewer(centre: Centre) -> None:
    centre.view_as("agent")
    html = centre.client.get("/leaderboards?scope=overall&window=all&around=me").text
    assert len(own_rows(html)) == 1
    assert 'aria-current="page">Near me</a>' in html


def test_near_me_is_offered_only_to_agents(centre: Centre) -> None:
    html = centre.view_as("auditor").get("/leaderboards?around=me").text
    assert "Near me" not in html
    assert own_rows(html) == []


def test_paging_walks_the_board_without_repeating_anyone(centre: Centre) -> None:
    centre.view_as("auditor")
    first = centre.client.get("/leaderboards?window=all").text
    second = centre.client.get("/leaderboards?window=all&page=2").text
    assert len(names(first)) == 20
    assert names(second)
    assert not set(names(first)) & set(names(second))
    assert 'rel="next" href="/leaderboards?scope=overall&amp;window=all&amp;page=2"' in first
    assert 'rel="prev" href="/leaderboards?scope=overall&amp;window=all"' in second
    assert "21–" in second


def test_a_page_past_the_end_is_empty_with_a_way_back(centre: Centre) -> None:
    html = centre.view_as("auditor").get("/leaderboards?page=9").text
    assert "No one on this board yet." in html
    assert 'rel="prev"' in html


def test_the_team_board_defaults_to_the_viewers_own_team(centre: Centre) -> None:
    html = centre.view_as("agent").get("/leaderboards?scope=team").text
    assert "Billing Care · this week" in html
    assert len(own_rows(html)) == 1
    assert f"team={centre.team_id}" in html


def test_the_competency_board_ranks_by_one_competency(centre: Centre) -> None:
    html = centre.view_as("agent").get("/leaderboards?scope=competency&competency=teamwork").text
    assert "Teamwork · this week" in html
    assert 'aria-current="page">Teamwork</a>' in html


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("scope=galaxy", 400, "There is no &#39;galaxy&#39; leaderboard"),
        ("window=decade", 400, "There is no &#39;decade&#39; period"),
        ("page=0", 400, "The page must be a whole number"),
        ("page=two", 400, "The page must be a whole number"),
        ("around=you", 400, "around can only be"),
        ("scope=team&team=not-a-uuid", 400, "That team id is not valid."),
        ("scope=team&team=00000000-0000-0000-0000-000000000000", 404, "There is no such team."),
        ("scope=competency&competency=juggling", 400, "unknown competency"),
    ],
)
def test_a_bad_query_gets_a_clear_message(
    centre: Centre, query: str, status: int, message: str
) -> None:
    answer = centre.view_as("agent").get(f"/leaderboards?{query}")
    assert answer.status_code == status
    assert message in answer.text
    assert 'role="alert"' in answer.text


def test_a_name_holding_a_script_shows_as_text(centre: Centre) -> None:
    centre.view_as("agent")
    html = centre.client.get("/leaderboards?scope=team&window=all&page=1").text
    html += centre.client.get("/leaderboards?scope=team&window=all&page=2").text
    assert SCRIPT_NAME in names(html)
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    assert SCRIPT_NAME not in html
