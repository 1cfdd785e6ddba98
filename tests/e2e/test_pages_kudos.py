"""The kudos page through Litestar's TestClient over a demo centre on SQLite: the allowance
shown before the cap bites, and a clear message when it does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from domain.identity import agent_id_for
from projections.queries import list_agents
from tests.e2e.test_pages_supervisor import DemoSite, open_demo_site

_KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]+)"')
_REMAINING = re.compile(r"You can give <strong>(\d+)</strong> more kudos today")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    yield from open_demo_site(tmp_path_factory.mktemp("pages-kudos"))


def _me(site: DemoSite) -> Any:
    page = site.client.get("/kudos")
    assert page.status_code == 200, page.text
    return page


def _form(site: DemoSite, agent: str, **overrides: Any) -> dict[str, Any]:
    page = site.client.get("/kudos")
    key = _KEY_INPUT.search(page.text)
    assert key
    form: dict[str, Any] = {
        "_csrf_token": site.csrf("/kudos"),
        "idempotency_key": key.group(1),
        "agent": agent,
        "competencies": ["teamwork"],
        "note": "Thanks for covering my break!",
    }
    form.update(overrides)
    return form


def test_only_agents_give_kudos(site: DemoSite) -> None:
    for username in ("supervisor", "auditor", "admin"):
        site.sign_in_as(username)
        assert site.client.get("/kudos").status_code == 403
    site.client.cookies.clear()
    response = site.client.get("/kudos", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/kudos"


def test_kudos_to_oneself_are_refused_with_a_field_message(site: DemoSite) -> None:
    site.sign_in_as("agent")
    page = _me(site)
    mine = next(a for a in list_agents(site.engine) if str(a.agent_id) not in page.text)
    response = site.client.post("/kudos", data=_form(site, str(mine.agent_id)))
    assert response.status_code == 422
    assert "cannot give them to yourself" in response.text
    assert 'aria-describedby="kudos-agent-error"' in response.text


def test_the_allowance_counts_down_and_the_cap_gives_a_clear_message(site: DemoSite) -> None:
    site.sign_in_as("agent")
    page = _me(site)
    shown = _REMAINING.search(page.text)
    assert shown, page.text
    remaining = int(shown.group(1))
    colleague = next(a for a in list_agents(site.engine) if str(a.agent_id) in page.text)
    while remaining > 0:
        response = site.client.post(
            "/kudos", data=_form(site, str(colleague.agent_id)), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200, response.text
        assert f"Kudos sent to {colleague.name}" in response.text
        remaining -= 1
        if remaining:
            assert f"You can give <strong>{remaining}</strong> more" in response.text
        else:
            assert "You have given all" in response.text
    response = site.client.post(
        "/kudos", data=_form(site, str(colleague.agent_id)), headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "You have reached today&#39;s kudos cap" in response.text
    assert "not given" in response.text


def test_a_bad_kudos_form_names_each_field(site: DemoSite) -> None:
    site.sign_in_as("agent")
    other = agent_id_for("nobody-at-all")
    response = site.client.post(
        "/kudos", data=_form(site, str(other), competencies=[], note="x" * 501)
    )
    assert response.status_code == 422
    assert "Choose at least one competency." in response.text
    assert "kudos-note-error" in response.text
