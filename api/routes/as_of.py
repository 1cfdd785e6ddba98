"""The ``as_of`` query parameter: a past moment to see the read models at (422 if unusable)."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from api.runtime import Runtime
from projections.asof import AsOfError, Moment, moment_at, parse_as_of

AS_OF_DESCRIPTION = (
    "A past moment, ISO 8601 with an offset (e.g. 2026-03-01T17:00:00+01:00): the answer is "
    "what the read models showed when the log had reached it (the last event recorded at or "
    "before it); later recordings and retractions are left out."
)


class BadMoment(HTTPException):
    """An ``as_of`` the read models cannot be seen at."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY
    field = "as_of"


def moment_of(runtime: Runtime, as_of: str | None) -> Moment | None:
    """The moment ``as_of`` names (None when not given)."""
    if as_of is None:
        return None
    zone = runtime.settings.zone
    try:
        return moment_at(runtime.read_engine, parse_as_of(as_of), zone, now=datetime.now(UTC))
    except AsOfError as error:
        raise BadMoment(detail=str(error)) from None
