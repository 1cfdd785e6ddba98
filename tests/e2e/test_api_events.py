"""The event log over HTTP: /api/v1/events and /api/v1/events/export, for every role."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from api.exporter import CSV_COLUMNS
from tests.e2e.api_world import ROLES, World, serve_world

AUDITORS = ("audrey", "root")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from serve_world(request.param, tmp_path_factory.mktemp("events-api"))


def _all_pages(world: World, caller: str, **params: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    url: str | None = "/api/v1/events"
    query: dict[str, Any] | None = dict(params)
    while url is not None:
        response = world.caller(caller).client.get(url, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        events.extend(body["events"])
        url, query = body["next"], None
    return events


@pytest.mark.parametrize("role", [r for r in ROLES if r not in AUDITORS])
def test_only_auditors_and_admins_may_read_or_export_the_event_log(world: World, role: str) -> None:
    expected = 401 if role == "anonymous" else 403
    for url in ("/api/v1/events", "/api/v1/events/export"):
        response = world.caller(role).get(url)
        assert response.status_code == expected, (url, response.text)
        assert response.json()["status_code"] == expected


@pytest.mark.parametrize("role", AUDITORS)
def test_the_auditor_and_the_admin_page_through_every_event_in_log_order(
    world: World, role: str
) -> None:
    world.wait_for_projections()
    events = _all_pages(world, role, limit=3)
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    assert ids[-1] == world.log_position()
    types = {e["type"] for e in events}
    assert {"TeamFormed", "AgentEnrolled", "UserRegistered", "ApiTokenIssued"} <= types
    assert {"ToughCallHandledWithGrace", "AgentDeparted"} <= types
    registered = next(e for e in events if e["type"] == "UserRegistered")
    assert registered["data"]["password_hash"] == "<redacted>"
    issued = next(e for e in events if e["type"] == "ApiTokenIssued")
    assert issued["data"]["token_hash"] == "<redacted>"
    assert issued["recorded_by"] == "root"


def test_filters_by_agent_handle_team_name_type_and_recorder_narrow_the_log(world: World) -> None:
    world.wait_for_projections()
    ada = _all_pages(world, "audrey", agent="ada")
    assert ada
    assert all(e["agent_id"] == str(world.ada) for e in ada)
    assert {e["type"] for e in ada} >= {"AgentEnrolled", "ToughCallHandledWithGrace"}
    tech = _all_pages(world, "audrey", team="Tech")
    assert tech
    assert all(e["team_id"] == str(world.tech) for e in tech)
    calls = _all_pages(world, "audrey", type="ToughCallHandledWithGrace")
    assert [e["recorded_by"] for e in calls] == ["sam"]
    assert calls[0]["occurred_at"] is not None
    assert calls[0]["team_name"] == "Billing"
    by_setup = _all_pages(world, "audrey", recorder="setup", type="AgentEnrolled,AgentDeparted")
    assert {e["type"] for e in by_setup} == {"AgentEnrolled", "AgentDeparted"}
    later = _all_pages(world, "audrey", since=calls[0]["recorded_at"])
    assert later
    assert all(e["recorded_at"] >= calls[0]["recorded_at"] for e in later)
    assert calls[0]["id"] in {e["id"] for e in later}
    assert calls[0]["id"] not in {
        e["id"] for e in _all_pages(world, "audrey", until=calls[0]["recorded_at"])
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "FeedbackGivn"}, "type"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-40"}, "until"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "since"),
        ({"occurred_since": "2026-03-02", "occurred_until": "2026-03-01"}, "occurred_since"),
        ({"agent": "nobody-by-that-handle"}, "agent"),
        ({"team": "No Such Team"}, "team"),
    ],
)
def test_an_unusable_filter_is_a_422_naming_the_field(
    world: World, params: dict[str, str], field: str
) -> None:
    for url in ("/api/v1/events", "/api/v1/events/export"):
        response = world.caller("audrey").get(url, **params)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["field"] == field
        assert body["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"after": "-1"}, "after")],
)
def test_a_limit_or_cursor_out_of_range_is_refused_naming_it(
    world: World, params: dict[str, str], field: str
) -> None:
    response = world.caller("audrey").get("/api/v1/events", **params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_an_unknown_export_format_is_refused_naming_it(world: World) -> None:
    response = world.caller("audrey").get("/api/v1/events/export", format="xml")
    assert response.status_code == 400
    assert response.json()["field"] == "format"


def test_the_whole_export_is_the_event_store_as_json_lines(world: World) -> None:
    world.wait_for_projections()
    response = world.caller("audrey").get("/api/v1/events/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    assert "attachment" in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [e["id"] for e in _all_pages(world, "audrey")]
    assert "sam" not in {line["data"].get("password_hash") for line in lines}


def test_a_filtered_export_gives_the_same_lines_as_the_whole_export_for_those_events(
    world: World,
) -> None:
    world.wait_for_projections()
    whole = world.caller("root").get("/api/v1/events/export").text.splitlines()
    part = world.caller("root").get("/api/v1/events/export", agent="ada").text.splitlines()
    ada_ids = {e["id"] for e in _all_pages(world, "root", agent="ada")}
    assert part == [line for line in whole if json.loads(line)["id"] in ada_ids]


def test_the_csv_export_holds_the_same_events_with_a_header(world: World) -> None:
    world.wait_for_projections()
    response = world.caller("audrey").get("/api/v1/events/export", format="csv", team="Billing")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    expected = _all_pages(world, "audrey", team="Billing")
    assert [int(r["id"]) for r in rows] == [e["id"] for e in expected]
    assert [json.loads(r["data"]) for r in rows] == [e["data"] for e in expected]
