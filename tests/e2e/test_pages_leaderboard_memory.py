"""What the leaderboard remembers between requests never outlives the read models, and never
carries one viewer's parts (own row, nav, CSRF token) to another.

The page and the API remember a board, its rendering and the page around it (see
``web.controllers.leaderboards`` and ``projections.tails``); these tests ask for the same
views again after the read models moved and as different people, through the real app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from uuid import UUID

import pytest

from api.runtime import Runtime
from domain.accounts import Role
from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from tests.e2e.http_helpers import add_user, password_for, sign_in
from tests.e2e.pages_demo import PEOPLE, Centre, open_centre

PAGE_SIZE = 20


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Centre]:
    yield from open_centre(request, tmp_path_factory)


def runtime_of(centre: Centre) -> Runtime:
    runtime: Runtime = centre.client.app.state.runtime
    return runtime


def own_names(html: str) -> list[str]:
    rows = re.findall(r'<tr class="is-me" aria-current="true">(.*?)</tr>', html, re.S)
    names = [re.search(r'<th scope="row" class="name">([^<]*)', row) for row in rows]
    return [unescape(found.group(1)).strip() for found in names if found]


def xp_by_name(html: str) -> dict[str, int]:
    found = re.findall(
        r'<th scope="row" class="name">([^<]*)(?:<span class="you">\(you\)</span>)?\s*</th>'
        r'.*?<td class="num xp">([\d,]+)</td>',
        html,
        re.S,
    )
    return {unescape(name).strip(): int(xp.replace(",", "")) for name, xp in found}


def nav_who(html: str) -> str:
    found = re.search(r'<span class="nav-who">([^<]*)</span>', html)
    assert found, "no signed-in name in the nav"
    return unescape(found.group(1))


def page_tokens(html: str) -> set[str]:
    """Every CSRF token the page carries (the htmx header and the sign-out form)."""
    tokens = set(re.findall(r'name="_csrf_token" value="([^"]+)"', html))
    tokens |= set(re.findall(r"&#34;x-csrftoken&#34;: &#34;([^&]+)&#34;", html))
    tokens |= set(re.findall(r'"x-csrftoken": "([^"]+)"', unescape(html)))
    return tokens


def as_person(centre: Centre, username: str, password: str) -> Any:
    """A fresh browser (no cookies: a new CSRF token too), signed in as ``username``."""
    centre.sign_out()
    answer = sign_in(centre.client, username, password)
    assert answer.status_code == 303, answer.text
    return centre.client


def full_board(centre: Centre) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = centre.client.get(
        "/api/v1/leaderboards?window=all&limit=500"
    ).json()["rows"]
    return rows


def test_a_recording_shows_on_every_remembered_view_once_the_projector_has_it(
    centre: Centre,
) -> None:
    client = centre.view_as("auditor")
    url = "/leaderboards?scope=overall&window=all"
    before_page = client.get(url).text
    before_partial = centre.htmx(url).text
    before_api = client.get("/api/v1/leaderboards?window=all").json()
    chosen = before_api["rows"][4]
    name, xp = chosen["name"], chosen["xp"]
    assert xp_by_name(before_page)[name] == xp
    assert xp_by_name(before_partial)[name] == xp

    runtime = runtime_of(centre)
    now = datetime.now(UTC)
    runtime.app.record(
        RecordRecognition(
            kind=RecognitionKind.INITIATIVE_TAKEN,
            agent_id=UUID(chosen["agent_id"]),
            competencies=("teamwork",),
            occurred_at=now - timedelta(minutes=1),
            recorded_by="supervisor",
            description="took the overflow queue",
        ),
        now=now,
    )
    # Not yet projected: the boards still show what the read models hold.
    assert xp_by_name(client.get(url).text)[name] == xp
    runtime.projector.catch_up()

    after_api = client.get("/api/v1/leaderboards?window=all").json()
    gained = next(r["xp"] for r in after_api["rows"] if r["agent_id"] == chosen["agent_id"])
    assert gained > xp
    assert xp_by_name(client.get(url).text)[name] == gained
    assert xp_by_name(centre.htmx(url).text)[name] == gained


def test_viewers_of_the_same_board_each_see_only_their_own_row_name_and_token(
    centre: Centre,
) -> None:
    centre.view_as("auditor")
    board = full_board(centre)
    mine = next(i for i, r in enumerate(board) if r["agent_id"] == str(centre.agent_id))
    page = mine // PAGE_SIZE + 1
    first = (page - 1) * PAGE_SIZE
    other = next(
        r for r in board[first : first + PAGE_SIZE] if r["agent_id"] != str(centre.agent_id)
    )
    runtime = runtime_of(centre)
    add_user(runtime.app, "second", [Role.AGENT], agent_id=UUID(other["agent_id"]))
    url = f"/leaderboards?scope=overall&window=all&page={page}"
    people = [
        (*PEOPLE["agent"], board[mine]["name"]),
        ("second", password_for("second"), other["name"]),
        (*PEOPLE["auditor"], None),
        (*PEOPLE["agent"], board[mine]["name"]),
    ]
    for username, password, own in people:
        client = as_person(centre, username, password)
        cookie = client.cookies.get("callcraft_csrf")
        html = client.get(url).text
        partial = centre.htmx(url).text
        near = client.get("/leaderboards?scope=overall&window=all&around=me").text
        assert own_names(html) == ([own] if own else [])
        assert own_names(partial) == ([own] if own else [])
        assert ("Near me" in partial) == (own is not None)
        assert own_names(near) == ([own] if own else [])
        assert page_tokens(html) == {cookie}
        assert nav_who(html) == runtime.app.user_named(username).display_name


def test_a_revoked_role_leaves_the_remembered_page_at_once(centre: Centre) -> None:
    runtime = runtime_of(centre)
    user_id = add_user(runtime.app, "twohats", [Role.AUDITOR, Role.ADMIN])
    client = as_person(centre, "twohats", password_for("twohats"))
    assert 'href="/admin"' in client.get("/leaderboards").text
    assert 'href="/admin"' in client.get("/leaderboards").text
    runtime.app.revoke_role(user_id=user_id, role=Role.ADMIN, revoked_by="test")
    html = client.get("/leaderboards").text
    assert 'href="/admin"' not in html
    assert 'href="/audit"' in html
    runtime.app.disable_user(user_id=user_id, disabled_by="test")
    answer = client.get("/leaderboards", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")
