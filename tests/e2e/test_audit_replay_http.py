"""The replay check over HTTP, on both stores: the API and the page for auditors and admins,
403 for everyone else (tokens too), and a check that writes nothing to the log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import update

from projections.tables import agent_profiles
from tests.e2e.api_world import ROLES, Caller, World, serve_world

AUDITORS = ("audrey", "root")
WAIT_LIMIT_SECONDS = 120


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from serve_world(request.param, tmp_path_factory.mktemp("audit-replay"))


def _finished(caller: Caller, job_id: str) -> dict[str, Any]:
    """Poll the job until it is done (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while True:
        answer = caller.get(f"/api/v1/audit/replays/{job_id}")
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["state"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def _run(caller: Caller) -> dict[str, Any]:
    started = caller.post("/api/v1/audit/replays")
    assert started.status_code == 202, started.text
    assert started.json()["state"] == "running"
    return _finished(caller, started.json()["id"])


@pytest.mark.parametrize("who", AUDITORS)
def test_auditors_and_admins_run_the_replay_check_and_it_is_identical(
    world: World, who: str
) -> None:
    world.wait_for_projections()
    before = world.log_position()
    job = _run(world.caller(who))
    assert job["state"] == "identical", job
    assert job["difference_count"] == 0
    assert job["differences"] == []
    assert job["percent"] == 100
    assert job["position"] == world.runtime.projector.position()
    assert job["started_by"] == who
    assert world.log_position() == before  # nothing was written to the event store


def test_a_tampered_profile_shows_up_in_the_api_and_on_the_page(world: World) -> None:
    world.wait_for_projections()
    with world.runtime.read_engine.begin() as connection:
        connection.execute(
            update(agent_profiles)
            .where(agent_profiles.c.agent_id == world.ada)
            .values(xp_total=agent_profiles.c.xp_total + 1000)
        )
    try:
        job = _run(world.caller("audrey"))
        assert job["state"] == "different"
        assert job["difference_count"] == 1
        [difference] = job["differences"]
        assert difference["table"] == "agent_profiles"
        assert difference["key"] == {"agent_id": str(world.ada)}
        assert difference["column"] == "xp_total"
        assert int(difference["live"]) - int(difference["replayed"]) == 1000
        page = world.caller("audrey").get(f"/audit/replay/{job['id']}")
        assert page.status_code == 200
        assert "1 difference" in page.text
        assert "xp_total" in page.text
        assert 'hx-trigger="every 1s"' not in page.text  # done: the polling stops
    finally:
        with world.runtime.read_engine.begin() as connection:
            connection.execute(
                update(agent_profiles)
                .where(agent_profiles.c.agent_id == world.ada)
                .values(xp_total=agent_profiles.c.xp_total - 1000)
            )


@pytest.mark.parametrize("who", [r for r in ROLES if r not in (*AUDITORS, "anonymous")])
def test_everyone_else_gets_403_from_the_api_and_the_page(world: World, who: str) -> None:
    caller = world.caller(who)
    assert caller.post("/api/v1/audit/replays").status_code == 403
    assert caller.get(f"/api/v1/audit/replays/{uuid4()}").status_code == 403
    if not caller.headers:  # people; tokens do not use the pages
        assert caller.get("/audit/replay").status_code == 403
        assert (
            caller.client.post("/audit/replay", headers=caller.headers_for(None)).status_code == 403
        )


def test_anonymous_visitors_get_401_from_the_api_and_the_sign_in_page(world: World) -> None:
    caller = world.caller("anonymous")
    assert caller.post("/api/v1/audit/replays").status_code in (401, 403)
    assert caller.get(f"/api/v1/audit/replays/{uuid4()}").status_code == 401
    page = caller.client.get("/audit/replay", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=/audit/replay")


def test_an_unknown_replay_check_is_404(world: World) -> None:
    answer = world.caller("audrey").get(f"/api/v1/audit/replays/{uuid4()}")
    assert answer.status_code == 404
    assert answer.json()["status_code"] == 404


def test_the_page_offers_the_button_and_htmx_gets_the_polling_partial(world: World) -> None:
    auditor = world.caller("audrey")
    page = auditor.get("/audit/replay")
    assert page.status_code == 200
    assert "Run the replay check" in page.text
    started = auditor.client.post(
        "/audit/replay", headers={**auditor.headers_for(None), "HX-Request": "true"}
    )
    assert started.status_code == 202
    assert 'id="replay-job"' in started.text
    assert "<html" not in started.text
    job_id = started.text.split('href="/audit/replay/', 1)[1].split('"', 1)[0]
    if 'hx-trigger="every 1s"' in started.text:
        assert f'hx-get="/audit/replay/{job_id}"' in started.text
    assert _finished(auditor, job_id)["state"] == "identical"
    done = auditor.client.get(f"/audit/replay/{job_id}", headers={"HX-Request": "true"})
    assert "identical" in done.text.lower()
    assert "every 1s" not in done.text


def test_a_second_check_while_one_runs_is_409_naming_it(world: World) -> None:
    auditor = world.caller("root")
    first = auditor.post("/api/v1/audit/replays")
    assert first.status_code == 202
    second = auditor.post("/api/v1/audit/replays")
    if second.status_code == 409:
        assert first.json()["id"] in second.json()["detail"]
    else:  # allowed only when the first had already finished
        assert second.status_code == 202
        first_now = auditor.get(f"/api/v1/audit/replays/{first.json()['id']}").json()
        assert first_now["state"] != "running"
        _finished(auditor, second.json()["id"])
    _finished(auditor, first.json()["id"])
