"""The tamper-evident history: a hash chain over the events as stored, and its checks.

Pure functions, no I/O. Every stored event (a notification of the log) is digested from the
fields the event store holds — ``originator_id``, ``originator_version``, ``topic`` and the
``state`` bytes — and the digests are chained in log order with the notification ids:

    content_hash_i = SHA-256("callcraft-event-v1" ‖ originator id (16 bytes) ‖ version (8)
                             ‖ topic and state, each after its length (4))
    link_i         = SHA-256(link_{i-1} ‖ id_i as 8 bytes ‖ content_hash_i),  link_0 = 32 zeros

So ``link_i`` covers the whole history up to ``i`` (ids, order and bytes). The content hash
leaves the id out on purpose: an event found at another position (two rows swapped, a row
moved into a gap) is recognised by its content hash and reported as such. A signed
checkpoint names a position and the link there.

:func:`audit` compares the store with the chain and the checkpoints in one merge pass over
three streams in position order, keeping only what is wrong in memory, and says exactly what
is wrong, by kind and position (see :class:`Problem`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar
from uuid import UUID

T = TypeVar("T")

GENESIS = bytes(32)
EVENT_DOMAIN = b"callcraft-event-v1\x00"
CHECKPOINT_DOMAIN = b"callcraft-checkpoint-v1\x00"
PROGRESS_EVERY = 1000
MAX_KEPT = 10_000
"""Findings kept per kind; beyond that they are only counted (memory stays flat)."""


class StoredFields(Protocol):
    """What the event store holds for one notification (the library's ``Notification``)."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> UUID | str: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


@dataclass(frozen=True)
class ChainRow:
    position: int
    content_hash: bytes
    link: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain reached ``position`` with ``head_link``."""

    position: int
    head_link: bytes
    signed_at: datetime
    key_id: str
    signature: bytes

    @property
    def message(self) -> bytes:
        return checkpoint_message(self.position, self.head_link, self.signed_at, self.key_id)


def _chunk(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def encode_stored(event: StoredFields) -> bytes:
    """The canonical bytes of one stored event's fields (the id excluded, see above): the
    originator id's 16 bytes, the version as 8, then the topic and the state with lengths."""
    originator = event.originator_id
    raw_id = originator.bytes if isinstance(originator, UUID) else UUID(originator).bytes
    topic = event.topic.encode()
    state = bytes(event.state)
    return b"".join(
        (
            EVENT_DOMAIN,
            raw_id,
            event.originator_version.to_bytes(8, "big", signed=True),
            len(topic).to_bytes(4, "big"),
            topic,
            len(state).to_bytes(4, "big"),
            state,
        )
    )


def content_hash(event: StoredFields) -> bytes:
    return hashlib.sha256(encode_stored(event)).digest()


def next_link(previous: bytes, position: int, digest: bytes) -> bytes:
    return hashlib.sha256(previous + position.to_bytes(8, "big") + digest).digest()


def extend(previous: bytes, events: Iterable[StoredFields]) -> list[ChainRow]:
    """The chain rows of ``events`` (in log order), continuing from the link ``previous``."""
    rows = []
    for event in events:
        digest = content_hash(event)
        previous = next_link(previous, event.id, digest)
        rows.append(ChainRow(event.id, digest, previous))
    return rows


def checkpoint_message(position: int, head_link: bytes, signed_at: datetime, key_id: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    text = f"{position}\n{head_link.hex()}\n{moment_text(signed_at)}\n{key_id}"
    return CHECKPOINT_DOMAIN + text.encode()


def moment_text(moment: datetime) -> str:
    """The one text form of a checkpoint's time (it is signed, so it must round-trip)."""
    return moment.isoformat(timespec="microseconds")


# ------------------------------------------------------------------------------- the audit


class ProblemKind(StrEnum):
    EVENT_CHANGED = "event-changed"
    EVENT_DELETED = "event-deleted"
    EVENTS_SWAPPED = "events-swapped"
    EVENT_MOVED = "event-moved"
    EVENT_INSERTED = "event-inserted"
    CHAIN_ROW_ALTERED = "chain-row-altered"
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint-signature-invalid"
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"


DESCRIPTIONS = {
    ProblemKind.EVENT_CHANGED: "the stored bytes of the event at {position} changed after sealing",
    ProblemKind.EVENT_DELETED: "the event at {position} was deleted after sealing",
    ProblemKind.EVENTS_SWAPPED: "the events at {position} and {other} were swapped",
    ProblemKind.EVENT_MOVED: "the event sealed at {position} was moved to {other}",
    ProblemKind.EVENT_INSERTED: "an event at {position} was inserted after sealing "
    "(the chain never sealed it)",
    ProblemKind.CHAIN_ROW_ALTERED: "the chain row at {position} was altered",
    ProblemKind.CHECKPOINT_SIGNATURE_INVALID: "the signature of the checkpoint at {position} "
    "fails (forged, altered, or signed by another key)",
    ProblemKind.CHECKPOINT_MISMATCH: "the signed checkpoint at {position} does not match the "
    "chain (the chain was rewritten or cut before it)",
}


@dataclass(frozen=True, order=True)
class Problem:
    position: int
    kind: ProblemKind
    other: int | None = None

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.kind].format(position=self.position, other=self.other)


@dataclass(frozen=True)
class IntegrityReport:
    problems: tuple[Problem, ...]
    events_checked: int
    sealed_head: int
    """The last position the chain sealed (0 when nothing is sealed)."""
    not_yet_sealed: int
    """Events after the sealed head: recorded since the last seal, not tampering."""
    signed_head: int
    """The last position a valid checkpoint signed (0 when none)."""
    checkpoints: int
    uncounted: int = 0
    """Problems beyond the ones kept (only when very many)."""
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.problems and not self.uncounted


@dataclass
class _Mismatches:
    """What is wrong so far; the event-level ones are paired up at the end."""

    changed: list[tuple[int, bytes, bytes]] = field(default_factory=list)  # pos, sealed, now
    deleted: list[tuple[int, bytes]] = field(default_factory=list)
    inserted: list[tuple[int, bytes]] = field(default_factory=list)
    other: list[Problem] = field(default_factory=list)
    uncounted: int = 0

    def keep(self, bucket: list[T], item: T) -> None:
        if len(bucket) < MAX_KEPT:
            bucket.append(item)
        else:
            self.uncounted += 1

    def problems(self) -> list[Problem]:
        found = list(self.other)
        by_sealed = {sealed: (pos, now) for pos, sealed, now in self.changed}
        paired: set[int] = set()
        for pos, sealed, now in self.changed:
            if pos in paired:
                continue
            partner = by_sealed.get(now)
            if partner is not None and partner[1] == sealed and partner[0] not in paired:
                paired.update((pos, partner[0]))
                found.append(Problem(pos, ProblemKind.EVENTS_SWAPPED, partner[0]))
            else:
                found.append(Problem(pos, ProblemKind.EVENT_CHANGED))
        inserted_by_hash = {digest: pos for pos, digest in self.inserted}
        moved_to: set[int] = set()
        for pos, sealed in self.deleted:
            target = inserted_by_hash.get(sealed)
            if target is not None and target not in moved_to:
                moved_to.add(target)
                found.append(Problem(pos, ProblemKind.EVENT_MOVED, target))
            else:
                found.append(Problem(pos, ProblemKind.EVENT_DELETED))
        found.extend(
            Problem(pos, ProblemKind.EVENT_INSERTED)
            for pos, _ in self.inserted
            if pos not in moved_to
        )
        return sorted(found)


def audit(
    events: Iterable[StoredFields],
    rows: Iterable[ChainRow],
    checkpoints: Iterable[Checkpoint],
    signature_ok: Callable[[Checkpoint], bool],
    progress: Callable[[int], None] | None = None,
) -> IntegrityReport:
    """Check the stored ``events`` against the chain ``rows`` and the ``checkpoints`` (each
    stream in position order)."""
    found = _Mismatches()
    event_iter: Iterator[StoredFields] = iter(events)
    row_iter: Iterator[ChainRow] = iter(rows)
    checkpoint_iter: Iterator[Checkpoint] = iter(checkpoints)
    event = next(event_iter, None)
    row = next(row_iter, None)
    pending = next(checkpoint_iter, None)
    previous: Sequence[bytes] = (GENESIS,)
    checked = not_sealed = head = signed_head = checkpoint_count = 0
    while row is not None:
        if event is not None and event.id < row.position:
            found.keep(found.inserted, (event.id, content_hash(event)))
            checked += 1
            event = next(event_iter, None)
            continue
        here = event if event is not None and event.id == row.position else None
        previous = _check_row(found, row, here, previous)
        if here is not None:
            checked += 1
            event = next(event_iter, None)
        head = row.position
        while pending is not None and pending.position <= head:
            checkpoint_count += 1
            if _check_checkpoint(found, pending, row, previous, signature_ok):
                signed_head = max(signed_head, pending.position)
            pending = next(checkpoint_iter, None)
        if progress is not None and (checked + not_sealed) % PROGRESS_EVERY == 0:
            progress(head)
        row = next(row_iter, None)
    while pending is not None:  # checkpoints beyond the end of the chain
        checkpoint_count += 1
        if signature_ok(pending):
            found.other.append(Problem(pending.position, ProblemKind.CHECKPOINT_MISMATCH))
        else:
            found.other.append(Problem(pending.position, ProblemKind.CHECKPOINT_SIGNATURE_INVALID))
        pending = next(checkpoint_iter, None)
    while event is not None:
        not_sealed += 1
        event = next(event_iter, None)
    if progress is not None:
        progress(head)
    problems = found.problems()
    kinds: dict[str, int] = {}
    for problem in problems:
        kinds[problem.kind.value] = kinds.get(problem.kind.value, 0) + 1
    return IntegrityReport(
        problems=tuple(problems),
        events_checked=checked,
        sealed_head=head,
        not_yet_sealed=not_sealed,
        signed_head=signed_head,
        checkpoints=checkpoint_count,
        uncounted=found.uncounted,
        kinds=kinds,
    )


def _check_row(
    found: _Mismatches, row: ChainRow, event: StoredFields | None, previous: Sequence[bytes]
) -> Sequence[bytes]:
    """Check one chain row (and the event at its position); return the links the next row
    may continue from. When a row is broken, both its stored link and the one recomputed
    from its content hash are accepted next, so one altered row is reported once."""
    expected = [next_link(p, row.position, row.content_hash) for p in previous]
    link_ok = row.link in expected
    if event is None:
        found.keep(found.deleted, (row.position, row.content_hash))
    else:
        digest = content_hash(event)
        if digest != row.content_hash:
            if any(next_link(p, row.position, digest) == row.link for p in previous):
                found.other.append(Problem(row.position, ProblemKind.CHAIN_ROW_ALTERED))
                return (row.link,)  # the chain row's content hash was edited; the event is fine
            found.keep(found.changed, (row.position, row.content_hash, digest))
    if link_ok:
        return (row.link,)
    found.other.append(Problem(row.position, ProblemKind.CHAIN_ROW_ALTERED))
    return (row.link, *expected[:3])


def _check_checkpoint(
    found: _Mismatches,
    checkpoint: Checkpoint,
    row: ChainRow,
    previous: Sequence[bytes],
    signature_ok: Callable[[Checkpoint], bool],
) -> bool:
    """True when the checkpoint is valid: its signature holds and it names a link the
    chain has at its position."""
    if not signature_ok(checkpoint):
        found.other.append(Problem(checkpoint.position, ProblemKind.CHECKPOINT_SIGNATURE_INVALID))
        return False
    if checkpoint.position != row.position or checkpoint.head_link not in previous:
        found.other.append(Problem(checkpoint.position, ProblemKind.CHECKPOINT_MISMATCH))
        return False
    return True
