"""Rendered HTML kept with one slot (``web.fragments``): filling it is the same as rendering
with the value, and anything that would not be is never kept."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from web.fragments import SLOT, Shells, slotted

texts = st.text(max_size=40)


@given(before=texts, after=texts, value=texts)
def test_filling_the_slot_is_rendering_with_the_value_escaped(
    before: str, after: str, value: str
) -> None:
    def render(slot: str) -> str:
        return f"{before}<p title='{escape(slot)}'>{after}"

    kept = slotted(render)
    assert kept is not None
    assert str(kept.fill(value)) == render(value)


def test_markup_goes_in_as_it_is() -> None:
    kept = slotted(lambda slot: f"<main>{slot}</main>")
    assert kept is not None
    assert kept.fill(Markup("<b>board</b>")) == "<main><b>board</b></main>"
    assert kept.fill("<b>") == "<main>&lt;b&gt;</main>"


def test_a_rendering_without_exactly_one_slot_is_not_kept() -> None:
    assert slotted(lambda slot: "<p>no slot</p>") is None
    assert slotted(lambda slot: f"<p>{slot}</p><p>{SLOT}</p>") is None


def test_shells_render_each_key_once_and_forget_everything_when_full() -> None:
    shells = Shells(limit=2)
    rendered: list[str] = []

    def render(name: str) -> Callable[[Markup], str]:
        def go(slot: Markup) -> str:
            rendered.append(name)
            return f"<h1>{name}</h1>{slot}"

        return go

    for name in ("a", "a", "b", "a", "b"):
        kept = shells.get(name, render(name))
        assert kept is not None
        assert kept.fill("x") == f"<h1>{name}</h1>x"
    assert rendered == ["a", "b"]
    shells.get("c", render("c"))
    shells.get("a", render("a"))
    assert rendered == ["a", "b", "c", "a"]
