"""Errors as JSON: ``{"status_code": 400, "detail": "...", "field": "..."}``.

Every error of the JSON API takes this shape: 400 for malformed input or parameters, 401, 403,
404, 409 (a conflict, or an idempotency key reused for a different body), 413, 422 for input
that breaks a rule of the domain, 429. ``field`` names the input concerned (``null`` when no
one field is to blame). Litestar's own validation errors (a limit that is not a number, an id
that is not a UUID, a body that is not JSON) take the same shape, and so do the domain's errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from litestar.types import ExceptionHandlersMap

from domain.exceptions import Conflict, DomainError, InvalidInput, NotFound, NotPermitted

DESCRIPTIONS: dict[int, str] = {
    400: "Malformed input or a parameter Callcraft cannot use; `field` names it.",
    401: "Nobody is signed in: send a session cookie or `Authorization: Bearer <token>`.",
    403: "Signed in, but not allowed to do this; nothing changed.",
    404: "Something the request names does not exist.",
    409: "A conflict with what is recorded (or an idempotency key reused for another body).",
    413: "The request body is too large.",
    422: "The input breaks a rule of the domain; `field` names it and nothing changed.",
    429: "Too many requests; try again later.",
}


@dataclass(frozen=True)
class ErrorBody:
    """What every error of the JSON API looks like."""

    status_code: int
    detail: str
    field: str | None = None


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` declaring ``codes`` with the error body."""
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=DESCRIPTIONS[code], generate_examples=False
        )
        for code in codes
    }


class BadParameter(ValidationException):
    """A request parameter Callcraft cannot use; ``field`` names it."""

    def __init__(self, detail: str, *, field: str | None) -> None:
        super().__init__(detail=detail)
        self.field = field


def error_response(status_code: int, detail: str, field: str | None = None) -> Response[Any]:
    return Response(
        {"status_code": status_code, "detail": detail, "field": field}, status_code=status_code
    )


_NAMED = re.compile(r"field `([^`]+)`")
BODY = "data"  # Litestar's name for the request body
RECORDER_FROM_BODY = (
    "recorded_by is not accepted: the recorder is always whoever is signed in "
    "(the user, or the API token's recording identity)"
)


def _first_problem(extra: Any) -> tuple[str | None, str | None]:
    """The field and message of the first problem Litestar found; a body's fields are named
    by their path (``items[2].rating``), the body itself by ``None``."""
    if not (isinstance(extra, list) and extra and isinstance(extra[0], dict)):
        return None, None
    key = extra[0].get("key")
    message = extra[0].get("message")
    text = str(message) if message else None
    field = str(key) if key is not None else None
    named = _NAMED.search(text) if text else None
    if field == BODY:
        field = named.group(1) if named else None
    elif named and field is not None:  # an unknown or missing field inside an item
        field = f"{field}.{named.group(1)}"
    return field, text


def bad_request(_request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    field = getattr(error, "field", None)
    detail = error.detail
    if not isinstance(error, BadParameter):
        field, message = _first_problem(error.extra)
        if message:
            detail = f"{field}: {message}" if field else f"the request body: {message}"
        if field is not None and field.rsplit(".", 1)[-1] == "recorded_by":
            detail = RECORDER_FROM_BODY
    return error_response(HTTP_400_BAD_REQUEST, detail, field)


def http_error(_request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, ValidationException):
        return bad_request(_request, error)
    response = error_response(error.status_code, error.detail, getattr(error, "field", None))
    response.headers.update(error.headers or {})
    return response


def status_for(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return HTTP_404_NOT_FOUND
    if isinstance(error, Conflict):
        return HTTP_409_CONFLICT
    if isinstance(error, NotPermitted):
        return HTTP_403_FORBIDDEN
    if isinstance(error, InvalidInput):
        return HTTP_422_UNPROCESSABLE_ENTITY
    return HTTP_422_UNPROCESSABLE_ENTITY


def domain_error(_request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return error_response(status_for(error), error.message, error.field)


API_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: bad_request,
    HTTPException: http_error,
    DomainError: domain_error,
}
