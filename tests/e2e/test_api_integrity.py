"""GET /api/v1/audit/public-key and /api/v1/audit/verification: for auditors and admins,
on both stores; a tampered store is reported by kind and position."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.signatures import public_key_from_pem
from tests.conftest import Database
from tests.e2e.api_world import World, serve_world
from tests.e2e.test_api_access import assert_error
from tests.integration.tamper_helpers import RawStore

URLS = ("/api/v1/audit/public-key", "/api/v1/audit/verification")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    for world in serve_world(request.param, tmp_path_factory.mktemp("api-integrity")):
        world.wait_for_projections()
        world.runtime.sealer.seal(force_checkpoint=True)
        yield world


def raw_store(world: World) -> RawStore:
    url = world.runtime.settings.database_url
    if url.startswith("sqlite"):
        return RawStore(Database("sqlite", url, url))
    schema = world.runtime.app.recorder.datastore.schema  # type: ignore[attr-defined]
    return RawStore(Database("postgres", url, url, schema))


@pytest.mark.parametrize("role", ["audrey", "root"])
def test_auditors_and_admins_get_the_public_key_and_a_clean_verification(
    world: World, role: str
) -> None:
    caller = world.caller(role)
    key = caller.get("/api/v1/audit/public-key")
    assert key.status_code == 200, key.text
    body = key.json()
    assert body["algorithm"] == "Ed25519"
    assert public_key_from_pem(body["public_key_pem"].encode()).key_id == body["key_id"]
    assert body["key_id"] == world.runtime.integrity.public_key.key_id
    report = caller.get("/api/v1/audit/verification")
    assert report.status_code == 200, report.text
    found = report.json()
    assert found["clean"] is True
    assert found["problems"] == []
    assert found["latest_checkpoint"]["key_id"] == body["key_id"]
    assert found["events_checked"] + found["not_yet_sealed"] == world.log_position()


@pytest.mark.parametrize("role", ["ada", "ben", "sam", "read_token", "record_token"])
def test_everyone_else_is_refused_with_403(world: World, role: str) -> None:
    for url in URLS:
        assert_error(world.caller(role).get(url), 403)


def test_an_anonymous_request_is_refused_with_401(world: World) -> None:
    for url in URLS:
        assert_error(world.caller("anonymous").get(url), 401)


def test_a_changed_event_is_reported_with_its_kind_and_position(world: World) -> None:
    raw = raw_store(world)
    target = raw.event_ids()[3]
    original = bytes(raw.row(target)[3])
    try:
        raw.change_bytes(target)
        found = world.caller("audrey").get("/api/v1/audit/verification").json()
        assert found["clean"] is False
        assert [(p["kind"], p["position"]) for p in found["problems"]] == [
            ("event-changed", target)
        ]
        assert str(target) in found["problems"][0]["description"]
    finally:  # put the bytes back (the world's sealer keeps running: the chain stays as is)
        raw.run(
            f"UPDATE {raw.events} SET state = ? WHERE {raw.id} = ?",
            (original, target),
        )
        raw.close()
    assert world.caller("root").get("/api/v1/audit/verification").json()["clean"] is True
