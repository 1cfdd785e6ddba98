"""Guards, CSRF, body limits, security headers and API tokens, through the real app.

Test-only routes registered on the app stand for the pages and write routes: each write
appends to ``world.changes``, so a refused request can be shown to have changed nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy import Engine

from api.auth.guards import NotAllowed, principal_of, requires_role, signed_in
from api.auth.responses import CONTENT_SECURITY_POLICY
from api.settings import Settings
from domain.accounts import Role
from domain.application import Callcraft
from domain.principals import TokenScope, may_record_for
from tests.conftest import make_sqlite_database
from tests.e2e.http_helpers import World, bearer, csrf_headers, open_world, sign_in

SMALL_BODY_LIMIT = 4096


def probes(world: World) -> list[ControllerRouterHandler]:
    @get("/probe/page", guards=[signed_in], media_type=MediaType.HTML, sync_to_thread=False)
    def page() -> str:
        return "<p>a page</p>"

    @get(
        "/probe/admin",
        guards=[requires_role(Role.ADMIN)],
        media_type=MediaType.HTML,
        sync_to_thread=False,
    )
    def admin_page() -> str:
        return "<p>admin</p>"

    @post("/probe/form", guards=[signed_in], media_type=MediaType.HTML, sync_to_thread=False)
    def form_post() -> str:
        world.changes.append("form")
        return "<p>saved</p>"

    @post("/api/v1/probe/records", guards=[signed_in], sync_to_thread=False)
    def record(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> dict[str, str]:
        principal = principal_of(request)
        if not may_record_for(principal, world.team_id):
            raise NotAllowed("you may not record for this agent")
        world.changes.append(f"recorded by {principal.actor}")
        return {"recorded_by": principal.actor}

    @post(
        "/api/v1/probe/admin-only",
        guards=[requires_role(Role.ADMIN)],
        sync_to_thread=False,
    )
    def admin_only() -> dict[str, str]:
        world.changes.append("admin")
        return {"ok": "yes"}

    @get("/probe/deps", guards=[signed_in], sync_to_thread=True)
    def deps(
        app_service: NamedDependency[Callcraft],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
        wait_for_projection: NamedDependency[Callable[[int], bool]],
    ) -> dict[str, Any]:
        position = int(app_service.recorder.max_notification_id() or 0)
        return {
            "app": type(app_service).__name__,
            "engine": read_engine.dialect.name,
            "zone": str(settings_zone),
            "caught_up": wait_for_projection(position),
            "beyond": wait_for_projection(position + 1_000_000),
        }

    return [page, admin_page, form_post, record, admin_only, deps]


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app for the module: these tests only add sessions and tokens of their own."""
    database = make_sqlite_database(tmp_path_factory.mktemp("security"))
    with open_world(
        database,
        extra_handlers=probes,
        max_body_bytes=SMALL_BODY_LIMIT,
        timezone="Europe/Lisbon",
        read_your_writes_timeout=0.05,
    ) as opened:
        yield opened


@pytest.fixture
def world(shared_world: World) -> World:
    shared_world.client.cookies.clear()
    shared_world.changes.clear()
    return shared_world


def _error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status
    assert body["field"] is None
    assert body["detail"]


# --- guards ------------------------------------------------------------------------------


def test_an_anonymous_api_request_gets_401_json_and_changes_nothing(world: World) -> None:
    refused = world.client.get("/api/v1/teams")
    _error(refused, 401)
    assert refused.headers["www-authenticate"].startswith("Bearer")
    _error(
        world.client.post("/api/v1/probe/records", json={}, headers=csrf_headers(world.client)), 401
    )
    assert world.changes == []


