"""``?as_of=`` on the pages: the leaderboards and the agent's home as of a past moment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import quote

import pytest

from domain.facts import RecognitionKind
from domain.recordings import RecordRecognition
from tests.conftest import Database
from tests.e2e.http_helpers import USERNAMES, World, open_world, sign_in


@dataclass
class Past:
    world: World
    between: str  # a local moment (UTC, the default zone) between the two recordings


def _record(world: World) -> None:
    now = datetime.now(UTC)
    world.app.record(
        RecordRecognition(
            kind=RecognitionKind.TRAINING_COMPLETED,
            agent_id=world.agent_id,
            competencies=("leadership",),
            occurred_at=now - timedelta(hours=2),
            recorded_by="sam",
            course="Coaching",
            score=80,
        ),
        now=now,
    )


@pytest.fixture
def past(database: Database) -> Iterator[Past]:
    with open_world(database) as world:
        _record(world)
        between = datetime.now(UTC).replace(tzinfo=None).isoformat()
        _record(world)
        world.client.app.state.runtime.projector.catch_up()
        yield Past(world, between)


def _as(past: Past, role: str) -> None:
    past.world.client.cookies.clear()
    assert sign_in(past.world.client, USERNAMES[role]).status_code == 303


def _xp_cells(html: str) -> list[int]:
    return [int(x.replace(",", "")) for x in re.findall(r'<td class="num xp">([\d,]+)</td>', html)]


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "admin"])
def test_the_leaderboard_as_of_a_moment_shows_the_earlier_standings(past: Past, role: str) -> None:
    _as(past, role)
    client = past.world.client
    live = client.get("/leaderboards?window=all")
    then = client.get(f"/leaderboards?window=all&as_of={quote(past.between)}")
    assert then.status_code == 200
    assert _xp_cells(live.text)[0] == 2 * _xp_cells(then.text)[0] > 0
    page = unescape(then.text)
    assert "later recordings excluded" in page
    now_url = "/leaderboards?scope=overall&window=all"
    assert f'href="{now_url}" hx-get="{now_url}">Back to now</a>' in page
    assert '<label for="as-of">Show as of</label>' in page
    assert 'type="datetime-local" id="as-of" name="as_of"' in page
    tabs = re.findall(r'id="tab-(?:scope|window)-[a-z]+" href="([^"]+)"', page)
    assert tabs
    assert all("as_of=" in url for url in tabs), "switching scope or window keeps the moment"
    assert "later recordings excluded" not in live.text


def test_an_htmx_request_as_of_a_moment_gets_the_board_partial(past: Past) -> None:
    _as(past, "auditor")
    answer = past.world.client.get(
        f"/leaderboards?scope=competency&competency=leadership&window=week&as_of={quote(past.between)}",
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="board"')
    assert "later recordings excluded" in answer.text


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("not-a-moment", "ISO 8601"),
        ("1999-01-01T00:00", "before the first event"),
        ("2999-01-01T00:00", "future"),
    ],
)
def test_an_unusable_moment_gets_a_message_on_the_page(past: Past, as_of: str, says: str) -> None:
    _as(past, "agent")
    for path in ("/leaderboards", "/"):
        answer = past.world.client.get(f"{path}?as_of={quote(as_of)}")
        assert answer.status_code == 422, path
        assert says in unescape(answer.text), path


def test_the_agents_home_as_of_a_moment_shows_the_xp_of_then(past: Past) -> None:
    _as(past, "agent")
    client = past.world.client
    total = re.compile(r'<span class="stat-value">([\d,]+)</span> <span class="stat-unit">XP in')
    live = total.search(client.get("/").text)
    then_page = client.get(f"/?as_of={quote(past.between)}")
    then = total.search(then_page.text)
    assert live is not None
    assert then is not None
    assert int(live.group(1)) == 2 * int(then.group(1)) > 0
    assert "later recordings excluded" in then_page.text


def test_as_of_needs_the_rights_of_the_live_view(past: Past) -> None:
    _as(past, "nobody")
    url = f"/leaderboards?as_of={quote(past.between)}"
    assert past.world.client.get(url).status_code == 403
    past.world.client.cookies.clear()
    assert past.world.client.get(url, follow_redirects=False).status_code == 303
