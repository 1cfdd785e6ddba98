from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.competencies import (
    ALL_COMPETENCIES,
    Competency,
    _parse_names,
    canonical_names,
    competency_values,
    parse_competencies,
)
from domain.exceptions import InvalidCompetency

KNOWN = {c.value for c in Competency}


def test_there_are_exactly_the_seven_competencies() -> None:
    assert [c.label for c in ALL_COMPETENCIES] == [
        "Communication",
        "Teamwork",
        "Problem solving",
        "Adaptability",
        "Customer service",
        "Time management",
        "Leadership",
    ]


def test_labels_and_spelling_variants_are_understood_and_put_in_canonical_order() -> None:
    parsed = parse_competencies(["Time Management", "problem-solving", "communication"])
    assert parsed == (
        Competency.COMMUNICATION,
        Competency.PROBLEM_SOLVING,
        Competency.TIME_MANAGEMENT,
    )


def test_an_unknown_competency_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidCompetency) as refused:
        parse_competencies(["communication", "charisma"])
    assert "charisma" in refused.value.message
    assert "leadership" in refused.value.message
    assert refused.value.field == "competencies"


@pytest.mark.parametrize("values", [[], [""], ["  "]])
def test_an_empty_set_of_competencies_is_refused(values: list[str]) -> None:
    with pytest.raises(InvalidCompetency, match="at least one"):
        parse_competencies(values)


@pytest.mark.parametrize(
    "values",
    [["teamwork", "teamwork"], ["Teamwork", "teamwork"], ["time management", "time_management"]],
)
def test_a_competency_named_twice_is_refused(values: list[str]) -> None:
    with pytest.raises(InvalidCompetency, match="twice"):
        parse_competencies(values)


@given(st.sets(st.sampled_from(ALL_COMPETENCIES), min_size=1))
def test_any_non_empty_set_of_the_seven_is_accepted(chosen: set[Competency]) -> None:
    assert set(parse_competencies([c.value for c in chosen])) == chosen


@given(
    st.lists(st.sampled_from(ALL_COMPETENCIES)).map(lambda cs: [c.value for c in cs]),
    st.text(min_size=1, max_size=20).filter(
        lambda t: t.strip() and t.strip().lower().replace("-", "_").replace(" ", "_") not in KNOWN
    ),
    st.data(),
)
def test_any_set_with_an_unknown_competency_is_refused(
    known: list[str], unknown: str, data: st.DataObject
) -> None:
    values = [*known]
    values.insert(data.draw(st.integers(0, len(values))), unknown)
    with pytest.raises(InvalidCompetency):
        parse_competencies(values)


SPELLINGS = st.sampled_from(
    [c.value for c in ALL_COMPETENCIES]
    + [c.label for c in ALL_COMPETENCIES]
    + ["Problem-Solving", " teamwork ", "TIME management", "", "  ", "charisma"]
)


@given(st.lists(SPELLINGS | st.text(max_size=12), max_size=4))
def test_a_spelling_parsed_again_means_what_it_meant_the_first_time(values: list[str]) -> None:
    """Accepted tuples of spellings are remembered: asked again (as a tuple or a list), the
    answer or the refusal is the same, and the same as parsing them afresh."""

    def outcome(given: object) -> object:
        try:
            return parse_competencies(given)  # type: ignore[arg-type]
        except InvalidCompetency as error:
            return ("refused", error.message, error.field)

    first = outcome(tuple(values))
    assert outcome(tuple(values)) == first
    assert outcome(list(values)) == first
    fresh: object
    try:
        fresh = _parse_names(tuple(values))
    except InvalidCompetency as error:
        fresh = ("refused", error.message, error.field)
    assert fresh == first


def test_what_cannot_be_hashed_is_refused_as_before() -> None:
    with pytest.raises(InvalidCompetency, match="by its name"):
        parse_competencies((["teamwork"],))  # type: ignore[arg-type]


def _decided(decide: object, given: object) -> object:
    try:
        return decide(given)  # type: ignore[operator]
    except InvalidCompetency as error:
        return ("refused", error.message, error.field)


@given(
    st.lists(
        SPELLINGS | st.text(max_size=12) | st.integers() | st.lists(st.text(max_size=3)),
        max_size=4,
    ),
    st.booleans(),
)
def test_the_remembered_names_of_a_spelling_are_what_parsing_it_decides(
    values: list[object], as_tuple: bool
) -> None:
    """``canonical_names`` (a recording's fast path, one look-up per known spelling) decides
    exactly what parsing decides: the same names or the same refusal, the first time and
    every time after."""
    given_values = tuple(values) if as_tuple else list(values)

    def checked(given: object) -> object:
        return competency_values(parse_competencies(given))  # type: ignore[arg-type]

    expected = _decided(checked, given_values)
    assert _decided(canonical_names, given_values) == expected
    assert _decided(canonical_names, given_values) == expected
