"""Errors as JSON: ``{"status_code": 400, "detail": "...", "field": "..."}``.

Bad parameters answer 400 with the field they concern; unknown ids answer 404. Litestar's own
validation errors (a limit that is not a number, an id that is not a UUID) take the same shape.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException, ValidationException
from litestar.status_codes import HTTP_400_BAD_REQUEST


class BadParameter(ValidationException):
    """A request parameter Callcraft cannot use; ``field`` names it."""

    def __init__(self, detail: str, *, field: str | None) -> None:
        super().__init__(detail=detail)
        self.field = field


def not_found(detail: str) -> NotFoundException:
    return NotFoundException(detail=detail)


def _first_problem(extra: Any) -> tuple[str | None, str | None]:
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        key = extra[0].get("key")
        message = extra[0].get("message")
        return (str(key) if key is not None else None, str(message) if message else None)
    return None, None


def bad_request(_request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    field = getattr(error, "field", None)
    detail = error.detail
    if not isinstance(error, BadParameter):
        key, message = _first_problem(error.extra)
        field = key
        if key and message:
            detail = f"{key}: {message}"
    return Response(
        {"status_code": HTTP_400_BAD_REQUEST, "detail": detail, "field": field},
        status_code=HTTP_400_BAD_REQUEST,
    )
