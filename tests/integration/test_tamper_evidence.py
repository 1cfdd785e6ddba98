"""Every tampering with the stored events, the chain or the checkpoints is found, by kind and
position, on both databases; an untouched store always verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.demo import fill_demo
from domain.hash_chain import Problem, ProblemKind
from domain.signatures import SigningKey
from projections.chain_store import chain_rows
from tests.conftest import Database
from tests.integration.tamper_helpers import Sealed, sealing
from tests.reference_model import Command, World, fresh_database, histories
from tests.strategies import on_a_database

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
UNSEALED_TAIL = 3
PROPERTY = on_a_database(25)
EVENT_TAMPERINGS = ("change", "delete", "swap", "insert", "alter-link", "alter-hash")


@pytest.fixture
def sealed(database: Database) -> Iterator[tuple[Sealed, dict[str, Any], list[int]]]:
    """A demo store with gaps in its ids, sealed with several checkpoints, plus a few events
    recorded after the last seal; the snapshot to restore after each example."""
    with sealing(database) as store:
        fill_demo(store.app, now=NOW, seed=5, agents=6, days=7)
        store.raw.spread_ids()
        store.sealer.seal(force_checkpoint=True)
        sealed_ids = store.raw.event_ids()
        for n in range(UNSEALED_TAIL):
            store.app.form_team(name=f"Late team {n}", formed_by="admin")
        yield store, store.raw.snapshot(), sealed_ids


def checkpoint_positions(store: Sealed) -> list[int]:
    return [r[0] for r in store.raw.run("SELECT position FROM callcraft_checkpoints ORDER BY 1")]


@st.composite
def tamperings(draw: st.DrawFn, sealed_ids: list[int]) -> list[tuple[str, int, int | None]]:
    """One to four tamperings at distinct sealed positions (an insertion at a free id)."""
    count = draw(st.integers(1, 4))
    positions = draw(
        st.lists(st.sampled_from(sealed_ids), min_size=count * 2, max_size=count * 2, unique=True)
    )
    chosen = []
    for index in range(count):
        kind = draw(st.sampled_from(EVENT_TAMPERINGS))
        first, second = positions[2 * index], positions[2 * index + 1]
        if kind == "swap":
            chosen.append((kind, min(first, second), max(first, second)))
        elif kind == "insert":
            chosen.append((kind, first - 1, None))  # ids are even: first - 1 is free
        else:
            chosen.append((kind, first, None))
    return chosen


def apply(store: Sealed, kind: str, position: int, other: int | None) -> set[Problem]:
    raw = store.raw
    if kind == "change":
        raw.change_bytes(position)
        return {Problem(position, ProblemKind.EVENT_CHANGED)}
    if kind == "delete":
        raw.delete(position)
        return {Problem(position, ProblemKind.EVENT_DELETED)}
    if kind == "swap":
        assert other is not None
        raw.swap(position, other)
        return {Problem(position, ProblemKind.EVENTS_SWAPPED, other)}
    if kind == "insert":
        raw.insert(position)
        return {Problem(position, ProblemKind.EVENT_INSERTED)}
    raw.alter_chain_row(position, "link" if kind == "alter-link" else "content_hash")
    return {Problem(position, ProblemKind.CHAIN_ROW_ALTERED)}


@PROPERTY
@given(data=st.data())
def test_every_tampering_with_the_stored_events_or_the_chain_is_found_where_it_happened(
    sealed: tuple[Sealed, dict[str, Any], list[int]], data: st.DataObject
) -> None:
    store, snapshot, sealed_ids = sealed
    chosen = data.draw(tamperings(sealed_ids[1:]))
    try:
        expected: set[Problem] = set()
        for kind, position, other in chosen:
            expected |= apply(store, kind, position, other)
        report = store.integrity.verify()
        assert set(report.problems) == expected, chosen
        assert report.not_yet_sealed == UNSEALED_TAIL
        assert not report.clean
    finally:
        store.raw.restore(snapshot)


@PROPERTY
@given(data=st.data(), other_key=st.booleans())
def test_a_checkpoint_whose_signature_fails_is_found_at_its_position(
    sealed: tuple[Sealed, dict[str, Any], list[int]], data: st.DataObject, other_key: bool
) -> None:
    store, snapshot, _ = sealed
    positions = checkpoint_positions(store)
    assert len(positions) > 3
    chosen = data.draw(st.lists(st.sampled_from(positions), min_size=1, max_size=3, unique=True))
    try:
        for position in chosen:
            if other_key:
                store.raw.resign_with_other_key(position)
            else:
                store.raw.corrupt_signature(position)
        report = store.integrity.verify()
        assert set(report.problems) == {
            Problem(p, ProblemKind.CHECKPOINT_SIGNATURE_INVALID) for p in chosen
        }
    finally:
        store.raw.restore(snapshot)


def test_a_chain_rewritten_consistently_after_a_change_contradicts_the_signed_checkpoint(
    sealed: tuple[Sealed, dict[str, Any], list[int]],
) -> None:
    """A tamperer who edits an event and recomputes every later chain row cannot re-sign."""
    store, snapshot, sealed_ids = sealed
    target = sealed_ids[len(sealed_ids) // 2]
    try:
        store.raw.change_bytes(target)
        store.raw.run("DELETE FROM callcraft_chain WHERE notification_id >= ?", (target,))
        store.sealer.seal()  # the tamperer's re-seal (without the signing key it signs nothing)
        report = store.integrity.verify()
        later = [p for p in checkpoint_positions(store) if p >= target]
        assert report.problems
        assert {p.kind for p in report.problems} == {ProblemKind.CHECKPOINT_MISMATCH}
        assert min(p.position for p in report.problems) == later[0]
    finally:
        store.raw.restore(snapshot)


def test_an_untouched_sealed_store_verifies_and_counts_what_is_not_yet_sealed(
    sealed: tuple[Sealed, dict[str, Any], list[int]],
) -> None:
    store, _, sealed_ids = sealed
    report = store.integrity.verify()
    assert report.clean, report.problems
    assert (report.events_checked, report.sealed_head) == (len(sealed_ids), sealed_ids[-1])
    assert report.signed_head == sealed_ids[-1]
    assert report.not_yet_sealed == UNSEALED_TAIL


def test_checkpoints_signed_by_another_key_fail_even_when_the_chain_is_intact(
    sealed: tuple[Sealed, dict[str, Any], list[int]],
) -> None:
    store, _, _ = sealed
    stranger = SigningKey.generate().public_key
    report = store.integrity.verify(public_key=stranger)
    assert {p.kind for p in report.problems} == {ProblemKind.CHECKPOINT_SIGNATURE_INVALID}
    assert len(report.problems) == len(checkpoint_positions(store))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories(min_commands=5, max_commands=25),
    seal_after=st.lists(st.booleans(), min_size=30, max_size=30),
    batch_size=st.integers(1, 6),
    every=st.integers(1, 9),
)
def test_an_untouched_store_always_verifies_however_it_was_recorded_and_sealed(
    database: Database,
    history: list[Command],
    seal_after: list[bool],
    batch_size: int,
    every: int,
) -> None:
    with (
        fresh_database(database.kind) as db,
        sealing(db, checkpoint_every=every, batch_size=batch_size) as store,
    ):
        world = World(store.app)
        for index, command in enumerate(history):
            world.run(command)
            if seal_after[index % len(seal_after)]:
                store.sealer.seal(max_batches=1 + index % 3)
        report = store.integrity.verify()
        assert report.clean, report.problems
        last = int(store.app.recorder.max_notification_id() or 0)
        sealed_positions = [r.position for r in chain_rows(store.sealer.engine)]
        assert report.sealed_head == (sealed_positions[-1] if sealed_positions else 0)
        assert report.events_checked + report.not_yet_sealed == len(store.raw.event_ids())
        assert report.not_yet_sealed == len(
            [i for i in store.raw.event_ids() if i > report.sealed_head]
        )
        store.sealer.seal(force_checkpoint=True)
        final = store.integrity.verify()
        assert final.clean
        assert (final.sealed_head, final.signed_head, final.not_yet_sealed) == (last, last, 0)
