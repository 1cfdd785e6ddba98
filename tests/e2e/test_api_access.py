"""Who may read what through the JSON API: every read route for every role, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from tests.e2e.api_world import ROLES, World, serve_world

READERS = ("ada", "ben", "sam", "audrey", "root", "read_token")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from serve_world(request.param, tmp_path_factory.mktemp("api-access"))


def read_urls(world: World) -> list[str]:
    return [
        "/api/v1/agents",
        f"/api/v1/agents/{world.ada}",
        f"/api/v1/agents/{world.ada}/history",
        f"/api/v1/agents/{world.ada}/badges",
        f"/api/v1/agents/{world.ada}/xp",
        "/api/v1/teams",
        "/api/v1/leaderboards",
        "/api/v1/rulebook",
    ]


def assert_error(response: object, status: int, field: str | None = None) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert set(body) == {"status_code", "detail", "field"}
    assert body["status_code"] == status
    assert body["detail"]
    if field is not None:
        assert body["field"] == field
    return body


@pytest.mark.parametrize("role", READERS)
def test_every_reader_may_read_every_read_route(world: World, role: str) -> None:
    caller = world.caller(role)
    for url in read_urls(world):
        response = caller.get(url)
        assert response.status_code == 200, (url, response.text)


def test_an_anonymous_request_is_refused_with_401_on_every_route(world: World) -> None:
    caller = world.caller("anonymous")
    for url in [*read_urls(world), "/api/v1/me", "/api/v1/kudos/allowance"]:
        assert_error(caller.get(url), 401)
    before = world.log_position()
    for url in [
        "/api/v1/recognitions",
        "/api/v1/recognitions/batch",
        "/api/v1/kudos",
        f"/api/v1/recordings/{uuid4()}/retraction",
    ]:
        response = caller.post(url, {})
        assert response.status_code in {401, 403}, (url, response.text)
    assert world.log_position() == before


def test_a_record_only_token_may_not_read(world: World) -> None:
    caller = world.caller("record_token")
    for url in read_urls(world):
        body = assert_error(caller.get(url), 403)
        assert "read" in str(body["detail"])


def test_a_record_only_token_may_ask_who_it_is_and_learns_it_may_not_read(world: World) -> None:
    response = world.caller("record_token").get("/api/v1/me")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_scopes"] == ["record"]
    assert body["may_read"] is False


@pytest.mark.parametrize("role", ROLES[1:])
def test_me_describes_the_signed_in_principal(world: World, role: str) -> None:
    response = world.caller(role).get("/api/v1/me")
    assert response.status_code == 200, response.text
    body = response.json()
    if role.endswith("_token"):
        assert body["is_token"] is True
        assert body["roles"] == []
        assert body["token_scopes"] == [role.removesuffix("_token")]
        assert body["may_give_kudos"] is False
    else:
        assert body["actor"] == role
        assert body["is_token"] is False
        assert body["token_scopes"] is None
    if role == "ada":
        assert body["agent_id"] == str(world.ada)
        assert body["roles"] == ["agent"]
        assert body["may_give_kudos"] is True
    if role == "sam":
        assert body["led_team_ids"] == [str(world.billing)]
    if role == "root":
        assert body["may_administer"] is True


@pytest.mark.parametrize(
    ("role", "sees_notes"),
    [
        ("ada", True),  # her own history
        ("ben", False),  # a colleague
        ("sam", True),  # her supervisor
        ("audrey", True),
        ("root", True),
        ("read_token", True),
    ],
)
def test_notes_in_a_history_show_only_to_those_who_may_see_it(
    world: World, role: str, sees_notes: bool
) -> None:
    body = world.caller(role).get(f"/api/v1/agents/{world.ada}/history").json()
    assert body["private"] is sees_notes
    seeded = [item for item in body["items"] if item["call_ref"] == "CALL-1"]
    assert len(seeded) == 1
    assert seeded[0]["note"] == ("a private word of thanks" if sees_notes else None)
    assert seeded[0]["recorded_by"] == "sam"
    assert seeded[0]["points"] > 0


def test_a_supervisor_of_another_team_does_not_see_the_notes(world: World) -> None:
    body = world.caller("sam").get(f"/api/v1/agents/{world.cy}/history").json()
    assert body["private"] is False


def test_history_pages_and_refuses_a_bad_limit(world: World) -> None:
    caller = world.caller("root")
    body = caller.get(f"/api/v1/agents/{world.ada}/history", limit=1, offset=0).json()
    assert (body["limit"], body["offset"]) == (1, 0)
    assert len(body["items"]) <= 1
    assert body["total"] >= 1
    assert_error(caller.get(f"/api/v1/agents/{world.ada}/history", limit=0), 400, "limit")
    huge = 10193328772255664046080  # beyond any database's integers: refused, not a 500
    assert_error(caller.get(f"/api/v1/agents/{world.ada}/history", offset=huge), 400, "offset")


@pytest.mark.parametrize("suffix", ["", "/history", "/badges", "/xp"])
def test_an_unknown_agent_answers_404_in_the_error_shape(world: World, suffix: str) -> None:
    unknown = uuid4()
    body = assert_error(world.caller("root").get(f"/api/v1/agents/{unknown}{suffix}"), 404)
    assert str(unknown) in str(body["detail"])


def test_badges_list_every_badge_with_progress(world: World) -> None:
    badges = world.caller("ada").get(f"/api/v1/agents/{world.ada}/badges").json()
    assert badges
    assert {"key", "name", "tier", "progress", "next_threshold"} <= set(badges[0])


def test_around_me_centres_the_leaderboard_on_the_calling_agent(world: World) -> None:
    body = world.caller("ben").get("/api/v1/leaderboards", around="me", limit=1).json()
    assert [row["agent_id"] for row in body["rows"]] == [str(world.ben)]


@pytest.mark.parametrize("role", ["sam", "audrey", "root", "read_token"])
def test_around_me_is_a_bad_parameter_for_someone_who_is_not_an_agent(
    world: World, role: str
) -> None:
    body = assert_error(world.caller(role).get("/api/v1/leaderboards", around="me"), 400, "around")
    assert "agent" in str(body["detail"])


def test_around_something_else_is_a_bad_parameter(world: World) -> None:
    assert_error(world.caller("ada").get("/api/v1/leaderboards", around="you"), 400, "around")


def test_the_rulebook_in_force_comes_with_its_version_and_start(world: World) -> None:
    body = world.caller("read_token").get("/api/v1/rulebook").json()
    assert body["version"] == 1
    assert body["effective_from"].startswith("2000-01-01")
    assert body["rules"]["version"] == 1
    assert body["rules"]["kudos"]["cap_per_giver_per_day"] >= 1
    assert body["rules"]["xp"]["ToughCallHandledWithGrace"] > 0


def test_the_allowance_is_for_agents_only(world: World) -> None:
    for role in ("sam", "audrey", "root", "read_token", "record_token"):
        assert_error(world.caller(role).get("/api/v1/kudos/allowance"), 403)


def test_the_openapi_document_declares_every_error_with_the_error_body(world: World) -> None:
    document = world.main.get("/schema/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) >= 14
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"401"} if path == "/api/v1/me" else {"401", "403"}  # /me: about the caller
        assert expected <= set(responses), (method, path)
        if method == "post":
            assert {"400", "404", "409", "413", "422"} <= set(responses), path
        for status, response in responses.items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"status_code", "detail", "field"}
    recognition = document["components"]["schemas"]["RecognitionIn"]
    assert recognition["additionalProperties"] is False
    assert "recorded_by" not in recognition["properties"]
