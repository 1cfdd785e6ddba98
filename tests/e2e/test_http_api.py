"""The JSON API's reads over a demo centre, through Litestar's TestClient, on both stores.

The client holds a read-scoped API token; who may read what is in ``test_api_access``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.demo import fill_demo
from api.runtime import open_runtime
from api.settings import Settings
from domain.identity import agent_id_for
from tests.conftest import POSTGRES_URL, _postgres_schema, make_sqlite_database, require_postgres
from tests.e2e.http_helpers import bearer

AGENTS = 12


@dataclass(frozen=True)
class Served:
    client: TestClient[Any]
    log_position: int


def _settings(database_url: str, read_url: str, run_projector: bool) -> Settings:
    return Settings(
        database_url=database_url, read_database_url=read_url, run_projector=run_projector
    )


def _serve(settings: Settings, schema: str | None) -> Iterator[Served]:
    now = datetime.now(UTC)
    runtime = open_runtime(settings, now=now, schema=schema)
    fill_demo(runtime.app, now=now, seed=11, agents=AGENTS, days=30, hash_password=str.upper)
    read_token = bearer(runtime.app, ["read"])  # the API needs read rights
    runtime.projector.catch_up()
    position = runtime.log_position()
    with TestClient(create_app(settings, runtime=runtime)) as client:
        client.headers.update(read_token)
        yield Served(client=client, log_position=position)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    if request.param == "sqlite":
        database = make_sqlite_database(tmp_path_factory.mktemp("http"))
        yield from _serve(_settings(database.database_url, database.read_url, False), None)
        return
    require_postgres()
    for schema in _postgres_schema():
        yield from _serve(_settings(POSTGRES_URL, POSTGRES_URL, False), schema)


@pytest.fixture
def client(served: Served) -> TestClient[Any]:
    return served.client


def a_present_agent(client: TestClient[Any]) -> dict[str, Any]:
    agents: list[dict[str, Any]] = client.get("/api/v1/agents").json()
    return agents[0]


def assert_bad_parameter(client: TestClient[Any], url: str, field: str) -> str:
    response = client.get(url)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail", "field"}
    assert body["status_code"] == 400
    assert body["field"] == field
    assert body["detail"]
    return str(body["detail"])


# ---------------------------------------------------------------------------- leaderboards


def test_the_overall_leaderboard_ranks_every_present_agent_by_xp(client: TestClient[Any]) -> None:
    body = client.get("/api/v1/leaderboards", params={"limit": 50}).json()
    assert (body["scope"], body["window"], body["total"]) == ("overall", "all", AGENTS - 1)
    xp = [row["xp"] for row in body["rows"]]
    assert xp == sorted(xp, reverse=True)
    assert body["rows"][0]["rank"] == 1
    assert {"agent_id", "handle", "name", "team_id", "team_name", "xp", "level", "rank"} <= set(
        body["rows"][0]
    )


@pytest.mark.parametrize("window", ["week", "month", "all"])
def test_each_window_starts_where_it_should(client: TestClient[Any], window: str) -> None:
    body = client.get("/api/v1/leaderboards", params={"window": window}).json()
    start = datetime.fromisoformat(body["window_start"]).date()
    today = datetime.now(UTC).date()
    if window == "week":
        assert start.isoweekday() == 1
        assert (today - start).days < 7
    elif window == "month":
        assert start == today.replace(day=1)
    else:
        assert start.year == 1970


def test_a_team_leaderboard_lists_only_the_team(client: TestClient[Any]) -> None:
    team = client.get("/api/v1/teams").json()[0]
    body = client.get(
        "/api/v1/leaderboards", params={"scope": "team", "team": team["team_id"]}
    ).json()
    assert body["total"] == team["members"]
    assert {row["team_id"] for row in body["rows"]} == {team["team_id"]}


def test_a_competency_leaderboard_accepts_the_label_of_a_competency(
    client: TestClient[Any],
) -> None:
    body = client.get(
        "/api/v1/leaderboards", params={"scope": "competency", "competency": "Customer Service"}
    ).json()
    assert body["competency"] == "customer_service"
    assert body["total"] == AGENTS - 1


def test_around_centres_the_page_on_the_agent(client: TestClient[Any]) -> None:
    board = client.get("/api/v1/leaderboards", params={"limit": 50}).json()["rows"]
    last = board[-1]["agent_id"]
    page = client.get("/api/v1/leaderboards", params={"limit": 3, "around": last}).json()
    assert last in [row["agent_id"] for row in page["rows"]]
    assert page["offset"] > 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("scope=galaxy", "scope"),
        ("window=year", "window"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("offset=-1", "offset"),
        ("offset=10133438325360171524554752", "offset"),
        ("scope=team", "team"),
        ("scope=team&team=not-a-uuid", "team"),
        ("team=7f1d2c3b-0000-4000-8000-000000000001", "team"),
        ("scope=competency", "competency"),
        ("scope=competency&competency=charm", "competency"),
        ("competency=teamwork", "competency"),
        ("around=nobody", "around"),
    ],
)
def test_a_bad_leaderboard_parameter_answers_400_naming_the_field(
    client: TestClient[Any], query: str, field: str
) -> None:
    assert_bad_parameter(client, f"/api/v1/leaderboards?{query}", field)


def test_an_unknown_team_answers_404(client: TestClient[Any]) -> None:
    response = client.get("/api/v1/leaderboards", params={"scope": "team", "team": str(uuid4())})
    assert response.status_code == 404
    assert "no team" in response.json()["detail"]


# ---------------------------------------------------------------------------------- agents


def test_the_agent_list_leaves_out_departed_agents_unless_asked(client: TestClient[Any]) -> None:
    present = client.get("/api/v1/agents").json()
    everyone = client.get("/api/v1/agents", params={"include_departed": "true"}).json()
    assert len(present) == AGENTS - 1
    assert len(everyone) == AGENTS
    names = [a["name"] for a in present]
    assert names == sorted(names)


def test_an_agents_profile_shows_level_xp_streaks_and_badges(client: TestClient[Any]) -> None:
    agent = a_present_agent(client)
    profile = client.get(f"/api/v1/agents/{agent['agent_id']}").json()
    assert profile["handle"] == agent["handle"]
    assert profile["xp_total"] == agent["xp_total"]
    assert set(profile["xp_by_competency"]) == {
        "communication",
        "teamwork",
        "problem_solving",
        "adaptability",
        "customer_service",
        "time_management",
        "leadership",
    }
    assert profile["badges"]
    assert {"key", "tier", "progress"} <= set(profile["badges"][0])
    assert profile["best_streak"] >= profile["current_streak"] >= 0


def test_an_agents_history_is_newest_first_and_limited(client: TestClient[Any]) -> None:
    agent = a_present_agent(client)
    body = client.get(f"/api/v1/agents/{agent['agent_id']}/history", params={"limit": 5}).json()
    items = body["items"]
    assert 0 < len(items) <= 5
    assert body["total"] >= len(items)
    moments = [item["occurred_at"] for item in items]
    assert moments == sorted(moments, reverse=True)


def test_every_xp_point_of_an_agent_is_explained(client: TestClient[Any]) -> None:
    agent = a_present_agent(client)
    body = client.get(f"/api/v1/agents/{agent['agent_id']}/xp").json()
    assert body["xp_total"] == agent["xp_total"] == sum(line["points"] for line in body["lines"])
    assert all(line["rule"] and line["rulebook_version"] == 1 for line in body["lines"])


@pytest.mark.parametrize("suffix", ["", "/history", "/badges", "/xp"])
def test_an_unknown_agent_answers_404(client: TestClient[Any], suffix: str) -> None:
    response = client.get(f"/api/v1/agents/{agent_id_for('nobody-here')}{suffix}")
    assert response.status_code == 404
    assert response.json() == {
        "status_code": 404,
        "detail": f"no agent with id {agent_id_for('nobody-here')}",
        "field": None,
    }


def test_an_agent_id_that_is_not_a_uuid_answers_404(client: TestClient[Any]) -> None:
    assert client.get("/api/v1/agents/not-a-uuid").status_code == 404


def test_a_bad_history_limit_answers_400(client: TestClient[Any]) -> None:
    agent = a_present_agent(client)
    assert_bad_parameter(client, f"/api/v1/agents/{agent['agent_id']}/history?limit=0", "limit")


def test_a_bad_team_filter_answers_400(client: TestClient[Any]) -> None:
    assert_bad_parameter(client, "/api/v1/agents?team=blue", "team")


# --------------------------------------------------------------------------- teams, health


def test_teams_list_their_members_and_supervisors(client: TestClient[Any]) -> None:
    teams = client.get("/api/v1/teams").json()
    assert [t["name"] for t in teams] == sorted(t["name"] for t in teams)
    assert sum(t["members"] for t in teams) == AGENTS - 1
    assert all(len(t["supervisors"]) == 1 for t in teams)
    UUID(teams[0]["supervisors"][0])


def test_healthz_reports_the_projection_and_log_positions(served: Served) -> None:
    body = served.client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["log_position"] == served.log_position
    assert body["projector_position"] == served.log_position
    assert body["projector_running"] is False


def test_the_openapi_schema_lists_the_routes(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert {"/api/v1/leaderboards", "/api/v1/agents", "/api/v1/teams", "/healthz"} <= set(paths)


def test_the_projector_thread_runs_inside_the_app_when_asked(tmp_path: Path) -> None:
    database = make_sqlite_database(tmp_path)
    settings = _settings(database.database_url, database.read_url, True)
    app = create_app(settings)
    runtime = app.state.runtime
    with TestClient(app) as client:
        client.headers.update(bearer(runtime.app, ["read"]))
        team = runtime.app.form_team(name="Night Shift", formed_by="admin")
        assert runtime.projector.wait_until(runtime.log_position(), timeout=30)
        teams = client.get("/api/v1/teams").json()
        assert [t["team_id"] for t in teams] == [str(team)]
        health = client.get("/healthz").json()
        assert health["projector_running"] is True
    assert runtime.thread is None or not runtime.thread.running
