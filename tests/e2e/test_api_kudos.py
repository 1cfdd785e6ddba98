"""Kudos through the JSON API: from the signed-in agent only, within the daily cap."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from tests.e2e.api_world import World, serve_world


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from serve_world(request.param, tmp_path_factory.mktemp("api-kudos"))


def thanks(colleague: UUID, **changes: Any) -> dict[str, Any]:
    return {
        "to": str(colleague),
        "competencies": ["teamwork"],
        "note": "covered my queue",
        **changes,
    }


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail", "field"}
    assert body["status_code"] == status
    if field is not None:
        assert body["field"] == field
    return str(body["detail"])


def refused(world: World, role: str, body: Any, status: int, field: str | None = None) -> str:
    before = world.log_position()
    detail = assert_error(world.caller(role).post("/api/v1/kudos", body), status, field)
    assert world.log_position() == before, "a refused request must change nothing"
    return detail


def allowance(world: World, role: str) -> dict[str, Any]:
    response = world.caller(role).get("/api/v1/kudos/allowance")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_agent_gives_kudos_and_the_colleague_earns_xp(world: World) -> None:
    response = world.caller("ada").post("/api/v1/kudos", thanks(world.ben))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["projected"] is True
    assert body["xp"] > 0
    recording = world.runtime.app.recording(UUID(body["recording_id"]))
    assert (recording.agent_id, recording.recorded_by) == (world.ben, "ada")
    lines = world.caller("ben").get(f"/api/v1/agents/{world.ben}/xp").json()["lines"]
    assert body["recording_id"] in {line["recording_id"] for line in lines}


def test_the_allowance_counts_down_with_each_kudos_given(world: World) -> None:
    before = allowance(world, "ada")
    cap = world.caller("ada").get("/api/v1/rulebook").json()["rules"]["kudos"]
    assert before["cap"] == cap["cap_per_giver_per_day"]
    assert before["remaining"] == before["cap"] - before["given"]
    response = world.caller("ada").post("/api/v1/kudos", thanks(world.cy))
    assert response.status_code == 201, response.text
    assert response.json()["remaining_today"] == before["remaining"] - 1
    after = allowance(world, "ada")
    assert (after["given"], after["remaining"]) == (before["given"] + 1, before["remaining"] - 1)


def test_the_daily_cap_bites_with_a_clear_409_that_changes_nothing(world: World) -> None:
    left = allowance(world, "ben")["remaining"]
    for _ in range(left):
        assert world.caller("ben").post("/api/v1/kudos", thanks(world.ada)).status_code == 201
    assert allowance(world, "ben")["remaining"] == 0
    detail = refused(world, "ben", thanks(world.ada), 409)
    assert "cap" in detail
    assert "tomorrow" in detail


@pytest.mark.parametrize("role", ["sam", "audrey", "root", "read_token", "record_token"])
def test_only_an_agent_may_give_kudos(world: World, role: str) -> None:
    detail = refused(world, role, thanks(world.ada), 403)
    assert "agent" in detail


def test_nobody_gives_kudos_to_themselves(world: World) -> None:
    refused(world, "ada", thanks(world.ada), 422, "to")


def test_kudos_to_an_unknown_colleague_answer_404(world: World) -> None:
    refused(world, "ada", thanks(uuid4()), 404, "to")


def test_kudos_to_a_departed_colleague_answer_409(world: World) -> None:
    refused(world, "ada", thanks(world.dee), 409, "to")


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"competencies": ["charm"]}, 422, "competencies"),
        ({"note": "x" * 5000}, 422, "note"),
        ({"to": "ben"}, 400, "to"),
        ({"from_agent": "someone"}, 400, "from_agent"),
    ],
)
def test_bad_kudos_input_is_refused_naming_the_field(
    world: World, changes: dict[str, Any], status: int, field: str
) -> None:
    refused(world, "ada", thanks(world.ben, **changes), status, field)
