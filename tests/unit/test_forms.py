"""Parsing the pages' forms into domain commands, with a message per refused field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.accounts import Role
from domain.exceptions import KudosCapReached, UnknownAgent
from domain.facts import RecognitionKind
from web.forms import (
    FORM,
    FieldError,
    FormState,
    error_field,
    form_fields,
    local_moment_value,
    parse_kudos_form,
    parse_local_moment,
    parse_new_token_form,
    parse_new_user_form,
    parse_record_form,
    parse_retraction_form,
    parse_role_change,
    parse_supervisor_assignment,
    parse_team_name,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def record_fields(**overrides: list[str]) -> dict[str, list[str]]:
    fields = {
        "agent": [str(uuid4())],
        "type": ["ToughCallHandledWithGrace"],
        "competencies": ["customer_service", "adaptability"],
        "occurred_at": ["2026-06-10T09:30"],
        "note": ["  Calm and kind.  "],
        "idempotency_key": ["abc123"],
        "call_ref": ["CALL-1"],
    }
    fields.update(overrides)
    return fields


def test_a_complete_record_form_becomes_a_command_in_the_org_time_zone() -> None:
    parsed = parse_record_form(record_fields(), recorded_by="sam", zone=LONDON, now=NOW)
    assert parsed.ok, parsed.errors
    command = parsed.value
    assert command is not None
    assert command.kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE
    assert command.occurred_at == datetime(2026, 6, 10, 8, 30, tzinfo=UTC)  # BST is UTC+1
    assert command.competencies == ("adaptability", "customer_service")
    assert command.note == "Calm and kind."
    assert command.call_ref == "CALL-1"
    assert command.recorded_by == "sam"
    assert command.idempotency_key == "abc123"


def test_every_refused_field_gets_its_own_message() -> None:
    parsed = parse_record_form(
        record_fields(
            agent=["not-a-uuid"],
            competencies=["charm"],
            occurred_at=["2026-06-11T09:30"],
            note=["x" * 501],
            call_ref=[""],
        ),
        recorded_by="sam",
        zone=LONDON,
        now=NOW,
    )
    assert parsed.value is None
    assert set(parsed.errors) == {"agent", "competencies", "occurred_at", "note", "call_ref"}
    assert "future" in parsed.errors["occurred_at"]
    assert "charm" in parsed.errors["competencies"]


def test_a_missing_type_and_no_competencies_are_named() -> None:
    parsed = parse_record_form(
        record_fields(type=[""], competencies=[]), recorded_by="sam", zone=LONDON, now=NOW
    )
    assert parsed.errors["type"] == "Choose what kind of recognition this is."
    assert parsed.errors["competencies"] == "Choose at least one competency."


def test_kudos_cannot_be_recorded_through_the_supervisor_form() -> None:
    parsed = parse_record_form(
        record_fields(type=["KudosGiven"]), recorded_by="sam", zone=LONDON, now=NOW
    )
    assert "type" in parsed.errors


@pytest.mark.parametrize(
    ("kind", "fields", "field", "fragment"),
    [
        ("FeedbackGiven", {"rating": ["6"]}, "rating", "from 1 to 5"),
        ("FeedbackGiven", {"rating": ["three"]}, "rating", "whole number"),
        ("FeedbackGiven", {"rating": ["4"], "feedback_kind": ["scolding"]}, "feedback_kind", ""),
        ("TrainingCompleted", {"course": ["Listening"], "score": ["101"]}, "score", "0 to 100"),
        ("TrainingCompleted", {"score": ["50"]}, "course", "Name the course"),
        ("InitiativeTaken", {}, "description", "Describe"),
    ],
)
def test_each_type_checks_its_own_fields(
    kind: str, fields: dict[str, list[str]], field: str, fragment: str
) -> None:
    parsed = parse_record_form(
        record_fields(type=[kind], **fields), recorded_by="sam", zone=LONDON, now=NOW
    )
    assert field in parsed.errors
    assert fragment in parsed.errors[field]


def test_feedback_defaults_to_praise_given_by_the_recorder() -> None:
    parsed = parse_record_form(
        record_fields(type=["FeedbackGiven"], rating=["5"]), recorded_by="sam", zone=LONDON, now=NOW
    )
    assert parsed.value is not None
    assert (parsed.value.rating, parsed.value.feedback_kind, parsed.value.given_by) == (
        5,
        "praise",
        None,
    )
    assert parsed.value.call_ref is None  # another type's field is ignored


def test_a_wall_time_skipped_by_the_clocks_going_forward_is_refused() -> None:
    with pytest.raises(FieldError, match="does not exist"):
        parse_local_moment("2026-03-29T01:30", LONDON, NOW, field="occurred_at")


def test_a_local_moment_round_trips_through_the_form_value() -> None:
    moment = datetime(2026, 1, 5, 14, 5, tzinfo=UTC)
    shown = local_moment_value(moment, LONDON)
    assert shown == "2026-01-05T14:05"
    assert parse_local_moment(shown, LONDON, NOW, field="occurred_at") == moment


def test_kudos_go_to_a_colleague_now() -> None:
    giver, colleague = uuid4(), uuid4()
    fields = {"agent": [str(colleague)], "competencies": ["teamwork"], "note": ["Thanks!"]}
    parsed = parse_kudos_form(fields, giver=giver, recorded_by="ada", now=NOW)
    assert parsed.value is not None
    assert parsed.value.kind is RecognitionKind.KUDOS_GIVEN
    assert (parsed.value.agent_id, parsed.value.from_agent) == (colleague, giver)
    assert parsed.value.occurred_at == NOW
    mine = parse_kudos_form(
        {**fields, "agent": [str(giver)]}, giver=giver, recorded_by="a", now=NOW
    )
    assert "yourself" in mine.errors["agent"]


def test_a_retraction_needs_a_reason() -> None:
    recording = uuid4()
    assert parse_retraction_form({"recording_id": [str(recording)], "reason": ["  "]}).errors == {
        "reason": "Give a reason: everyone who sees the retraction reads it."
    }
    parsed = parse_retraction_form({"recording_id": [str(recording)], "reason": ["Wrong agent"]})
    assert parsed.value is not None
    assert (parsed.value.recording_id, parsed.value.reason) == (recording, "Wrong agent")


def test_a_new_user_needs_a_long_password_typed_twice() -> None:
    fields = {
        "username": ["Casey"],
        "display_name": ["Casey Q"],
        "password": ["correct-horse-battery"],
        "password_again": ["correct-horse-battery"],
        "roles": ["auditor", "agent"],
    }
    parsed = parse_new_user_form(fields)
    assert parsed.value is not None
    assert parsed.value.username == "casey"
    assert parsed.value.roles == (Role.AGENT, Role.AUDITOR)
    assert parsed.value.agent_id is None
    bad = parse_new_user_form({**fields, "password": ["short"], "roles": ["king"]})
    assert set(bad.errors) == {"password", "roles"}
    differ = parse_new_user_form({**fields, "password_again": ["something-else-entirely"]})
    assert set(differ.errors) == {"password_again"}


def test_role_changes_team_names_assignments_and_tokens_parse_or_name_the_field() -> None:
    assert parse_role_change({"role": ["admin"], "action": ["revoke"]}).value is not None
    assert set(parse_role_change({"role": ["boss"], "action": ["x"]}).errors) == {"role", "action"}
    assert parse_team_name({"name": ["  Night Shift "]}).value == "Night Shift"
    assert "name" in parse_team_name({"name": [""]}).errors
    assert set(parse_supervisor_assignment({"team": ["x"]}).errors) == {"team", "user"}
    token = parse_new_token_form(
        {"name": ["qa"], "scopes": ["record", "read"]}, known_scopes=("read", "record")
    )
    assert token.value is not None
    assert token.value.scopes == ("read", "record")
    refused = parse_new_token_form({"name": ["q a"], "scopes": ["all"]}, known_scopes=("read",))
    assert set(refused.errors) == {"name", "scopes"}


def test_domain_refusals_map_onto_the_form_fields() -> None:
    assert error_field(UnknownAgent("no such agent"), ("agent", "note")) == "agent"
    assert error_field(KudosCapReached("cap"), ("agent",), {"from_agent": FORM}) == FORM
    assert error_field(KudosCapReached("cap"), ("agent",)) == FORM


def test_form_state_and_form_fields_keep_what_was_typed() -> None:
    fields = form_fields({"competencies": ["teamwork", "leadership"], "note": "hi", "x": None})
    assert fields == {"competencies": ["teamwork", "leadership"], "note": ["hi"]}
    state = FormState(fields).with_errors({"note": "too short"})
    assert state.value("note") == "hi"
    assert state.value("missing", "default") == "default"
    assert state.checked("competencies", "leadership")
    assert not state.checked("competencies", "communication")
    assert state.error("note") == "too short"
    assert state.error("competencies") is None


def test_a_moment_before_the_earliest_accepted_is_refused() -> None:
    parsed = parse_record_form(
        record_fields(occurred_at=["1999-12-31T10:00"]), recorded_by="s", zone=LONDON, now=NOW
    )
    assert "earliest" in parsed.errors["occurred_at"]
    soon = (NOW + timedelta(minutes=2)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
    assert parse_record_form(
        record_fields(occurred_at=[soon]), recorded_by="s", zone=LONDON, now=NOW
    ).ok
