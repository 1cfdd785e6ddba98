"""``as_of`` on the JSON API: leaderboards and profiles as they stood at a past moment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from tests.conftest import Database
from tests.e2e.http_helpers import World, bearer, open_world


@dataclass
class Past:
    world: World
    between: datetime  # after the first recognition was recorded, before the second


def _record(world: World, course: str) -> None:
    now = datetime.now(UTC)
    world.app.record(
        RecordRecognition(
            kind=RecognitionKind.TRAINING_COMPLETED,
            agent_id=world.agent_id,
            competencies=("problem_solving",),
            occurred_at=now - timedelta(hours=1),
            recorded_by="sam",
            course=course,
            score=90,
        ),
        now=now,
    )


@pytest.fixture
def past(database: Database) -> Iterator[Past]:
    with open_world(database) as world:
        _record(world, "De-escalation")
        between = datetime.now(UTC)
        _record(world, "Active listening")
        world.client.app.state.runtime.projector.catch_up()
        yield Past(world, between)


def _get(past: Past, url: str, **params: Any) -> Any:
    return past.world.client.get(url, params=params, headers=bearer(past.world.app, ["read"]))


def test_the_leaderboard_as_of_a_moment_leaves_out_what_was_recorded_later(past: Past) -> None:
    live = _get(past, "/api/v1/leaderboards").json()
    then = _get(past, "/api/v1/leaderboards", as_of=past.between.isoformat()).json()
    assert live["rows"][0]["xp"] == 2 * then["rows"][0]["xp"] > 0
    assert then["as_of"] is not None
    assert live["as_of"] is None
    week = _get(past, "/api/v1/leaderboards", window="week", as_of=past.between.isoformat()).json()
    assert week["rows"][0]["xp"] == then["rows"][0]["xp"]


def test_the_profile_badges_and_xp_as_of_a_moment_are_those_of_then(past: Past) -> None:
    agent = past.world.agent_id
    at = past.between.isoformat()
    live = _get(past, f"/api/v1/agents/{agent}").json()
    then = _get(past, f"/api/v1/agents/{agent}", as_of=at).json()
    assert live["xp_total"] == 2 * then["xp_total"] > 0
    lines = _get(past, f"/api/v1/agents/{agent}/xp", as_of=at).json()["lines"]
    assert len(lines) == 1
    assert len(_get(past, f"/api/v1/agents/{agent}/xp").json()["lines"]) == 2
    badges = _get(past, f"/api/v1/agents/{agent}/badges", as_of=at)
    assert badges.status_code == 200
    assert [b["key"] for b in badges.json()] == [b["key"] for b in then["badges"]]


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("yesterday", "ISO 8601"),
        ("2026-03-01T17:00:00", "offset"),
        ("2000-01-01T00:00:00+00:00", "before the first event"),
        ("2999-01-01T00:00:00+00:00", "future"),
    ],
)
def test_an_unusable_moment_gets_a_422_naming_as_of(past: Past, as_of: str, says: str) -> None:
    for url in ("/api/v1/leaderboards", f"/api/v1/agents/{past.world.agent_id}"):
        response = _get(past, url, as_of=as_of)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["field"] == "as_of"
        assert says in body["detail"]


def test_as_of_needs_the_same_rights_as_the_live_view(past: Past) -> None:
    client = past.world.client
    at = past.between.isoformat()
    assert client.get("/api/v1/leaderboards", params={"as_of": at}).status_code == 401
    record_only = bearer(past.world.app, ["record"])
    response = client.get("/api/v1/leaderboards", params={"as_of": at}, headers=record_only)
    assert response.status_code == 403