def test_an_anonymous_visitor_of_a_page_is_sent_to_sign_in_with_the_way_back(
    world: World,
) -> None:
    response = world.client.get("/probe/page?tab=week", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/probe/page%3Ftab%3Dweek"


def test_an_htmx_request_from_an_anonymous_visitor_redirects_the_whole_page(world: World) -> None:
    response = world.client.get("/probe/page", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/signin?next=/probe/page"


def test_signed_in_people_reach_a_signed_in_page(world: World) -> None:
    sign_in(world.client, "ada")
    assert world.client.get("/probe/page").text == "<p>a page</p>"


@pytest.mark.parametrize("who", ["ada", "sam", "aud"])
def test_a_page_for_admins_refuses_everyone_else_with_403(world: World, who: str) -> None:
    sign_in(world.client, who)
    response = world.client.get("/probe/admin")
    assert response.status_code == 403
    assert "this needs the role admin" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_a_refused_htmx_request_gets_an_alert_retargeted_into_the_page(world: World) -> None:
    sign_in(world.client, "ada")
    response = world.client.get("/probe/admin", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#alerts"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert response.text.startswith('<p class="notice notice-error" role="alert">')
    assert "this needs the role admin" in response.text
    assert "<html" not in response.text


def test_every_page_has_the_alerts_region_htmx_swaps_refusals_into(world: World) -> None:
    sign_in(world.client, "ada")
    page = world.client.get("/")
    assert '<div id="alerts" class="alerts" aria-live="assertive"></div>' in page.text


def test_an_admin_reaches_the_admin_page(world: World) -> None:
    sign_in(world.client, "root")
    assert world.client.get("/probe/admin").status_code == 200


@pytest.mark.parametrize("who", ["ada", "sam", "aud"])
def test_an_api_write_for_admins_refuses_others_with_403_json_and_changes_nothing(
    world: World, who: str
) -> None:
    sign_in(world.client, who)
    response = world.client.post("/api/v1/probe/admin-only", headers=csrf_headers(world.client))
    _error(response, 403)
    assert world.changes == []


def test_an_auditor_never_records_and_a_supervisor_records_for_the_team_they_lead(
    world: World,
) -> None:
    sign_in(world.client, "aud")
    _error(
        world.client.post("/api/v1/probe/records", json={}, headers=csrf_headers(world.client)),
        403,
    )
    assert world.changes == []
    sign_in(world.client, "sam")
    response = world.client.post(
        "/api/v1/probe/records", json={}, headers=csrf_headers(world.client)
    )
    assert response.status_code == 201
    assert world.changes == ["recorded by sam"]


def test_an_account_without_roles_may_not_read_the_api(world: World) -> None:
    sign_in(world.client, "norole")
    _error(world.client.get("/api/v1/teams"), 403)


@pytest.mark.parametrize("who", ["ada", "sam", "aud", "root"])
def test_every_role_reads_the_api(world: World, who: str) -> None:
    sign_in(world.client, who)
    assert world.client.get("/api/v1/teams").status_code == 200


def test_pages_get_the_process_pieces_by_their_agreed_names(world: World) -> None:
    sign_in(world.client, "aud")
    world.app.form_team(name="Night Shift", formed_by="root")  # the projections lag now
    body = world.client.get("/probe/deps").json()
    assert body["app"] == "Callcraft"
    assert body["engine"] == "sqlite"
    assert body["zone"] == "Europe/Lisbon"
    assert body["caught_up"] is False  # nobody projects here: the wait gives up at its bound
    assert body["beyond"] is False


# --- CSRF --------------------------------------------------------------------------------


def test_a_cookie_authenticated_api_post_without_the_csrf_header_is_refused(world: World) -> None:
    sign_in(world.client, "sam")
    response = world.client.post("/api/v1/probe/records", json={})
    _error(response, 403)
    assert "CSRF" in response.json()["detail"]
    assert world.changes == []


def _tough_call(world: World) -> dict[str, Any]:
    return {
        "type": "ToughCallHandledWithGrace",
        "agent": str(world.agent_id),
        "competencies": ["customer_service"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "call_ref": "CALL-1",
    }


def test_the_real_recording_route_refuses_a_cookie_post_without_csrf_and_records_nothing(
    world: World,
) -> None:
    sign_in(world.client, "sam")
    before = world.app.recorder.max_notification_id()
    response = world.client.post("/api/v1/recognitions", json=_tough_call(world))
    _error(response, 403)
    assert world.app.recorder.max_notification_id() == before
    accepted = world.client.post(
        "/api/v1/recognitions", json=_tough_call(world), headers=csrf_headers(world.client)
    )
    assert accepted.status_code == 201, accepted.text


def test_the_real_recording_route_takes_a_record_token_without_csrf(world: World) -> None:
    headers = bearer(world.app, ["record"], name="QA bot")
    response = world.client.post("/api/v1/recognitions", json=_tough_call(world), headers=headers)
    assert response.status_code == 201, response.text


def test_a_wrong_csrf_header_is_refused(world: World) -> None:
    sign_in(world.client, "sam")
    response = world.client.post(
        "/api/v1/probe/records", json={}, headers={"x-csrftoken": "0" * 80}
    )
    _error(response, 403)
    assert world.changes == []


def test_a_page_form_post_without_the_token_is_refused_and_with_it_accepted(world: World) -> None:
    sign_in(world.client, "sam")
    assert world.client.post("/probe/form").status_code == 403
    assert world.changes == []
    assert world.client.post("/probe/form", headers=csrf_headers(world.client)).status_code == 201
    assert world.changes == ["form"]


def test_a_bearer_token_request_needs_no_csrf_token(world: World) -> None:
    headers = bearer(world.app, ["record"], name="QA system")
    world.client.cookies.clear()
    response = world.client.post("/api/v1/probe/records", json={}, headers=headers)
    assert response.status_code == 201
    assert response.json() == {"recorded_by": "token:QA system"}


def test_a_bearer_header_does_not_exempt_pages_from_csrf(world: World) -> None:
    sign_in(world.client, "sam")
    headers = bearer(world.app, ["record"])
    assert world.client.post("/probe/form", headers=headers).status_code == 403
    assert world.changes == []


def test_a_bogus_bearer_header_with_a_valid_session_is_refused_not_upgraded(world: World) -> None:
    sign_in(world.client, "sam")
    response = world.client.post(
        "/api/v1/probe/records", json={}, headers={"Authorization": "Bearer not-a-token"}
    )
    _error(response, 401)
    assert world.changes == []


# --- tokens ------------------------------------------------------------------------------


def test_a_read_token_reads_but_cannot_record(world: World) -> None:
    world.client.cookies.clear()
    headers = bearer(world.app, ["read"])
    assert world.client.get("/api/v1/teams", headers=headers).status_code == 200
    _error(world.client.post("/api/v1/probe/records", json={}, headers=headers), 403)
    assert world.changes == []


def test_a_record_token_records_but_cannot_read(world: World) -> None:
    world.client.cookies.clear()
    headers = bearer(world.app, ["record"])
    _error(world.client.get("/api/v1/teams", headers=headers), 403)


def test_a_token_holds_no_role(world: World) -> None:
    world.client.cookies.clear()
    headers = bearer(world.app, ["read", "record"])
    _error(world.client.post("/api/v1/probe/admin-only", headers=headers), 403)
    assert world.changes == []


def test_a_revoked_token_is_refused_at_once(world: World) -> None:
    world.client.cookies.clear()
    token_id, secret = world.app.issue_token(name="QA", scopes=["read"], issued_by="root")
    headers = {"Authorization": f"Bearer {secret}"}
    assert world.client.get("/api/v1/teams", headers=headers).status_code == 200
    world.app.revoke_token(token_id=token_id, revoked_by="root")
    _error(world.client.get("/api/v1/teams", headers=headers), 401)


@pytest.mark.parametrize(
    "value", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000, "token abc"]
)
def test_malformed_authorization_headers_are_401(world: World, value: str) -> None:
    world.client.cookies.clear()
    _error(world.client.get("/api/v1/teams", headers={"Authorization": value}), 401)


# --- limits and headers ------------------------------------------------------------------


def test_a_body_beyond_the_limit_is_refused_with_413_and_changes_nothing(world: World) -> None:
    headers = bearer(world.app, ["record"])
    big = {"note": "x" * (SMALL_BODY_LIMIT + 10)}
    response = world.client.post("/api/v1/probe/records", json=big, headers=headers)
    assert response.status_code == 413
    assert response.json()["status_code"] == 413
    assert world.changes == []
    small = world.client.post("/api/v1/probe/records", json={"note": "ok"}, headers=headers)
    assert small.status_code == 201


def test_a_huge_sign_in_form_is_refused_with_413(world: World) -> None:
    response = world.client.post(
        "/signin",
        content=b"username=" + b"a" * (SMALL_BODY_LIMIT * 2),
        headers={"content-type": "application/x-www-form-urlencoded", **csrf_headers(world.client)},
    )
    assert response.status_code == 413
    assert "Too large" in response.text


def test_the_default_body_limit_fits_a_batch_of_a_thousand_full_recordings() -> None:
    item = {
        "kind": "feedback_given",
        "agent_id": "6c2f3a52-5d0c-4b8e-9a3f-1f7c0ad7e0b1",
        "competencies": ["communication", "customer_service", "teamwork"],
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "note": "n" * 500,
        "rating": 5,
        "feedback_kind": "praise",
        "idempotency_key": "k" * 200,
    }
    assert len(json.dumps({"items": [item] * 1000}).encode()) < Settings().max_body_bytes


@pytest.mark.parametrize("path", ["/signin", "/api/v1/teams", "/no/such/page", "/probe/page"])
def test_every_response_carries_the_content_security_policy(world: World, path: str) -> None:
    response = world.client.get(path, follow_redirects=False)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_policy_forbids_inline_scripts_and_framing() -> None:
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_token_scopes_are_the_domain_scopes() -> None:
    assert {s.value for s in TokenScope} == {"read", "record"}
