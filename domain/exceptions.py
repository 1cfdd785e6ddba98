"""Domain exceptions: each names a broken invariant in the domain's language."""


class DomainError(Exception):
    """Base class: a command was refused and nothing was recorded."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(DomainError):
    """Something named by the command does not exist."""


class UnknownAgent(NotFound):
    field = "agent"


class UnknownTeam(NotFound):
    field = "team"


class UnknownUser(NotFound):
    field = "user"


class UnknownToken(NotFound):
    """No API token with that id."""


class UnknownRecording(NotFound):
    field = "recording_id"


class Conflict(DomainError):
    """The command clashes with what is already recorded."""


class AlreadyExists(Conflict):
    pass


class AgentDeparted(Conflict):
    field = "agent"


class AlreadyRetracted(Conflict):
    field = "recording_id"


class IdempotencyKeyReused(Conflict):
    """The same idempotency key was used before for a different recording."""

    field = "idempotency_key"


class InvalidInput(DomainError):
    """The command's data breaks a rule of the domain."""


class InvalidCompetency(InvalidInput):
    field = "competencies"


class InvalidOccurredAt(InvalidInput):
    field = "occurred_at"


class InvalidRating(InvalidInput):
    field = "rating"


class InvalidScore(InvalidInput):
    field = "score"


class InvalidNote(InvalidInput):
    field = "note"


class InvalidName(InvalidInput):
    field = "name"


class InvalidReason(InvalidInput):
    field = "reason"


class InvalidRulebook(InvalidInput):
    field = "rulebook"


class SelfKudos(InvalidInput):
    field = "from_agent"


class KudosCapReached(Conflict):
    field = "from_agent"


class NotPermitted(DomainError):
    """The actor may not do this (for example retract somebody else's recording)."""
