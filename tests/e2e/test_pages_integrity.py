"""/audit/integrity: auditors and admins see the signing key and the latest checkpoint and
verify the store with one button; everyone else is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.runtime import Runtime
from tests.e2e.pages_demo import Centre, open_centre

PAGE = "/audit/integrity"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def centre(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Centre]:
    for centre in open_centre(request, tmp_path_factory):
        runtime(centre).sealer.seal(force_checkpoint=True)
        yield centre


def runtime(centre: Centre) -> Runtime:
    found: Runtime = centre.client.app.state.runtime
    return found


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_see_the_public_key_and_the_latest_checkpoint(
    centre: Centre, role: str
) -> None:
    page = centre.view_as(role).get(PAGE)
    assert page.status_code == 200
    key = runtime(centre).integrity.public_key
    assert key.key_id in page.text
    assert "BEGIN PUBLIC KEY" in page.text
    head = runtime(centre).log_position()
    assert f'data-testid="checkpoint-position">{head:,}<' in page.text
    assert "Verify now" in page.text
    assert "Not verified yet" in page.text


@pytest.mark.parametrize("role", ["agent", "supervisor", "nobody"])
def test_everyone_else_is_refused_the_integrity_page(centre: Centre, role: str) -> None:
    client = centre.view_as(role)
    for url in (PAGE, f"{PAGE}?verify=now"):
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 403, url
        assert "BEGIN PUBLIC KEY" not in answer.text


def test_an_anonymous_visitor_is_sent_to_sign_in_first(centre: Centre) -> None:
    centre.sign_out()
    answer = centre.client.get(f"{PAGE}?verify=now", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/audit/integrity%3Fverify%3Dnow"


def test_verify_now_through_htmx_answers_with_the_report_alone(centre: Centre) -> None:
    centre.view_as("auditor")
    answer = centre.htmx(f"{PAGE}?verify=now")
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="integrity-report"')
    assert "<html" not in answer.text
    assert "The history verifies" in answer.text
    checked = runtime(centre).log_position()
    assert f"<dt>Events checked</dt><dd>{checked:,}</dd>" in answer.text


def test_verify_now_without_script_shows_the_whole_page_with_the_report(centre: Centre) -> None:
    page = centre.view_as("admin").get(f"{PAGE}?verify=now")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "The history verifies" in page.text
