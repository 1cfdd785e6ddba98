"""Pure parsing of the pages' form fields into domain commands, with a message per field.

A form arrives as every value of every field (``FormFields``: a checkbox group sends a field
many times). Each ``parse_*`` function checks what it can without the store — required
fields, numbers, dates in the organisation's time zone, the domain's own text and
competency rules — and returns a ``Parsed``: the command, or the errors keyed by field name.
The store's own refusals (``DomainError.field``) are mapped onto the same field names by
``error_field``. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Generic, TypeVar
from uuid import UUID

from domain.accounts import Role, clean_username
from domain.competencies import parse_competencies
from domain.exceptions import DomainError, InvalidNote, InvalidReason
from domain.facts import FeedbackKind, RecognitionKind
from domain.recordings import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    SHORT_TEXT_MAX_LENGTH,
    RecordRecognition,
    validate_moment,
)
from domain.text import NAME_MAX_LENGTH, NOTE_MAX_LENGTH, REASON_MAX_LENGTH, clean_text

T = TypeVar("T")
FormFields = Mapping[str, Sequence[str]]

FORM = "_form"  # errors that belong to no single field
LOCAL_MOMENT_FORMAT = "%Y-%m-%dT%H:%M"
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
TOKEN_NAME_MAX_LENGTH = 64
PASSWORDS_DIFFER = "The two passwords differ: type the same one twice."

KIND_LABELS: Mapping[RecognitionKind, str] = {kind: kind.label for kind in RecognitionKind}
RECORDABLE_KINDS: tuple[RecognitionKind, ...] = (
    RecognitionKind.FEEDBACK_GIVEN,
    RecognitionKind.TRAINING_COMPLETED,
    RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE,
    RecognitionKind.INITIATIVE_TAKEN,
)
KIND_FIELDS: Mapping[RecognitionKind, tuple[str, ...]] = {
    RecognitionKind.FEEDBACK_GIVEN: ("rating", "feedback_kind", "given_by"),
    RecognitionKind.TRAINING_COMPLETED: ("course", "score"),
    RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE: ("call_ref",),
    RecognitionKind.INITIATIVE_TAKEN: ("description",),
    RecognitionKind.KUDOS_GIVEN: (),
}


class FieldError(Exception):
    """One field's value is refused; the message is for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A parsed command, or why not: ``errors`` maps field names to messages."""

    value: T | None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.errors


@dataclass(frozen=True)
class FormState:
    """What a form shows again: the values as typed, and a message per refused field."""

    values: FormFields = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0] if found else default

    def checked(self, name: str, option: str) -> bool:
        return option in self.values.get(name, ())

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def with_errors(self, errors: Mapping[str, str]) -> FormState:
        return FormState(values=self.values, errors={**self.errors, **errors})


@dataclass(frozen=True)
class Retraction:
    recording_id: UUID
    reason: str


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    password: str
    agent_id: UUID | None
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class RoleChange:
    role: Role
    grant: bool


@dataclass(frozen=True)
class SupervisorAssignment:
    team_id: UUID
    user_id: UUID


@dataclass(frozen=True)
class NewToken:
    name: str
    scopes: tuple[str, ...]


# ------------------------------------------------------------------------------ helpers


def text_of(fields: FormFields, name: str) -> str:
    """The field's first value, trimmed ("" when absent)."""
    values = fields.get(name)
    return values[0].strip() if values else ""


def values_of(fields: FormFields, name: str) -> list[str]:
    """Every non-blank value sent for ``name`` (a checkbox group, a multi-select)."""
    return [v.strip() for v in fields.get(name, ()) if v.strip()]


