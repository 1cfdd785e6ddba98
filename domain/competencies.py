"""The seven soft-skill competencies every recognition credits."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

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
    values = list(values)
    if not all(isinstance(v, str) for v in values):
        raise InvalidCompetency("every competency must be given by its name")
    parsed = [parse_competency(v) for v in values if v.strip()]
    if not parsed:
        raise InvalidCompetency("at least one competency is required")
    if len(set(parsed)) != len(parsed):
        raise InvalidCompetency("a competency is named twice")
    return tuple(c for c in ALL_COMPETENCIES if c in parsed)
