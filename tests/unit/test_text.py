from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.exceptions import InvalidInput, InvalidNote
from domain.text import NOTE_MAX_LENGTH, _has_control_characters, clean_line, clean_text


def note(value: object, **options: object) -> str:
    return clean_text(value, field="note", max_length=NOTE_MAX_LENGTH, error=InvalidNote, **options)  # type: ignore[arg-type]


def test_text_is_trimmed() -> None:
    assert note("  well handled \n") == "well handled"


def test_text_at_the_length_limit_is_accepted() -> None:
    assert note("x" * NOTE_MAX_LENGTH) == "x" * NOTE_MAX_LENGTH


def test_text_one_character_over_the_limit_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidNote) as refused:
        note("x" * (NOTE_MAX_LENGTH + 1))
    assert refused.value.field == "note"
    assert str(NOTE_MAX_LENGTH) in refused.value.message


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_text_with_a_control_character_is_refused(control: str) -> None:
    with pytest.raises(InvalidNote, match="control characters"):
        note(f"fine{control}text")


def test_newlines_and_tabs_are_allowed_in_multiline_text_only() -> None:
    assert note("line one\n\tline two") == "line one\n\tline two"
    with pytest.raises(InvalidInput):
        clean_text("line one\nline two", field="course", max_length=200, multiline=False)


def test_html_looking_text_is_kept_verbatim_as_plain_text() -> None:
    typed = '<script>alert("hi")</script> & <b>bold</b>'
    assert note(typed) == typed


def test_required_text_must_not_be_blank() -> None:
    with pytest.raises(InvalidNote, match="must not be empty"):
        note("   ")
    assert note("   ", required=False) == ""


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["a"]])
def test_something_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidNote, match="must be text"):
        note(value)


@given(st.text(max_size=NOTE_MAX_LENGTH + 50))
def test_any_text_is_either_accepted_unchanged_but_trimmed_or_refused(value: str) -> None:
    try:
        cleaned = note(value)
    except InvalidNote:
        return
    assert cleaned == value.strip()
    assert len(cleaned) <= NOTE_MAX_LENGTH


@given(st.text(), st.booleans())
def test_control_characters_are_exactly_the_unicode_categories_cc_and_cs(
    value: str, multiline: bool
) -> None:
    allowed = {"\n", "\t", "\r"} if multiline else set()
    by_category = any(
        unicodedata.category(ch) in {"Cc", "Cs"} and ch not in allowed for ch in value
    )
    assert _has_control_characters(value, allow_newlines=multiline) == by_category


@pytest.mark.parametrize(
    ("code_point", "control"),
    [
        (0x00, True),
        (0x1F, True),
        (0x20, False),
        (0x7E, False),
        (0x7F, True),
        (0x9F, True),
        (0xA0, False),
        (0xD7FF, False),
        (0xD800, True),
        (0xDFFF, True),
        (0xE000, False),
    ],
)
def test_the_edges_of_the_control_ranges(code_point: int, control: bool) -> None:
    assert _has_control_characters(f"a{chr(code_point)}b", allow_newlines=False) is control


def _outcome(clean: object, value: object, max_length: int) -> tuple[str, str | None, str]:
    try:
        return ("accepted", None, clean(value, field="given_by", max_length=max_length))  # type: ignore[operator]
    except InvalidInput as error:
        return (type(error).__name__, error.field, error.message)


@given(
    st.one_of(st.text(max_size=40), st.text(max_size=40).map(lambda t: t * 6), st.integers()),
    st.sampled_from([1, 5, 20, 200]),
)
def test_a_kept_line_is_cleaned_or_refused_as_clean_text_would_each_time(
    value: object, max_length: int
) -> None:
    expected = _outcome(
        lambda v, **kw: clean_text(v, multiline=False, **kw),  # type: ignore[arg-type]
        value,
        max_length,
    )
    assert _outcome(clean_line, value, max_length) == expected
    assert _outcome(clean_line, value, max_length) == expected  # the second time, kept or not


def test_a_kept_line_refuses_with_the_error_and_field_asked_for() -> None:
    for _ in range(2):
        with pytest.raises(InvalidNote) as refused:
            clean_line("a\tb", field="course", max_length=10, error=InvalidNote)
        assert (refused.value.field, refused.value.message) == (
            "course",
            "course contains control characters",
        )
