"""The auditor's pages: the /audit hub and the /audit/log event log with its endless scroll."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape

from tests.e2e.pages_demo import SCRIPT_NAME, Centre, open_centre

NEXT_ROW = re.compile(
    r'<tr id="event-(\d+)"[^>]* hx-get="([^"]+)" hx-trigger="revealed" hx-swap="afterend">'
)
ROW_IDS = re.compile(r'<tr id="event-(\d+)"')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Centre]:
    yield from open_centre(request, tmp_path_factory)


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_find_the_audit_hub_in_the_navigation(
    centre: Centre, role: str
) -> None:
    home = centre.view_as(role).get("/leaderboards")
    assert 'href="/audit"' in home.text
    hub = centre.client.get("/audit")
    assert hub.status_code == 200
    for link in ("/audit/log", "/audit/integrity", "/audit/replay", "/leaderboards?as_of="):
        assert f'href="{link}' in hub.text
    assert re.search(r'href="/audit/agents/[0-9a-f-]{36}/explain"', hub.text)
    assert str(escape(SCRIPT_NAME)) in hub.text
    assert SCRIPT_NAME not in hub.text


@pytest.mark.parametrize("role", ["agent", "supervisor", "nobody"])
def test_everyone_else_is_refused_the_audit_pages_and_sees_no_audit_link(
    centre: Centre, role: str
) -> None:
    client = centre.view_as(role)
    assert 'href="/audit"' not in client.get("/wall").text.split("site-nav")[0]
    for url in ("/audit", "/audit/log", "/audit/log/1"):
        assert client.get(url).status_code == 403, url


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(centre: Centre) -> None:
    centre.sign_out()
    answer = centre.client.get("/audit/log?type=FeedbackGiven", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=/audit/log")


def test_scrolling_the_log_asks_for_the_next_page_which_follows_the_last_row(
    centre: Centre,
) -> None:
    page = centre.view_as("auditor").get("/audit/log")
    assert page.status_code == 200
    first_ids = [int(i) for i in ROW_IDS.findall(page.text)]
    assert first_ids == sorted(first_ids)
    found = NEXT_ROW.search(page.text)
    assert found is not None
    assert int(found.group(1)) == first_ids[-1]
    next_url = html.unescape(found.group(2))
    assert parse_qs(urlsplit(next_url).query)["after"] == [str(first_ids[-1])]
    rows = centre.htmx(next_url)
    assert rows.status_code == 200
    assert "<html" not in rows.text
    assert "<tbody" not in rows.text
    next_ids = [int(i) for i in ROW_IDS.findall(rows.text)]
    assert next_ids
    assert next_ids[0] > first_ids[-1]
    assert next_ids == sorted(next_ids)


def test_following_every_next_page_walks_the_filtered_log_to_its_end(centre: Centre) -> None:
    client = centre.view_as("auditor")
    url: str | None = "/audit/log?type=FeedbackGiven&team=Billing+Care"
    seen: list[int] = []
    while url is not None:
        rows = centre.htmx(url) if seen else client.get(url)
        assert rows.status_code == 200
        seen += [int(i) for i in ROW_IDS.findall(rows.text)]
        found = NEXT_ROW.search(rows.text)
        url = html.unescape(found.group(2)) if found else None
        if url:
            assert parse_qs(urlsplit(url).query)["type"] == ["FeedbackGiven"]
    assert len(seen) == len(set(seen)) > 50
    assert seen == sorted(seen)


def test_the_export_links_carry_the_filters_of_the_page(centre: Centre) -> None:
    page = centre.view_as("auditor").get("/audit/log?team=Billing+Care&type=FeedbackGiven")
    links = re.findall(r'href="(/api/v1/events/export\?[^"]+)"', page.text)
    assert len(links) == 2
    for link in links:
        query = parse_qs(urlsplit(html.unescape(link)).query)
        assert query["team"] == ["Billing Care"]
        assert query["type"] == ["FeedbackGiven"]
        assert centre.client.get(html.unescape(link)).status_code == 200
    assert {parse_qs(urlsplit(html.unescape(x)).query)["format"][0] for x in links} == {
        "jsonl",
        "csv",
    }


def test_a_retraction_and_the_recording_it_retracts_link_to_each_other(centre: Centre) -> None:
    client = centre.view_as("auditor")
    page = client.get("/audit/log?type=RecordingRetracted")
    retraction = int(ROW_IDS.findall(page.text)[0])
    link = re.search(
        rf'<tr id="event-{retraction}".*?href="/audit/log/(\d+)">retracts', page.text, re.S
    )
    assert link is not None
    recording = int(link.group(1))
    detail = client.get(f"/audit/log/{recording}")
    assert detail.status_code == 200
    assert f'href="/audit/log/{retraction}"' in detail.text
    back = client.get(f"/audit/log/{retraction}")
    assert f'href="/audit/log/{recording}"' in back.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=NoSuchEvent", "f-type"),
        ("since=not-a-time", "f-since"),
        ("since=2026-03-02T00:00&until=2026-03-01T00:00", "f-since"),
        ("agent=nobody-at-all", "f-agent"),
        ("after=abc", None),
    ],
)
def test_an_unusable_filter_shows_a_message_on_the_page(
    centre: Centre, query: str, field: str | None
) -> None:
    answer = centre.view_as("auditor").get(f"/audit/log?{query}")
    assert answer.status_code == 400
    assert 'role="alert"' in answer.text
    assert "<form" in answer.text
    if field:
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', answer.text)


def test_an_event_that_does_not_exist_is_a_404(centre: Centre) -> None:
    client = centre.view_as("auditor")
    assert client.get("/audit/log/999999999").status_code == 404
    assert client.get(f"/audit/log/{2**63}").status_code == 404


def test_hostile_text_in_the_log_is_escaped(centre: Centre) -> None:
    page = centre.view_as("auditor").get("/audit/log?agent=scripty")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text
