"""Recording recognitions through the JSON API: one, a batch, idempotency, retraction.

Every refusal is checked to change nothing: the event log's position is the same after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from tests.e2e.api_world import QA_IDENTITY, World, serve_world


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from serve_world(request.param, tmp_path_factory.mktemp("api-recording"))


def a_tough_call(who: UUID, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "ToughCallHandledWithGrace",
        "agent": str(who),
        "competencies": ["customer_service", "adaptability"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "call_ref": f"CALL-{uuid4().hex[:8]}",
        "note": "kept calm with an angry caller",
    }
    body.update(changes)
    return body


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail", "field"}
    assert body["status_code"] == status
    assert body["detail"]
    if field is not None:
        assert body["field"] == field
    return str(body["detail"])


def refused(
    world: World, role: str, url: str, body: Any, status: int, field: str | None = None, **kw: Any
) -> str:
    before = world.log_position()
    detail = assert_error(world.caller(role).post(url, body, **kw), status, field)
    assert world.log_position() == before, "a refused request must change nothing"
    return detail


def recorded_by(world: World, recording_id: str) -> str:
    return world.runtime.app.recording(UUID(recording_id)).recorded_by


# ------------------------------------------------------------------------------ one recording


@pytest.mark.parametrize(
    ("role", "actor"), [("sam", "sam"), ("root", "root"), ("record_token", QA_IDENTITY)]
)
def test_a_recorder_records_a_recognition_and_sees_the_xp_it_earned(
    world: World, role: str, actor: str
) -> None:
    response = world.caller(role).post("/api/v1/recognitions", a_tough_call(world.ada))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] is True
    assert body["projected"] is True
    assert body["xp"] > 0
    assert body["rule"]
    assert recorded_by(world, body["recording_id"]) == actor


def test_the_recorder_is_the_principal_never_the_body(world: World) -> None:
    body = a_tough_call(world.ada, recorded_by="somebody-else")
    refused(world, "sam", "/api/v1/recognitions", body, 400, "recorded_by")


@pytest.mark.parametrize("role", ["ada", "ben", "audrey", "read_token"])
def test_who_may_not_record_is_refused_with_403(world: World, role: str) -> None:
    refused(world, role, "/api/v1/recognitions", a_tough_call(world.ada), 403)


def test_a_supervisor_may_not_record_for_another_team(world: World) -> None:
    detail = refused(world, "sam", "/api/v1/recognitions", a_tough_call(world.cy), 403)
    assert "Cy Twombly" in detail


def test_an_unknown_agent_answers_404(world: World) -> None:
    refused(world, "root", "/api/v1/recognitions", a_tough_call(uuid4()), 404, "agent")


def test_a_departed_agent_answers_409(world: World) -> None:
    refused(world, "sam", "/api/v1/recognitions", a_tough_call(world.dee), 409, "agent")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"competencies": ["charm"]}, "competencies"),
        ({"competencies": []}, "competencies"),
        ({"occurred_at": "2099-01-01T00:00:00+00:00"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T09:00:00"}, "occurred_at"),
        ({"type": "FeedbackGiven", "rating": 9}, "rating"),
        ({"type": "FeedbackGiven", "rating": 4, "feedback_kind": "shouting"}, "feedback_kind"),
        ({"type": "TrainingCompleted", "course": "De-escalation"}, "score"),
        ({"type": "InitiativeTaken"}, "description"),
        ({"call_ref": "  "}, "call_ref"),
        ({"note": "x" * 5000}, "note"),
    ],
)
def test_input_that_breaks_a_domain_rule_answers_422_naming_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    refused(world, "sam", "/api/v1/recognitions", a_tough_call(world.ada, **changes), 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "Bribery"}, "type"),
        ({"agent": "not-a-uuid"}, "agent"),
        ({"rating": "five"}, "rating"),
        ({"competencies": "teamwork"}, "competencies"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
    ],
)
def test_malformed_input_answers_400_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    refused(world, "sam", "/api/v1/recognitions", a_tough_call(world.ada, **body), 400, field)


def test_a_body_that_is_not_json_answers_400(world: World) -> None:
    before = world.log_position()
    caller = world.caller("record_token")
    response = caller.client.post(
        "/api/v1/recognitions",
        content=b"{not json",
        headers={**caller.headers, "content-type": "application/json"},
    )
    assert_error(response, 400)
    assert world.log_position() == before


def test_a_cookie_authenticated_write_without_the_csrf_header_is_refused(world: World) -> None:
    caller = world.caller("sam")
    before = world.log_position()
    response = caller.client.post("/api/v1/recognitions", json=a_tough_call(world.ada))
    assert response.status_code == 403, response.text
    assert world.log_position() == before


def test_a_body_over_the_size_limit_answers_413(world: World) -> None:
    limit = world.runtime.settings.max_body_bytes
    body = a_tough_call(world.ada, note="x" * (limit + 10))
    refused(world, "record_token", "/api/v1/recognitions", body, 413)


# ------------------------------------------------------------------------------ idempotency


def test_a_retry_with_the_same_idempotency_key_records_once(world: World) -> None:
    caller = world.caller("sam")
    key = {"Idempotency-Key": f"retry-{uuid4()}"}
    body = a_tough_call(world.ben)
    first = caller.post("/api/v1/recognitions", body, headers=key)
    assert first.status_code == 201, first.text
    before = world.log_position()
    again = caller.post("/api/v1/recognitions", body, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["recording_id"] == first.json()["recording_id"]
    assert again.json()["xp"] == first.json()["xp"]
    assert world.log_position() == before


def test_an_idempotency_key_reused_for_another_body_answers_409(world: World) -> None:
    key = {"Idempotency-Key": f"reuse-{uuid4()}"}
    first = world.caller("sam").post("/api/v1/recognitions", a_tough_call(world.ben), headers=key)
    assert first.status_code == 201
    other = a_tough_call(world.ben, call_ref="ANOTHER-CALL")
    refused(world, "sam", "/api/v1/recognitions", other, 409, "idempotency_key", headers=key)


def test_the_same_key_from_two_recorders_records_twice(world: World) -> None:
    key = {"Idempotency-Key": f"shared-{uuid4()}"}
    body = a_tough_call(world.ada)
    ids = {
        world.caller(role).post("/api/v1/recognitions", body, headers=key).json()["recording_id"]
        for role in ("sam", "root")
    }
    assert len(ids) == 2


# ------------------------------------------------------------------------------ batches


def test_a_batch_records_every_item_with_its_xp(world: World) -> None:
    items = [a_tough_call(world.ada), a_tough_call(world.ben), a_tough_call(world.cy)]
    response = world.caller("record_token").post("/api/v1/recognitions/batch", {"items": items})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 3
    assert body["projected"] is True
    assert [r["created"] for r in body["results"]] == [True, True, True]
    assert all(r["xp"] is not None for r in body["results"])
    assert {recorded_by(world, r["recording_id"]) for r in body["results"]} == {QA_IDENTITY}


def test_a_batch_with_one_bad_item_records_nothing_and_names_the_item(world: World) -> None:
    items = [a_tough_call(world.ada), a_tough_call(world.ben, competencies=["charm"])]
    detail = refused(
        world, "root", "/api/v1/recognitions/batch", {"items": items}, 422, "items[1].competencies"
    )
    assert detail.startswith("item 2")


def test_a_batch_with_an_item_for_another_team_is_refused_whole(world: World) -> None:
    items = [a_tough_call(world.ada), a_tough_call(world.cy)]
    refused(world, "sam", "/api/v1/recognitions/batch", {"items": items}, 403)


def test_a_batch_with_an_unknown_agent_answers_404_naming_the_item(world: World) -> None:
    items = [a_tough_call(world.ada), a_tough_call(uuid4())]
    refused(world, "root", "/api/v1/recognitions/batch", {"items": items}, 404, "items[1].agent")


def test_a_batch_of_one_names_its_item_too(world: World) -> None:
    items = [a_tough_call(world.ada, rating=1, type="FeedbackGiven", feedback_kind="nope")]
    refused(
        world, "root", "/api/v1/recognitions/batch", {"items": items}, 422, "items[0].feedback_kind"
    )


@pytest.mark.parametrize("size", [0, 1001])
def test_a_batch_outside_one_to_a_thousand_items_answers_400(world: World, size: int) -> None:
    item = a_tough_call(world.ada)
    refused(world, "root", "/api/v1/recognitions/batch", {"items": [item] * size}, 400, "items")


def test_a_batch_retry_with_the_same_key_records_once(world: World) -> None:
    key = {"Idempotency-Key": f"batch-{uuid4()}"}
    own_key = f"own-{uuid4()}"
    items = [a_tough_call(world.ada), a_tough_call(world.ben, idempotency_key=own_key)]
    caller = world.caller("sam")
    first = caller.post("/api/v1/recognitions/batch", {"items": items}, headers=key)
    assert first.status_code == 201, first.text
    before = world.log_position()
    again = caller.post("/api/v1/recognitions/batch", {"items": items}, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["created"] == 0
    assert [r["recording_id"] for r in again.json()["results"]] == [
        r["recording_id"] for r in first.json()["results"]
    ]
    assert world.log_position() == before
    # the item's own key stands alone: the same item posted singly with it is a replay
    alone = {k: v for k, v in items[1].items() if k != "idempotency_key"}
    single = caller.post("/api/v1/recognitions", alone, headers={"Idempotency-Key": own_key})
    assert single.status_code == 200
    assert single.json()["recording_id"] == first.json()["results"][1]["recording_id"]


def test_a_batch_item_reusing_a_key_for_another_body_answers_409(world: World) -> None:
    key = {"Idempotency-Key": f"batch-reuse-{uuid4()}"}
    items = [a_tough_call(world.ada)]
    assert world.caller("sam").post("/api/v1/recognitions/batch", {"items": items}, headers=key)
    changed = [a_tough_call(world.ada, call_ref="CHANGED")]
    refused(world, "sam", "/api/v1/recognitions/batch", {"items": changed}, 409, headers=key)


# ------------------------------------------------------------------------------ retraction


def recorded(world: World, role: str) -> str:
    response = world.caller(role).post("/api/v1/recognitions", a_tough_call(world.ada))
    assert response.status_code == 201, response.text
    return str(response.json()["recording_id"])


def explained(world: World, agent: UUID) -> set[str]:
    lines = world.caller("root").get(f"/api/v1/agents/{agent}/xp").json()["lines"]
    return {line["recording_id"] for line in lines}


def test_the_recorder_retracts_a_recording_and_its_xp_leaves(world: World) -> None:
    recording = recorded(world, "sam")
    assert recording in explained(world, world.ada)
    response = world.caller("sam").post(
        f"/api/v1/recordings/{recording}/retraction", {"reason": "recorded for the wrong call"}
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"recording_id": recording, "retracted": True, "projected": True}
    assert recording not in explained(world, world.ada)
    assert world.runtime.app.recording(UUID(recording)).retracted


def test_an_admin_retracts_anyones_recording(world: World) -> None:
    recording = recorded(world, "record_token")
    response = world.caller("root").post(
        f"/api/v1/recordings/{recording}/retraction", {"reason": "duplicate from QA"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("role", ["ada", "audrey", "read_token", "record_token"])
def test_someone_else_may_not_retract_a_recording(world: World, role: str) -> None:
    recording = recorded(world, "sam")
    url = f"/api/v1/recordings/{recording}/retraction"
    refused(world, role, url, {"reason": "I do not like it"}, 403)


def test_a_second_retraction_answers_409(world: World) -> None:
    recording = recorded(world, "sam")
    url = f"/api/v1/recordings/{recording}/retraction"
    assert world.caller("sam").post(url, {"reason": "wrong agent"}).status_code == 201
    refused(world, "sam", url, {"reason": "again"}, 409, "recording_id")


def test_retracting_an_unknown_recording_answers_404(world: World) -> None:
    url = f"/api/v1/recordings/{uuid4()}/retraction"
    refused(world, "root", url, {"reason": "no such thing"}, 404, "recording_id")


def test_a_retraction_needs_a_reason(world: World) -> None:
    recording = recorded(world, "sam")
    url = f"/api/v1/recordings/{recording}/retraction"
    refused(world, "sam", url, {"reason": "   "}, 422, "reason")
    refused(world, "sam", url, {}, 400, "reason")
