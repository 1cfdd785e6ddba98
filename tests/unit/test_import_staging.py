"""What an import remembers in its scratch file comes back as it was."""

from __future__ import annotations

import sqlite3
from datetime import date
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.import_staging import ImportStaging
from domain.exceptions import KudosCapReached
from domain.kudos import KudosAllowance


@given(
    giver=st.uuids(),
    day=st.dates(min_value=date(2000, 1, 1)),
    used=st.integers(0, 6),
    cap=st.integers(1, 8),
)
def test_a_remembered_allowance_comes_back_as_it_was_and_keeps_counting(
    giver: UUID, day: date, used: int, cap: int
) -> None:
    allowance = KudosAllowance.open(giver=giver, day=day, recording_id=UUID(int=1), cap=8)
    for n in range(used):
        allowance.use(recording_id=UUID(int=n + 2), cap=8)
    allowance.collect_events()
    staging = ImportStaging()
    try:
        staging.remember({}, {allowance.id: allowance})
        again = staging.allowances_among([allowance.id, UUID(int=0)])[allowance.id]
    finally:
        staging.close()
    assert type(again) is KudosAllowance
    assert list(vars(again)) == list(vars(allowance))
    assert vars(again) == vars(allowance)
    assert [type(v) for v in vars(again).values()] == [type(v) for v in vars(allowance).values()]
    for original in (allowance, again):
        try:
            original.use(recording_id=UUID(int=99), cap=cap)
        except KudosCapReached:
            continue
    assert again.used == allowance.used
    assert [vars(e) | {"timestamp": None} for e in again.collect_events()] == [
        vars(e) | {"timestamp": None} for e in allowance.collect_events()
    ]


def test_an_allowance_with_events_not_yet_collected_is_not_remembered() -> None:
    allowance = KudosAllowance.open(
        giver=UUID(int=5), day=date(2026, 1, 1), recording_id=UUID(int=1), cap=3
    )
    staging = ImportStaging()
    try:
        with pytest.raises(ValueError, match="collected"):
            staging.remember({}, {allowance.id: allowance})
    finally:
        staging.close()


def test_a_batch_that_fails_to_stage_leaves_nothing_and_the_next_one_stages() -> None:
    staging = ImportStaging()
    try:
        stream = UUID(int=7)
        good = [(stream.hex, 1, "topic", b"{}")]
        with pytest.raises(sqlite3.Error):
            staging.stage([1], {stream: 0}, [(stream.hex, 1, "topic")], created=1)  # type: ignore[list-item]
        staging.stage([2], {stream: 0}, good, created=1)
        (batch,) = staging.batches()
        assert (batch.number, batch.lines, batch.first_event, batch.events) == (0, [2], 0, 1)
        assert list(staging.rows(batch)) == good
    finally:
        staging.close()
