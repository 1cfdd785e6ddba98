"""The seven soft-skill competencies every recognition credits."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache

from domain.exceptions import InvalidCompetency


class Competency(StrEnum):
    COMMUNICATION = "communication"
    TEAMWORK = "teamwork"
    PROBLEM_SOLVING = "problem_solving"
    ADAPTABILITY = "adaptability"
    CUSTOMER_SERVICE = "customer_service"
    TIME_MANAGEMENT = "time_management"
    LEADERSHIP = "leadership"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


ALL_COMPETENCIES: tuple[Competency, ...] = tuple(Competency)
CACHED_SPELLING_MAX_LENGTH = 200  # longer inputs are parsed every time, never kept


def parse_competency(value: str) -> Competency:
    """Accept the canonical value, the label, or a spaced/hyphenated spelling."""
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Competency(key)
    except ValueError:
        known = ", ".join(c.value for c in Competency)
        raise InvalidCompetency(f"unknown competency {value!r}; expected one of: {known}") from None


def parse_competencies(values: Iterable[str]) -> tuple[Competency, ...]:
    """At least one competency, each from the seven, duplicates refused; canonical order."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidCompetency("competencies must be a list of competency names")
    names = tuple(values)
    if not all(isinstance(v, str) for v in names):
        raise InvalidCompetency("every competency must be given by its name")
    if sum(len(v) for v in names) <= CACHED_SPELLING_MAX_LENGTH:
        return _parse_spelling(names)
    return _parse_names(names)


def canonical_names(values: Iterable[str]) -> tuple[str, ...]:
    """``competency_values(parse_competencies(values))``: the same answer, or the same
    refusal. A recording's competencies come as the same few tuples of text, so a tuple of
    strings is answered from a bounded cache (a refusal raises and is never kept)."""
    if type(values) is tuple:
        try:
            return _canonical_spelling(values)
        except TypeError:  # something unhashable in it: parsed below, which refuses it
            pass
    return competency_values(parse_competencies(values))


@lru_cache(maxsize=4096)
def _canonical_spelling(values: tuple[str, ...]) -> tuple[str, ...]:
    return competency_values(parse_competencies(values))


@lru_cache(maxsize=4096)
def competency_values(competencies: tuple[Competency, ...]) -> tuple[str, ...]:
    """The canonical names of parsed competencies, in their order."""
    return tuple(c.value for c in competencies)


@lru_cache(maxsize=4096)
def _parse_spelling(values: tuple[str, ...]) -> tuple[Competency, ...]:
    """The same few spellings come back in every batch: parse each once (refusals are
    never cached: an exception leaves the cache alone)."""
    return _parse_names(values)


def _parse_names(values: tuple[str, ...]) -> tuple[Competency, ...]:
    parsed = [parse_competency(v) for v in values if v.strip()]
    if not parsed:
        raise InvalidCompetency("at least one competency is required")
    if len(set(parsed)) != len(parsed):
        raise InvalidCompetency("a competency is named twice")
    return tuple(c for c in ALL_COMPETENCIES if c in parsed)
