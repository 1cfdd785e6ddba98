"""Validation of the short free texts people type: notes, names, reasons."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from domain.exceptions import InvalidInput

NOTE_MAX_LENGTH = 500
NAME_MAX_LENGTH = 120
REASON_MAX_LENGTH = 500


# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) and surrogates
# (Cs: U+D800-U+DFFF), as one character class: a scan in C instead of a lookup per character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_NEWLINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _has_control_characters(value: str, *, allow_newlines: bool) -> bool:
    """Control characters and lone surrogates (which cannot even be stored as UTF-8)."""
    pattern = _CONTROL_BUT_NEWLINES if allow_newlines else _CONTROL
    return pattern.search(value) is not None


CACHED_LINE_MAX_LENGTH = 200  # a longer line is cleaned every time, never kept


def clean_line(
    value: str, *, field: str, max_length: int, error: type[InvalidInput] = InvalidInput
) -> str:
    """``clean_text(value, ..., multiline=False)`` for the short lines that come back row
    after row of an import (who recorded it, who gave the feedback, a course's name): each
    spelling is cleaned once. A refusal is cleaned again, to raise as asked."""
    if type(value) is str and len(value) <= CACHED_LINE_MAX_LENGTH:
        cleaned = _kept_line(value, max_length)
        if cleaned is not None:
            return cleaned
    return clean_text(value, field=field, max_length=max_length, error=error, multiline=False)


@lru_cache(maxsize=1024)
def _kept_line(value: str, max_length: int) -> str | None:
    """The line cleaned, or None when refused (the field and the error do not change that)."""
    try:
        return clean_text(value, field="", max_length=max_length, multiline=False)
    except InvalidInput:
        return None


def _has_invisible_characters(value: str) -> bool:
    """Zero-width and direction-changing characters: they make look-alike identities."""
    return any(unicodedata.category(ch) == "Cf" for ch in value)


def clean_identifier(value: str, *, field: str, max_length: int, error: type[InvalidInput]) -> str:
    """A handle or username: NFKC-normalised, case-folded, visible, no spaces, so that two
    spellings that look the same are the same identity."""
    cleaned = clean_text(value, field=field, max_length=max_length, error=error, multiline=False)
    cleaned = unicodedata.normalize("NFKC", cleaned).casefold()
    if any(ch.isspace() for ch in cleaned):
        raise error(f"{field} must not contain spaces", field=field)
    if _has_invisible_characters(cleaned):
        raise error(f"{field} must not contain invisible characters", field=field)
    return cleaned


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
    cleaned = unicodedata.normalize("NFC", value).strip()
    if required and not cleaned:
        raise error(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise error(
            f"{field} is {len(cleaned)} characters long; the limit is {max_length}", field=field
        )
    if _has_control_characters(cleaned, allow_newlines=multiline):
        raise error(f"{field} contains control characters", field=field)
    return cleaned
