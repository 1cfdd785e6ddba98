"""Signing in and out: sessions in the database, rotated at sign-in, dead after sign-out or
when the account is disabled; cookie flags; the return path; the sign-in rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Request, get
from litestar.types import ControllerRouterHandler

from api.auth.context import CSRF_COOKIE, SESSION_COOKIE
from api.auth.guards import principal_of, signed_in
from api.auth.routes import local_path
from domain.accounts import Role
from tests.conftest import Database
from tests.e2e.http_helpers import (
    USERNAMES,
    World,
    csrf_headers,
    open_world,
    password_for,
    quick_hash,
    sign_in,
)


def probes(_world: World) -> list[ControllerRouterHandler]:
    @get("/api/v1/probe/whoami", guards=[signed_in], sync_to_thread=False)
    def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = principal_of(request)
        return {"actor": principal.actor, "roles": sorted(r.value for r in principal.roles)}

    return [whoami]


@pytest.fixture
def world(sqlite_database: Database) -> Iterator[World]:
    with open_world(sqlite_database, extra_handlers=probes) as opened:
        yield opened


@pytest.fixture
def world_on_both(database: Database) -> Iterator[World]:
    """The same, on SQLite and on PostgreSQL (sessions and tokens live in both stores)."""
    with open_world(database, extra_handlers=probes) as opened:
        yield opened


def _whoami(world: World, cookie: str) -> Any:
    """Ask who is signed in, presenting exactly the session id ``cookie``."""
    world.client.cookies.clear()
    world.client.cookies.set(SESSION_COOKIE, cookie)
    return world.client.get("/api/v1/probe/whoami")


def test_the_right_password_signs_in_and_the_session_names_the_user(world_on_both: World) -> None:
    world = world_on_both
    response = sign_in(world.client, "sam", next="/leaderboards?window=week")
    assert response.status_code == 303
    assert response.headers["location"] == "/leaderboards?window=week"
    me = world.client.get("/api/v1/probe/whoami")
    assert me.status_code == 200
    assert me.json() == {"actor": "sam", "roles": ["supervisor"]}


def test_the_session_cookie_is_http_only_and_same_site_and_not_secure_over_plain_http(
    world: World,
) -> None:
    cookie = sign_in(world.client, "sam").headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie


def test_with_secure_cookies_set_both_cookies_are_marked_secure(database: Database) -> None:
    with open_world(database, secure_cookies=True) as world:
        page = world.client.get("/signin")
        csrf_cookie = page.headers["set-cookie"]
        assert csrf_cookie.startswith(f"{CSRF_COOKIE}=")
        assert "Secure" in csrf_cookie
        assert "HttpOnly" in csrf_cookie
        token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
        response = world.client.post(
            "/signin",
            data={"username": "sam", "password": password_for("sam"), "_csrf_token": token},
            headers={"cookie": f"{CSRF_COOKIE}={world.client.cookies.get(CSRF_COOKIE) or ''}"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        session_cookie = response.headers["set-cookie"]
        assert "Secure" in session_cookie
        assert "HttpOnly" in session_cookie


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_and_no_session(
    world: World,
) -> None:
    wrong = sign_in(world.client, "sam", "not-the-password")
    unknown = sign_in(world.client, "nobody-called-this", "whatever")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "do not match an active account" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert world.client.get("/api/v1/probe/whoami").status_code == 401


def test_an_empty_form_is_refused_with_a_message(world: World) -> None:
    response = sign_in(world.client, "", "")
    assert response.status_code == 400
    assert "Enter your username and password" in response.text


def test_what_was_typed_is_escaped_on_the_sign_in_page(world: World) -> None:
    response = sign_in(world.client, "<script>alert(1)</script>", "x")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/teams/1?window=week", "/teams/1?window=week"),
        ("//evil.example/steal", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_the_return_path_must_be_a_path_on_this_site(asked: str, sent_to: str) -> None:
    assert local_path(asked) == sent_to


def test_sign_in_never_redirects_to_another_site(world: World) -> None:
    response = sign_in(world.client, "sam", next="//evil.example/")
    assert response.headers["location"] == "/"


def test_the_session_id_is_rotated_at_sign_in_and_the_old_one_dies(world_on_both: World) -> None:
    world = world_on_both
    world.client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    first = sign_in(world.client, "sam").cookies[SESSION_COOKIE]
    assert first != "planted-by-an-attacker"
    second = sign_in(world.client, "sam").cookies[SESSION_COOKIE]
    assert second != first
    assert _whoami(world, second).status_code == 200
    assert _whoami(world, first).status_code == 401
    assert _whoami(world, "planted-by-an-attacker").status_code == 401


def test_signing_in_as_someone_else_replaces_the_first_session(world: World) -> None:
    first = sign_in(world.client, "sam").cookies[SESSION_COOKIE]
    sign_in(world.client, "aud")
    assert world.client.get("/api/v1/probe/whoami").json()["actor"] == "aud"
    assert _whoami(world, first).status_code == 401


def test_sign_out_ends_the_session_everywhere_at_once(world_on_both: World) -> None:
    world = world_on_both
    session = sign_in(world.client, "sam").cookies[SESSION_COOKIE]
    response = world.client.post(
        "/signout", headers=csrf_headers(world.client), follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert _whoami(world, session).status_code == 401  # a copy of the cookie is dead too


def test_sign_out_without_the_csrf_token_is_refused_and_the_session_lives(world: World) -> None:
    sign_in(world.client, "sam")
    response = world.client.post("/signout", follow_redirects=False)
    assert response.status_code == 403
    assert world.client.get("/api/v1/probe/whoami").status_code == 200


def test_disabling_an_account_kills_its_session_at_once(world_on_both: World) -> None:
    world = world_on_both
    sign_in(world.client, "sam")
    assert world.client.get("/api/v1/probe/whoami").status_code == 200
    world.app.disable_user(user_id=world.users["supervisor"], disabled_by="root")
    response = world.client.get("/api/v1/probe/whoami")
    assert response.status_code == 401
    assert response.json() == {
        "status_code": 401,
        "detail": "sign in first: this needs a signed-in user or an API token",
        "field": None,
    }


def test_a_disabled_account_cannot_sign_in(world: World) -> None:
    world.app.disable_user(user_id=world.users["supervisor"], disabled_by="root")
    response = sign_in(world.client, "sam")
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_a_revoked_role_is_gone_from_the_next_request(world: World) -> None:
    sign_in(world.client, "sam")
    world.app.grant_role(user_id=world.users["supervisor"], role=Role.AUDITOR, granted_by="t")
    assert world.client.get("/api/v1/probe/whoami").json()["roles"] == ["auditor", "supervisor"]
    world.app.revoke_role(user_id=world.users["supervisor"], role=Role.SUPERVISOR, revoked_by="t")
    assert world.client.get("/api/v1/probe/whoami").json()["roles"] == ["auditor"]


def test_a_new_password_works_and_the_old_one_does_not(world: World) -> None:
    world.app.change_password(
        user_id=world.users["supervisor"], password_hash=quick_hash("brand-new"), changed_by="sam"
    )
    assert sign_in(world.client, "sam").status_code == 401
    assert sign_in(world.client, "sam", "brand-new").status_code == 303


def test_repeated_failures_are_rate_limited_with_retry_after_even_for_the_right_password(
    world_on_both: World,
) -> None:
    world = world_on_both
    for _ in range(5):
        assert sign_in(world.client, "sam", "guess").status_code == 401
    limited = sign_in(world.client, "sam")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many failed attempts" in limited.text
    assert SESSION_COOKIE not in limited.headers.get("set-cookie", "")
    # Another account from the same address is not affected.
    assert sign_in(world.client, "aud").status_code == 303


def test_a_success_before_the_limit_clears_the_failures(world: World) -> None:
    for _ in range(4):
        sign_in(world.client, "sam", "guess")
    assert sign_in(world.client, "sam").status_code == 303
    for _ in range(4):
        sign_in(world.client, "sam", "guess")
    assert sign_in(world.client, "sam").status_code == 303


def test_the_sign_in_page_has_labelled_inputs_and_a_csrf_field(world: World) -> None:
    page = world.client.get("/signin?next=/wall")
    assert page.status_code == 200
    assert '<label for="username">' in page.text
    assert '<label for="password">' in page.text
    assert 'name="_csrf_token"' in page.text
    assert 'name="next" value="/wall"' in page.text


def test_every_demo_role_has_an_account_the_tests_can_use() -> None:
    assert set(USERNAMES) == {"agent", "supervisor", "auditor", "admin", "nobody"}
