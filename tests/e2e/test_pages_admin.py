"""The admin pages through Litestar's TestClient over a demo centre on SQLite: accounts,
roles, teams and API tokens; everyone but an admin gets 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from domain.identity import team_id_for, user_id_for
from tests.e2e.test_pages_supervisor import _CSRF_INPUT, DemoSite, open_demo_site

ADMIN_PAGES = ("/admin/users", "/admin/teams", "/admin/tokens")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    yield from open_demo_site(tmp_path_factory.mktemp("pages-admin"))


def _post(site: DemoSite, path: str, form: dict[str, Any], **kwargs: Any) -> Any:
    return site.client.post(path, data={"_csrf_token": site.csrf("/signin"), **form}, **kwargs)


def _sign_in(site: DemoSite, username: str, password: str) -> Any:
    token = _CSRF_INPUT.search(site.client.get("/signin").text)
    assert token
    return site.client.post(
        "/signin",
        data={"username": username, "password": password, "next": "/", "_csrf_token": token[1]},
        follow_redirects=False,
    )


def test_the_admin_pages_are_for_admins_only(site: DemoSite) -> None:
    for username in ("agent", "supervisor", "auditor"):
        site.sign_in_as(username)
        for path in (*ADMIN_PAGES, "/admin"):
            assert site.client.get(path, follow_redirects=False).status_code == 403, path
    site.sign_in_as("admin")
    for path in ADMIN_PAGES:
        page = site.client.get(path)
        assert page.status_code == 200, path
        assert "Administration" in page.text
    assert site.client.get("/admin", follow_redirects=False).headers["location"] == "/admin/users"


def test_a_non_admin_cannot_register_a_user(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    response = _post(
        site,
        "/admin/users",
        {
            "username": "mallory",
            "display_name": "Mallory",
            "password": "long-enough-password",
            "password_again": "long-enough-password",
        },
    )
    assert response.status_code == 403
    site.sign_in_as("admin")
    assert "mallory" not in site.client.get("/admin/users").text


def test_an_admin_registers_a_user_who_can_then_sign_in(site: DemoSite) -> None:
    site.sign_in_as("admin")
    response = _post(
        site,
        "/admin/users",
        {
            "username": "Casey",
            "display_name": "Casey Auditor",
            "password": "correct-horse-battery",
            "password_again": "correct-horse-battery",
            "roles": ["auditor"],
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    assert "Registered casey." in response.text
    assert "Casey Auditor" in response.text
    assert "correct-horse-battery" not in response.text
    signed_in = _sign_in(site, "casey", "correct-horse-battery")
    assert signed_in.status_code == 303, signed_in.text
    assert site.client.get(f"/teams/{team_id_for('Billing Care')}").status_code == 200


def test_a_bad_registration_names_each_field_and_registers_nobody(site: DemoSite) -> None:
    site.sign_in_as("admin")
    response = _post(
        site,
        "/admin/users",
        {
            "username": "supervisor",
            "display_name": "",
            "password": "short",
            "password_again": "different",
        },
    )
    assert response.status_code == 422
    assert 'aria-describedby="new-display_name-error"' in response.text
    assert "at least 12 characters" in response.text
    response = _post(
        site,
        "/admin/users",
        {
            "username": "supervisor",
            "display_name": "Another Sam",
            "password": "long-enough-password",
            "password_again": "long-enough-password",
        },
    )
    assert response.status_code == 422
    assert "is taken" in response.text
    assert 'aria-describedby="new-username-error"' in response.text


def test_an_admin_grants_and_revokes_a_role_and_disables_an_account(site: DemoSite) -> None:
    site.sign_in_as("admin")
    user_id = user_id_for("auditor")
    granted = _post(
        site, f"/admin/users/{user_id}/roles", {"role": "supervisor", "action": "grant"}
    )
    assert granted.status_code == 200  # followed the redirect back to the page
    row = re.search(rf'<tr id="user-{user_id}".*?</tr>', granted.text, re.S)
    assert row
    assert '<span class="tag">supervisor</span>' in row.group(0)
    again = _post(site, f"/admin/users/{user_id}/roles", {"role": "supervisor", "action": "grant"})
    assert again.status_code == 422
    assert "already has the role" in again.text
    revoked = _post(
        site, f"/admin/users/{user_id}/roles", {"role": "supervisor", "action": "revoke"}
    )
    row = re.search(rf'<tr id="user-{user_id}".*?</tr>', revoked.text, re.S)
    assert row
    assert '<span class="tag">supervisor</span>' not in row.group(0)
    mine = _post(site, f"/admin/users/{user_id_for('admin')}/disable", {})
    assert mine.status_code == 422
    assert "your own account" in mine.text
    disabled = _post(site, f"/admin/users/{user_id}/disable", {})
    assert disabled.status_code == 200
    site.client.cookies.clear()
    assert _sign_in(site, "auditor", "callcraft-auditor").status_code != 303


def test_an_admin_forms_a_team_and_assigns_a_supervisor(site: DemoSite) -> None:
    site.sign_in_as("admin")
    formed = _post(site, "/admin/teams", {"name": "Night Shift"}, headers={"HX-Request": "true"})
    assert formed.status_code == 200
    assert "Night Shift" in formed.text
    twice = _post(site, "/admin/teams", {"name": "night shift"}, headers={"HX-Request": "true"})
    assert twice.status_code == 422
    assert "exists already" in twice.text
    assigned = _post(
        site,
        "/admin/teams/supervisors",
        {"team": str(team_id_for("Night Shift")), "user": str(user_id_for("supervisor"))},
        headers={"HX-Request": "true"},
    )
    assert assigned.status_code == 200, assigned.text
    site.sign_in_as("supervisor")
    assert site.client.get(f"/teams/{team_id_for('Night Shift')}").status_code == 200


def test_an_admin_issues_a_token_whose_secret_is_shown_once_and_revokes_it(
    site: DemoSite,
) -> None:
    site.sign_in_as("admin")
    issued = _post(
        site,
        "/admin/tokens",
        {"name": "qa-system", "scopes": ["record"]},
        headers={"HX-Request": "true"},
    )
    assert issued.status_code == 200, issued.text
    secret = re.search(
        r'id="token-secret" class="secret" type="text" readonly value="([^"]+)"', issued.text
    )
    assert secret
    page = site.client.get("/admin/tokens")
    assert "qa-system" in page.text
    assert secret.group(1) not in page.text
    token_id = re.search(r'action="/admin/tokens/([0-9a-f-]+)/revoke"', page.text)
    assert token_id
    revoked = _post(site, f"/admin/tokens/{token_id.group(1)}/revoke", {})
    assert revoked.status_code == 200
    assert "Revoked" in revoked.text
    response = site.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert response.status_code == 401
    bad = _post(site, "/admin/tokens", {"name": "", "scopes": []})
    assert bad.status_code == 422
    assert "Choose at least one scope." in bad.text
