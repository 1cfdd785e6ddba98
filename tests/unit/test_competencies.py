from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.competencies import ALL_COMPETENCIES, Competency, parse_competencies
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
