"""The supervisor's pages through Litestar's TestClient over a demo centre on SQLite: the
record-recognition form (validation, permission, confirmation with XP) and the team
dashboard with its retractions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.demo import DEMO_PASSWORDS, TEAM_NAMES, fill_demo
from api.runtime import Runtime, open_runtime
from api.settings import Settings
from domain.identity import team_id_for
from projections.queries import list_agents
from projections.tables import recognitions
from tests.conftest import make_sqlite_database
from tests.e2e.http_helpers import quick_hash

_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
_KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]+)"')


@dataclass
class DemoSite:
    client: TestClient[Any]
    runtime: Runtime

    @property
    def engine(self) -> Any:
        return self.runtime.read_engine

    def sign_in_as(self, username: str) -> None:
        role = username if username in DEMO_PASSWORDS else "supervisor"
        page = self.client.get("/signin")
        token = _CSRF_INPUT.search(page.text)
        assert token, page.text
        response = self.client.post(
            "/signin",
            data={
                "username": username,
                "password": DEMO_PASSWORDS[role],
                "next": "/",
                "_csrf_token": token.group(1),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def csrf(self, path: str) -> str:
        found = _CSRF_INPUT.search(self.client.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def count_recognitions(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(recognitions)).scalar())


def open_demo_site(tmp: Path) -> Iterator[DemoSite]:
    """A demo centre (12 agents, 20 days) behind a TestClient with the projector running."""
    database = make_sqlite_database(tmp)
    settings = Settings(
        database_url=database.database_url,
        read_database_url=database.read_url,
        run_projector=True,
    )
    now = datetime.now(UTC)
    runtime = open_runtime(settings, now=now)
    fill_demo(runtime.app, now=now, agents=12, days=20, hash_password=quick_hash)
    runtime.projector.catch_up()
    with TestClient(create_app(settings, runtime=runtime)) as client:
        yield DemoSite(client=client, runtime=runtime)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    yield from open_demo_site(tmp_path_factory.mktemp("pages-supervisor"))


LED_TEAM = team_id_for(TEAM_NAMES[0])  # led by the demo "supervisor"
OTHER_TEAM = team_id_for(TEAM_NAMES[1])


def an_agent_of(site: DemoSite, team_id: UUID) -> Any:
    return next(a for a in list_agents(site.engine) if a.team_id == team_id)


def local_now(site: DemoSite, minus: timedelta = timedelta(hours=1)) -> str:
    zone: ZoneInfo = site.runtime.settings.zone
    return (datetime.now(zone) - minus).strftime("%Y-%m-%dT%H:%M")


def tough_call_form(site: DemoSite, agent_id: UUID, **overrides: Any) -> dict[str, Any]:
    page = site.client.get("/record")
    key = _KEY_INPUT.search(page.text)
    assert key
    form: dict[str, Any] = {
        "_csrf_token": site.csrf("/record"),
        "idempotency_key": key.group(1),
        "type": "ToughCallHandledWithGrace",
        "agent": str(agent_id),
        "occurred_at": local_now(site),
        "competencies": ["customer_service", "adaptability"],
        "call_ref": "CALL-4711",
        "note": "Stayed calm with a furious caller.",
    }
    form.update(overrides)
    return form


def test_a_signed_out_visitor_is_sent_to_sign_in(site: DemoSite) -> None:
    site.client.cookies.clear()
    for path in ("/record", f"/teams/{LED_TEAM}"):
        response = site.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")


def test_the_record_form_offers_only_agents_of_the_teams_the_supervisor_leads(
    site: DemoSite,
) -> None:
    site.sign_in_as("supervisor")
    page = site.client.get("/record")
    assert page.status_code == 200
    assert 'name="idempotency_key"' in page.text
    assert str(an_agent_of(site, LED_TEAM).agent_id) in page.text
    assert str(an_agent_of(site, OTHER_TEAM).agent_id) not in page.text


def test_agents_and_auditors_may_not_open_the_record_form(site: DemoSite) -> None:
    for username in ("agent", "auditor"):
        site.sign_in_as(username)
        assert site.client.get("/record").status_code == 403


def test_a_recording_shows_the_xp_it_earned_on_the_confirmation(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    agent = an_agent_of(site, LED_TEAM)
    before = site.count_recognitions()
    response = site.client.post(
        "/record", data=tough_call_form(site, agent.agent_id), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text
    assert "Recorded" in response.text
    assert agent.name in response.text
    assert re.search(r"\+\d+ XP", response.text), response.text
    assert "Why:" in response.text
    assert site.count_recognitions() == before + 1


def test_a_double_submit_records_once(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    form = tough_call_form(site, an_agent_of(site, LED_TEAM).agent_id)
    before = site.count_recognitions()
    first = site.client.post("/record", data=form)
    second = site.client.post("/record", data=form)
    assert first.status_code == second.status_code == 200
    assert "Already recorded" in second.text
    assert site.count_recognitions() == before + 1


def test_a_form_sent_again_with_other_values_records_nothing_and_starts_afresh(
    site: DemoSite,
) -> None:
    site.sign_in_as("supervisor")
    form = tough_call_form(site, an_agent_of(site, LED_TEAM).agent_id)
    assert site.client.post("/record", data=form).status_code == 200
    before = site.count_recognitions()
    response = site.client.post("/record", data={**form, "note": "Something else entirely."})
    assert response.status_code == 422
    assert "already recorded something else" in response.text
    assert f'value="{form["idempotency_key"]}"' not in response.text
    assert site.count_recognitions() == before


def test_a_bad_form_records_nothing_and_names_each_field(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    form = tough_call_form(
        site,
        an_agent_of(site, LED_TEAM).agent_id,
        competencies=[],
        call_ref="",
        occurred_at=local_now(site, minus=timedelta(days=-2)),
    )
    before = site.count_recognitions()
    response = site.client.post("/record", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Choose at least one competency." in response.text
    assert 'id="rec-competencies-error"' in response.text
    assert 'aria-describedby="rec-call_ref-error"' in response.text
    assert "occurred_at is in the future" in response.text
    assert "<html" not in response.text  # htmx gets the partial
    assert site.count_recognitions() == before


def test_the_validate_endpoint_flags_only_what_was_typed(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    form = tough_call_form(site, an_agent_of(site, LED_TEAM).agent_id, call_ref="", note="x" * 501)
    before = site.count_recognitions()
    response = site.client.post("/record/validate", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'aria-describedby="rec-note-error"' in response.text
    assert "rec-call_ref-error" not in response.text
    assert site.count_recognitions() == before


def test_the_type_fields_swap_in_for_the_chosen_type(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    response = site.client.get("/record/fields?type=TrainingCompleted")
    assert response.status_code == 200
    assert 'name="course"' in response.text
    assert 'name="score"' in response.text
    assert 'name="call_ref"' not in response.text


def test_without_script_the_refresh_button_shows_the_type_fields_and_records_nothing(
    site: DemoSite,
) -> None:
    site.sign_in_as("supervisor")
    form = tough_call_form(
        site, an_agent_of(site, LED_TEAM).agent_id, type="FeedbackGiven", _refresh="1"
    )
    before = site.count_recognitions()
    response = site.client.post("/record", data=form)
    assert response.status_code == 200
    assert 'name="rating"' in response.text
    assert site.count_recognitions() == before


def test_a_supervisor_cannot_record_for_another_team(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    before = site.count_recognitions()
    form = tough_call_form(site, an_agent_of(site, OTHER_TEAM).agent_id)
    response = site.client.post("/record", data=form)
    assert response.status_code == 403
    assert "teams you lead" in response.text
    assert site.count_recognitions() == before


def test_the_team_dashboard_shows_agents_recent_recordings_and_quiet_agents(
    site: DemoSite,
) -> None:
    site.sign_in_as("supervisor")
    page = site.client.get(f"/teams/{LED_TEAM}")
    assert page.status_code == 200
    assert TEAM_NAMES[0] in page.text
    assert an_agent_of(site, LED_TEAM).name in page.text
    assert "Recent recordings" in page.text
    assert "Not recognised lately" in page.text


def test_the_team_dashboard_is_for_its_supervisors_auditors_and_admins(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    assert site.client.get(f"/teams/{OTHER_TEAM}").status_code == 403
    site.sign_in_as("agent")
    assert site.client.get(f"/teams/{LED_TEAM}").status_code == 403
    for username in ("auditor", "admin"):
        site.sign_in_as(username)
        assert site.client.get(f"/teams/{OTHER_TEAM}").status_code == 200


def test_an_auditor_sees_no_retraction_form_and_may_not_retract(site: DemoSite) -> None:
    site.sign_in_as("auditor")
    page = site.client.get(f"/teams/{LED_TEAM}")
    assert "Retract this recording" not in page.text
    response = site.client.post(
        f"/teams/{LED_TEAM}/retractions",
        data={"_csrf_token": site.csrf(f"/teams/{LED_TEAM}"), "recording_id": "x", "reason": "x"},
    )
    assert response.status_code == 403


def _my_latest_recording(site: DemoSite) -> UUID:
    with site.engine.connect() as connection:
        found: UUID = connection.execute(
            select(recognitions.c.recording_id)
            .where(
                recognitions.c.recorded_by == "supervisor",
                recognitions.c.retracted.is_(False),
            )
            .order_by(recognitions.c.notification_id.desc())
            .limit(1)
        ).scalar_one()
    return found


def test_a_retraction_needs_a_reason(site: DemoSite) -> None:
    site.sign_in_as("supervisor")
    site.client.post("/record", data=tough_call_form(site, an_agent_of(site, LED_TEAM).agent_id))
    recording_id = _my_latest_recording(site)
    page = site.client.get(f"/teams/{LED_TEAM}")
    assert f'id="recording-{recording_id}"' in page.text
    response = site.client.post(
        f"/teams/{LED_TEAM}/retractions",
        data={
            "_csrf_token": site.csrf(f"/teams/{LED_TEAM}"),
            "recording_id": str(recording_id),
            "reason": "   ",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "Give a reason" in response.text
    assert _my_latest_recording(site) == recording_id  # still not retracted

    response = site.client.post(
        f"/teams/{LED_TEAM}/retractions",
        data={
            "_csrf_token": site.csrf(f"/teams/{LED_TEAM}"),
            "recording_id": str(recording_id),
            "reason": "Recorded for the wrong call.",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    assert "Retracted" in response.text
    with site.engine.connect() as connection:
        retracted = connection.execute(
            select(recognitions.c.retracted, recognitions.c.retraction_reason).where(
                recognitions.c.recording_id == recording_id
            )
        ).one()
    assert retracted == (True, "Recorded for the wrong call.")
