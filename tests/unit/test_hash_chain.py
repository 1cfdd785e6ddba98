"""The hash chain's pure checks over in-memory histories: what was done is what is reported."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.hash_chain import (
    GENESIS,
    ChainRow,
    Checkpoint,
    Problem,
    ProblemKind,
    audit,
    checkpoint_message,
    content_hash,
    extend,
)
from domain.signatures import SigningKey

KEY = SigningKey.generate()
SIGNED_AT = datetime(2026, 3, 2, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@st.composite
def logs(draw: st.DrawFn) -> list[Stored]:
    """Stored events with even ids (so odd ids are free for insertions)."""
    size = draw(st.integers(4, 40))
    states = draw(st.lists(st.binary(min_size=1, max_size=20), min_size=size, max_size=size))
    return [
        Stored(2 * (i + 1), UUID(int=i + 1), 1, "domain.x:Happened", state)
        for i, state in enumerate(states)
    ]


def sign(position: int, link: bytes) -> Checkpoint:
    message = checkpoint_message(position, link, SIGNED_AT, KEY.key_id)
    return Checkpoint(position, link, SIGNED_AT, KEY.key_id, KEY.sign(message))


def sealed(events: list[Stored], every: int = 5) -> tuple[list[ChainRow], list[Checkpoint]]:
    rows = extend(GENESIS, events)
    marks = [r for i, r in enumerate(rows, 1) if i % every == 0 or i == len(rows)]
    return rows, [sign(r.position, r.link) for r in marks]


def check(
    events: list[Stored], rows: list[ChainRow], checkpoints: list[Checkpoint]
) -> set[Problem]:
    return set(audit(events, rows, checkpoints, KEY.public_key.signed).problems)


@given(logs())
def test_an_untouched_history_has_no_problem(events: list[Stored]) -> None:
    rows, checkpoints = sealed(events)
    report = audit(events, rows, checkpoints, KEY.public_key.signed)
    assert report.clean
    assert report.signed_head == report.sealed_head == events[-1].id


@given(logs(), st.data())
def test_an_event_deleted_and_put_back_in_a_gap_is_reported_as_moved(
    events: list[Stored], data: st.DataObject
) -> None:
    rows, checkpoints = sealed(events)
    index = data.draw(st.integers(0, len(events) - 1))
    target = data.draw(st.sampled_from([e.id - 1 for e in events if e.id != events[index].id]))
    moved = dataclasses.replace(events[index], id=target)
    tampered = sorted([*events[:index], *events[index + 1 :], moved], key=lambda e: e.id)
    assert check(tampered, rows, checkpoints) == {
        Problem(events[index].id, ProblemKind.EVENT_MOVED, target)
    }


@given(logs(), st.data())
def test_two_neighbouring_chain_rows_altered_are_each_reported_once(
    events: list[Stored], data: st.DataObject
) -> None:
    rows, checkpoints = sealed(events)
    index = data.draw(st.integers(0, len(rows) - 2))
    bad = bytes(32)
    rows[index] = dataclasses.replace(rows[index], link=bad)
    rows[index + 1] = dataclasses.replace(rows[index + 1], content_hash=bad)
    assert check(events, rows, checkpoints) == {
        Problem(rows[index].position, ProblemKind.CHAIN_ROW_ALTERED),
        Problem(rows[index + 1].position, ProblemKind.CHAIN_ROW_ALTERED),
    }


@given(logs(), st.data())
def test_a_checkpoint_naming_a_link_the_chain_never_had_is_a_mismatch(
    events: list[Stored], data: st.DataObject
) -> None:
    rows, checkpoints = sealed(events)
    chosen = data.draw(st.sampled_from(checkpoints))
    forged = sign(chosen.position, bytes(32))  # signed with the right key, wrong link
    tampered = [forged if c is chosen else c for c in checkpoints]
    assert check(events, rows, tampered) == {
        Problem(chosen.position, ProblemKind.CHECKPOINT_MISMATCH)
    }


@given(logs())
def test_a_chain_cut_short_under_its_last_checkpoint_is_a_mismatch(events: list[Stored]) -> None:
    rows, checkpoints = sealed(events)
    report = audit(events, rows[:-1], checkpoints, KEY.public_key.signed)
    assert set(report.problems) == {Problem(events[-1].id, ProblemKind.CHECKPOINT_MISMATCH)}
    assert report.not_yet_sealed == 1


def test_the_content_hash_covers_every_stored_field_but_not_the_id() -> None:
    event = Stored(2, UUID(int=1), 1, "t", b"s")
    others = [
        dataclasses.replace(event, originator_id=UUID(int=2)),
        dataclasses.replace(event, originator_version=2),
        dataclasses.replace(event, topic="u"),
        dataclasses.replace(event, state=b"S"),
    ]
    assert len({content_hash(e) for e in [event, *others]}) == 5
    assert content_hash(dataclasses.replace(event, id=4)) == content_hash(event)
    assert (
        extend(GENESIS, [event])[0].link
        != extend(GENESIS, [dataclasses.replace(event, id=4)])[0].link
    )
