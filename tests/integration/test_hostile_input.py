"""Input a careless or hostile client can send is refused with a domain error, never a
crash, and records nothing; look-alike identities are the same identity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.application import Callcraft
from domain.exceptions import (
    AlreadyExists,
    InvalidCompetency,
    InvalidInput,
    InvalidName,
    InvalidNote,
    InvalidOccurredAt,
    InvalidRulebook,
)
from domain.facts import RecognitionKind
from domain.publications import RulebookPublication
from domain.recordings import RecordRecognition
from domain.rulebook import load_default_rulebook, rulebook_to_data
from tests.conftest import Database

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def app(sqlite_database: Database) -> Iterator[Callcraft]:
    application = Callcraft(env=sqlite_database.event_env())
    application.ensure_default_rulebook(now=NOW)
    yield application
    application.close()


def _enrol(app: Callcraft, handle: str = "ann") -> Any:
    team = app.form_team(name=f"Team of {handle}", formed_by="admin")
    return app.enrol_agent(
        handle=handle,
        name=handle.title(),
        team_id=team,
        enrolled_at=NOW - timedelta(days=30),
        enrolled_by="admin",
        now=NOW,
    )


def _log(app: Callcraft) -> int:
    return app.recorder.max_notification_id() or 0


def _feedback(agent: Any, **changes: Any) -> RecordRecognition:
    fields: dict[str, Any] = {
        "kind": RecognitionKind.FEEDBACK_GIVEN,
        "agent_id": agent,
        "competencies": ("communication",),
        "occurred_at": NOW - timedelta(hours=1),
        "recorded_by": "sue",
        "rating": 4,
        **changes,
    }
    return RecordRecognition(**fields)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"competencies": "communication"}, InvalidCompetency),
        ({"competencies": ("communication", None)}, InvalidCompetency),
        ({"feedback_kind": 3}, InvalidInput),
        ({"note": "broken \ud800 text"}, InvalidNote),
        ({"occurred_at": "yesterday"}, InvalidOccurredAt),
        ({"occurred_at": datetime(1, 1, 1, tzinfo=UTC)}, InvalidOccurredAt),
        ({"recorded_by": "sue\nadmin"}, InvalidInput),
        ({"recorded_by": ""}, InvalidInput),
    ],
)
def test_malformed_fields_are_refused_with_a_domain_error(
    app: Callcraft, changes: dict[str, Any], error: type[Exception]
) -> None:
    agent = _enrol(app)
    before = _log(app)
    with pytest.raises(error):
        app.record(_feedback(agent, **changes), now=NOW)
    assert _log(app) == before


def test_an_enrolment_before_the_earliest_accepted_date_is_refused(app: Callcraft) -> None:
    team = app.form_team(name="Old timers", formed_by="admin")
    with pytest.raises(InvalidOccurredAt):
        app.enrol_agent(
            handle="methuselah",
            name="Methuselah",
            team_id=team,
            enrolled_at=datetime(1, 1, 1, tzinfo=UTC),
            enrolled_by="admin",
            now=NOW,
        )


def test_a_departure_in_the_future_is_refused(app: Callcraft) -> None:
    agent = _enrol(app)
    with pytest.raises(InvalidOccurredAt):
        app.depart_agent(
            agent_id=agent, departed_at=NOW + timedelta(days=400), recorded_by="admin", now=NOW
        )


def test_a_retraction_must_say_who_retracts(app: Callcraft) -> None:
    agent = _enrol(app)
    outcome = app.record(_feedback(agent), now=NOW)
    with pytest.raises(InvalidInput):
        app.retract(recording_id=outcome.recording_id, retracted_by=" ", by_admin=True, reason="x")
    assert not app.recording(outcome.recording_id).retracted


@pytest.mark.parametrize(
    "twin", ["zoe\u0308", "ZOË", "ｚｏë"], ids=["decomposed", "upper case", "full width"]
)
def test_handles_that_look_the_same_are_the_same_agent(app: Callcraft, twin: str) -> None:
    _enrol(app, "zoë")
    with pytest.raises(AlreadyExists):
        _enrol(app, twin)


@pytest.mark.parametrize("username", ["admin\u200b", "ad\u202emin"])
def test_usernames_with_invisible_characters_are_refused(app: Callcraft, username: str) -> None:
    with pytest.raises(InvalidName):
        app.register_user(
            username=username, display_name="Mallory", password_hash="x", registered_by="admin"
        )


def test_a_rulebook_with_absurd_figures_is_refused(app: Callcraft) -> None:
    data = rulebook_to_data(load_default_rulebook())
    data["version"] = 2
    data["xp"]["TrainingCompleted"] = 10**19
    with pytest.raises(InvalidRulebook) as refused:
        app.publish_rulebook(data, effective_from=NOW, published_by="admin", now=NOW)
    assert "xp.TrainingCompleted" in str(refused.value)


def test_a_rulebook_cannot_be_published_for_a_future_date(app: Callcraft) -> None:
    data = rulebook_to_data(load_default_rulebook())
    data["version"] = 2
    with pytest.raises(InvalidRulebook) as refused:
        app.publish_rulebook(
            data, effective_from=NOW + timedelta(days=30), published_by="admin", now=NOW
        )
    assert refused.value.field == "effective_from"
    assert app.publish_rulebook(data, effective_from=NOW, published_by="admin", now=NOW) == 2


def test_a_publication_does_not_share_its_rules_with_its_event() -> None:
    rules = rulebook_to_data(load_default_rulebook())
    publication = RulebookPublication(
        version=1, effective_from=NOW, rules=rules, published_by="admin"
    )
    publication.rules["xp"]["KudosGiven"] = 999
    (event,) = publication.pending_events
    assert event.rules["xp"]["KudosGiven"] == 10  # type: ignore[attr-defined]
