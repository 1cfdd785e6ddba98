"""Explanations over HTTP, on both stores: who may see whose, clear refusals, and the page
showing exactly the lines the API gives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from uuid import uuid4

import pytest

from tests.e2e.api_world import World, serve_world

FIGURES = ("xp", "competency:customer_service", "badge:mastery_customer_service", "streak")
LINE = re.compile(r'data-line="(\d+):(-?\d+):(-?\d+)"')
VALUE = re.compile(r"data-figure-value>([^<]+)<")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from serve_world(request.param, tmp_path_factory.mktemp("explanations"))


# (who, whose, allowed): the agent their own; a supervisor their team's (sam leads Billing:
# ada and ben, not cy); auditors and admins anyone; read tokens as for the private history.
ACCESS = [
    ("ada", "ada", True),
    ("ada", "ben", False),
    ("ben", "ada", False),
    ("sam", "ada", True),
    ("sam", "cy", False),
    ("audrey", "cy", True),
    ("root", "ada", True),
    ("read_token", "cy", True),
    ("record_token", "ada", False),
]


@pytest.mark.parametrize(("who", "whose", "allowed"), ACCESS)
def test_each_role_sees_only_the_explanations_it_may(
    world: World, who: str, whose: str, allowed: bool
) -> None:
    agent = getattr(world, whose)
    caller = world.caller(who)
    answer = caller.get(f"/api/v1/agents/{agent}/explanation", figure="xp")
    assert answer.status_code == (200 if allowed else 403), answer.text
    if who.endswith("_token"):
        return
    page = caller.get(f"/audit/agents/{agent}/explain", figure="xp")
    assert page.status_code == (200 if allowed else 403)
    if allowed and whose == "ada":  # recognised once; only auditors and admins get links
        assert ('href="/audit/log/' in page.text) == (who in ("audrey", "root"))


def test_anonymous_visitors_are_asked_to_sign_in(world: World) -> None:
    caller = world.caller("anonymous")
    assert caller.get(f"/api/v1/agents/{world.ada}/explanation").status_code == 401
    page = caller.client.get(f"/audit/agents/{world.ada}/explain", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=")


@pytest.mark.parametrize("figure", ["level", "competency:charm", "badge:nope", "xp:1", ""])
def test_a_bad_figure_is_422_naming_the_field_on_the_api_and_the_page(
    world: World, figure: str
) -> None:
    auditor = world.caller("audrey")
    answer = auditor.get(f"/api/v1/agents/{world.ada}/explanation", figure=figure)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "figure"
    page = auditor.get(f"/audit/agents/{world.ada}/explain", figure=figure)
    assert page.status_code == 422
    assert "cannot be explained" in page.text
    assert 'id="figure"' in page.text  # the picker is there to choose again


def test_an_unknown_agent_is_404_on_the_api_and_the_page(world: World) -> None:
    auditor = world.caller("audrey")
    assert auditor.get(f"/api/v1/agents/{uuid4()}/explanation").status_code == 404
    assert auditor.get(f"/audit/agents/{uuid4()}/explain").status_code == 404


@pytest.mark.parametrize("figure", FIGURES)
def test_the_page_shows_the_same_lines_and_figure_as_the_api(world: World, figure: str) -> None:
    world.wait_for_projections()
    auditor = world.caller("audrey")
    api = auditor.get(f"/api/v1/agents/{world.ada}/explanation", figure=figure).json()
    page = auditor.get(f"/audit/agents/{world.ada}/explain", figure=figure)
    partial = auditor.client.get(
        f"/audit/agents/{world.ada}/explain",
        params={"figure": figure},
        headers={"HX-Request": "true"},
    )
    expected = [
        (str(x["notification_id"]), str(x["points"]), str(x["total"])) for x in api["lines"]
    ]
    assert expected, api  # ada was recognised once: every figure has a line
    for html in (page.text, partial.text):
        assert LINE.findall(html) == expected
        assert VALUE.findall(html) == [f"{api['value']:,}"]
        for line in api["lines"]:
            assert f'href="/audit/log/{line["notification_id"]}"' in html
    assert "<html" not in partial.text


def test_the_xp_explanation_agrees_with_the_profile(world: World) -> None:
    world.wait_for_projections()
    caller = world.caller("ada")
    profile = caller.get(f"/api/v1/agents/{world.ada}").json()
    explained = caller.get(f"/api/v1/agents/{world.ada}/explanation").json()
    assert explained["value"] == profile["xp_total"] == sum(x["points"] for x in explained["lines"])
    assert all(x["rulebook_version"] >= 1 and x["rule"] for x in explained["lines"])


def test_an_agents_home_page_links_to_the_explanation_of_their_figures(world: World) -> None:
    caller = world.caller("ada")
    home = caller.get("/")
    assert home.status_code == 200
    link = f'href="/audit/agents/{world.ada}/explain"'
    assert link in home.text
    assert caller.get(f"/audit/agents/{world.ada}/explain").status_code == 200