class _Collector:
    """Runs one check per field and keeps the first message of each refused field."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, name: str, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except FieldError as error:
            self.errors[name] = error.message
        except DomainError as error:
            self.errors[name] = error.message
        return None


def _required(fields: FormFields, name: str, message: str) -> str:
    value = text_of(fields, name)
    if not value:
        raise FieldError(message)
    return value


def _uuid(fields: FormFields, name: str, message: str) -> UUID:
    raw = _required(fields, name, message)
    try:
        return UUID(raw)
    except ValueError:
        raise FieldError(message) from None


def _whole_number(fields: FormFields, name: str, label: str, low: int, high: int) -> int:
    raw = _required(fields, name, f"Enter the {label}, a whole number from {low} to {high}.")
    try:
        number = int(raw)
    except ValueError:
        raise FieldError(f"The {label} must be a whole number from {low} to {high}.") from None
    if not low <= number <= high:
        raise FieldError(f"The {label} must be from {low} to {high}, not {number}.")
    return number


def _short_text(fields: FormFields, name: str, message: str) -> str:
    return clean_text(
        _required(fields, name, message),
        field=name,
        max_length=SHORT_TEXT_MAX_LENGTH,
        multiline=False,
    )


def parse_local_moment(raw: str, zone: tzinfo, now: datetime, *, field: str) -> datetime:
    """A ``datetime-local`` value ("2026-11-23T14:05") read as wall time in ``zone``.

    A wall time that does not exist in the zone (the hour skipped when clocks go forward)
    is refused rather than silently moved.
    """
    if not raw:
        raise FieldError("Enter the date and time it happened.")
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError("Enter the date and time as a calendar date and a time.") from None
    if naive.tzinfo is not None:
        raise FieldError("Enter the local date and time, without a time zone.")
    moment = naive.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise FieldError("That time does not exist on that day here (the clocks changed).")
    return validate_moment(moment, now, field=field)


def local_moment_value(moment: datetime, zone: tzinfo) -> str:
    """The ``datetime-local`` value for ``moment`` shown in ``zone``."""
    return moment.astimezone(zone).strftime(LOCAL_MOMENT_FORMAT)


def error_field(
    error: DomainError, known: Sequence[str], aliases: Mapping[str, str] | None = None
) -> str:
    """The form field a domain refusal belongs to (``FORM`` when none of the form's)."""
    name = error.field or ""
    name = (aliases or {}).get(name, name)
    return name if name in known else FORM


def _note(fields: FormFields) -> str:
    return clean_text(
        text_of(fields, "note"),
        field="note",
        max_length=NOTE_MAX_LENGTH,
        error=InvalidNote,
        required=False,
    )


def _idempotency_key(fields: FormFields) -> str | None:
    raw = text_of(fields, "idempotency_key")
    if not raw:
        return None
    return clean_text(
        raw, field="idempotency_key", max_length=IDEMPOTENCY_KEY_MAX_LENGTH, multiline=False
    )


def _competencies(fields: FormFields) -> tuple[str, ...]:
    chosen = values_of(fields, "competencies")
    if not chosen:
        raise FieldError("Choose at least one competency.")
    return tuple(c.value for c in parse_competencies(chosen))


# ------------------------------------------------------------------- record recognition

RECORD_FIELDS: tuple[str, ...] = (
    "agent",
    "type",
    "competencies",
    "occurred_at",
    "note",
    "idempotency_key",
    "rating",
    "feedback_kind",
    "given_by",
    "course",
    "score",
    "call_ref",
    "description",
)


def recordable_kind(raw: str) -> RecognitionKind | None:
    """The recognition type a supervisor may pick, or None for anything else."""
    try:
        kind = RecognitionKind(raw)
    except ValueError:
        return None
    return kind if kind in RECORDABLE_KINDS else None


def _kind(fields: FormFields) -> RecognitionKind:
    raw = _required(fields, "type", "Choose what kind of recognition this is.")
    kind = recordable_kind(raw)
    if kind is None:
        raise FieldError("Choose one of the listed kinds of recognition.")
    return kind


def _feedback_kind(fields: FormFields) -> str:
    raw = text_of(fields, "feedback_kind") or FeedbackKind.PRAISE.value
    try:
        return FeedbackKind(raw.lower()).value
    except ValueError:
        raise FieldError("Choose praise or coaching.") from None


def _given_by(fields: FormFields) -> str | None:
    raw = text_of(fields, "given_by")
    if not raw:
        return None
    return clean_text(raw, field="given_by", max_length=SHORT_TEXT_MAX_LENGTH, multiline=False)


def _description(fields: FormFields) -> str:
    raw = _required(fields, "description", "Describe the initiative.")
    return clean_text(raw, field="description", max_length=NOTE_MAX_LENGTH)


def parse_record_form(
    fields: FormFields, *, recorded_by: str, zone: tzinfo, now: datetime
) -> Parsed[RecordRecognition]:
    """The record-recognition form: the common fields and the chosen type's own fields."""
    c = _Collector()
    agent_id = c.check("agent", lambda: _uuid(fields, "agent", "Choose the agent to recognise."))
    kind = c.check("type", lambda: _kind(fields))
    competencies = c.check("competencies", lambda: _competencies(fields))
    occurred_at = c.check(
        "occurred_at",
        lambda: parse_local_moment(text_of(fields, "occurred_at"), zone, now, field="occurred_at"),
    )
    note = c.check("note", lambda: _note(fields))
    key = c.check("idempotency_key", lambda: _idempotency_key(fields))
    extra: dict[str, object] = {}
    if kind is RecognitionKind.FEEDBACK_GIVEN:
        extra["rating"] = c.check("rating", lambda: _whole_number(fields, "rating", "rating", 1, 5))
        extra["feedback_kind"] = c.check("feedback_kind", lambda: _feedback_kind(fields))
        extra["given_by"] = c.check("given_by", lambda: _given_by(fields))
    elif kind is RecognitionKind.TRAINING_COMPLETED:
        extra["course"] = c.check(
            "course", lambda: _short_text(fields, "course", "Name the course.")
        )
        extra["score"] = c.check("score", lambda: _whole_number(fields, "score", "score", 0, 100))
    elif kind is RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE:
        extra["call_ref"] = c.check(
            "call_ref", lambda: _short_text(fields, "call_ref", "Give the call's reference.")
        )
    elif kind is RecognitionKind.INITIATIVE_TAKEN:
        extra["description"] = c.check("description", lambda: _description(fields))
    if c.errors:
        return Parsed(None, c.errors)
    assert agent_id is not None
    assert kind is not None
    assert competencies is not None
    assert occurred_at is not None
    assert note is not None
    command = RecordRecognition(
        kind=kind,
        agent_id=agent_id,
        competencies=competencies,
        occurred_at=occurred_at,
        recorded_by=recorded_by,
        note=note,
        idempotency_key=key,
        rating=_int_or_none(extra.get("rating")),
        feedback_kind=_str_or_none(extra.get("feedback_kind")),
        given_by=_str_or_none(extra.get("given_by")),
        course=_str_or_none(extra.get("course")),
        score=_int_or_none(extra.get("score")),
        call_ref=_str_or_none(extra.get("call_ref")),
        description=_str_or_none(extra.get("description")),
    )
    return Parsed(command)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


# ------------------------------------------------------------------------------ kudos

KUDOS_FIELDS: tuple[str, ...] = ("agent", "competencies", "note", "idempotency_key")
KUDOS_ERROR_ALIASES: Mapping[str, str] = {"from_agent": FORM}


def parse_kudos_form(
    fields: FormFields, *, giver: UUID, recorded_by: str, now: datetime
) -> Parsed[RecordRecognition]:
    """Kudos from ``giver`` to the colleague chosen in ``agent``, given now."""
    c = _Collector()
    recipient = c.check("agent", lambda: _uuid(fields, "agent", "Choose the colleague to thank."))
    if recipient == giver:
        c.errors["agent"] = "Kudos go to a colleague: you cannot give them to yourself."
    competencies = c.check("competencies", lambda: _competencies(fields))
    note = c.check("note", lambda: _note(fields))
    key = c.check("idempotency_key", lambda: _idempotency_key(fields))
    if c.errors:
        return Parsed(None, c.errors)
    assert recipient is not None
    assert competencies is not None
    assert note is not None
    return Parsed(
        RecordRecognition(
            kind=RecognitionKind.KUDOS_GIVEN,
            agent_id=recipient,
            competencies=competencies,
            occurred_at=now,
            recorded_by=recorded_by,
            note=note,
            idempotency_key=key,
            from_agent=giver,
        )
    )


# ------------------------------------------------------------------------------ retraction

RETRACTION_FIELDS: tuple[str, ...] = ("recording_id", "reason")


def _reason(fields: FormFields) -> str:
    raw = _required(fields, "reason", "Give a reason: everyone who sees the retraction reads it.")
    return clean_text(raw, field="reason", max_length=REASON_MAX_LENGTH, error=InvalidReason)


def parse_retraction_form(fields: FormFields) -> Parsed[Retraction]:
    c = _Collector()
    recording_id = c.check(
        "recording_id",
        lambda: _uuid(fields, "recording_id", "Choose the recording to retract."),
    )
    reason = c.check("reason", lambda: _reason(fields))
    if c.errors:
        return Parsed(None, c.errors)
    assert recording_id is not None
    assert reason is not None
    return Parsed(Retraction(recording_id=recording_id, reason=reason))


# ------------------------------------------------------------------------------ admin

NEW_USER_FIELDS: tuple[str, ...] = (
    "username",
    "display_name",
    "password",
    "password_again",
    "agent",
    "roles",
)


def _role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise FieldError(f"Choose a role from: {known}.") from None


def _roles(fields: FormFields) -> tuple[Role, ...]:
    roles = [_role(raw) for raw in values_of(fields, "roles")]
    return tuple(r for r in Role if r in roles)


def _password(fields: FormFields) -> str:
    values = fields.get("password")
    password = values[0] if values else ""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise FieldError(f"Choose a password of at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise FieldError(f"A password has at most {PASSWORD_MAX_LENGTH} characters.")
    return password


def _display_name(fields: FormFields) -> str:
    raw = _required(fields, "display_name", "Enter the name people will see.")
    return clean_text(raw, field="display_name", max_length=NAME_MAX_LENGTH, multiline=False)


def _optional_uuid(fields: FormFields, name: str, message: str) -> UUID | None:
    return _uuid(fields, name, message) if text_of(fields, name) else None


def parse_new_user_form(fields: FormFields) -> Parsed[NewUser]:
    """A new account: username, display name, password (typed twice), an optional agent
    it belongs to, and the roles to grant at once."""
    c = _Collector()
    username = c.check(
        "username",
        lambda: clean_username(_required(fields, "username", "Choose a username.")),
    )
    display_name = c.check("display_name", lambda: _display_name(fields))
    password = c.check("password", lambda: _password(fields))
    again = fields.get("password_again")
    if password is not None and (not again or again[0] != password):
        c.errors["password_again"] = PASSWORDS_DIFFER
    agent_id = c.check(
        "agent", lambda: _optional_uuid(fields, "agent", "Choose an agent from the list.")
    )
    roles = c.check("roles", lambda: _roles(fields))
    if c.errors:
        return Parsed(None, c.errors)
    assert username is not None
    assert display_name is not None
    assert password is not None
    assert roles is not None
    return Parsed(
        NewUser(
            username=username,
            display_name=display_name,
            password=password,
            agent_id=agent_id,
            roles=roles,
        )
    )


def parse_role_change(fields: FormFields) -> Parsed[RoleChange]:
    """Grant or revoke one role: fields ``role`` and ``action`` ("grant" or "revoke")."""
    c = _Collector()
    role = c.check("role", lambda: _role(_required(fields, "role", "Choose a role.")))
    action = text_of(fields, "action")
    if action not in {"grant", "revoke"}:
        c.errors["action"] = "Choose whether to grant or to revoke the role."
    if c.errors:
        return Parsed(None, c.errors)
    assert role is not None
    return Parsed(RoleChange(role=role, grant=action == "grant"))


def parse_team_name(fields: FormFields) -> Parsed[str]:
    c = _Collector()
    name = c.check(
        "name",
        lambda: clean_text(
            _required(fields, "name", "Name the team."),
            field="name",
            max_length=NAME_MAX_LENGTH,
            multiline=False,
        ),
    )
    return Parsed(name, c.errors) if c.errors else Parsed(name)


def parse_supervisor_assignment(fields: FormFields) -> Parsed[SupervisorAssignment]:
    c = _Collector()
    team_id = c.check("team", lambda: _uuid(fields, "team", "Choose a team."))
    user_id = c.check("user", lambda: _uuid(fields, "user", "Choose the supervisor."))
    if c.errors:
        return Parsed(None, c.errors)
    assert team_id is not None
    assert user_id is not None
    return Parsed(SupervisorAssignment(team_id=team_id, user_id=user_id))


def parse_new_token_form(fields: FormFields, *, known_scopes: Sequence[str]) -> Parsed[NewToken]:
    """An API token: a name (its recording identity) and at least one scope."""
    c = _Collector()

    def name() -> str:
        raw = _required(fields, "name", "Name the integration this token is for.")
        cleaned = clean_text(raw, field="name", max_length=TOKEN_NAME_MAX_LENGTH, multiline=False)
        if any(ch.isspace() for ch in cleaned):
            raise FieldError("A token's name has no spaces (it appears in the audit trail).")
        return cleaned

    def scopes() -> tuple[str, ...]:
        chosen = values_of(fields, "scopes")
        if not chosen:
            raise FieldError("Choose at least one scope.")
        unknown = [s for s in chosen if s not in known_scopes]
        if unknown:
            raise FieldError(f"Choose scopes from: {', '.join(known_scopes)}.")
        return tuple(s for s in known_scopes if s in chosen)

    token_name = c.check("name", name)
    token_scopes = c.check("scopes", scopes)
    if c.errors:
        return Parsed(None, c.errors)
    assert token_name is not None
    assert token_scopes is not None
    return Parsed(NewToken(name=token_name, scopes=token_scopes))


def user_reference(fields: FormFields, name: str = "user") -> UUID | None:
    """A UUID field, or None when it is missing or malformed."""
    try:
        return UUID(text_of(fields, name))
    except ValueError:
        return None


def form_fields(data: Mapping[str, object] | None) -> dict[str, list[str]]:
    """A parsed urlencoded body (one value, or a list for a repeated field) as ``FormFields``."""
    fields: dict[str, list[str]] = {}
    for name, value in (data or {}).items():
        if isinstance(value, list):
            fields[name] = [str(v) for v in value]
        elif value is not None:
            fields[name] = [str(value)]
    return fields
