"""Validation of the short free texts people type: notes, names, reasons."""

from __future__ import annotations

import unicodedata

from domain.exceptions import InvalidInput

NOTE_MAX_LENGTH = 500
NAME_MAX_LENGTH = 120
REASON_MAX_LENGTH = 500


def _has_control_characters(value: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\t", "\r"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def clean_text(
    value: str,
    *,
    field: str,
    max_length: int,
    error: type[InvalidInput] = InvalidInput,
    required: bool = True,
    multiline: bool = True,
) -> str:
    """Plain text, trimmed, of bounded length, with no control characters.

    The text is stored as typed (never interpreted as HTML); whoever shows it escapes it.
    """
    if not isinstance(value, str):
        raise error(f"{field} must be text", field=field)
    cleaned = value.strip()
    if required and not cleaned:
        raise error(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise error(
            f"{field} is {len(cleaned)} characters long; the limit is {max_length}", field=field
        )
    if _has_control_characters(cleaned, allow_newlines=multiline):
        raise error(f"{field} contains control characters", field=field)
    return cleaned
