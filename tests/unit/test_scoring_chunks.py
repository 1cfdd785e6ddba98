"""The rebuild's scoring chunks: a page of agents cut, in order, at a budget of facts."""

from __future__ import annotations

from itertools import pairwise
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from projections.rebuild_scoring import split_by_facts


@given(
    counts=st.lists(st.integers(0, 30), max_size=40),
    limit=st.integers(1, 50),
)
def test_chunks_keep_the_page_s_order_and_hold_at_most_the_budget(
    counts: list[int], limit: int
) -> None:
    page = [UUID(int=index + 1) for index in range(len(counts))]
    facts = {agent: count for agent, count in zip(page, counts, strict=True) if count}
    chunks = list(split_by_facts(page, facts, limit))

    assert [agent for chunk in chunks for agent in chunk] == page
    for chunk in chunks:
        held = sum(facts.get(agent, 0) for agent in chunk)
        assert held <= limit or len(chunk) == 1  # only an agent over the budget is alone
    for before, after in pairwise(chunks):
        # A chunk is cut only where the next agent would take it over the budget.
        held = sum(facts.get(agent, 0) for agent in before)
        assert held + facts.get(after[0], 0) > limit
