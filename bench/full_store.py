"""A large store in minutes: the bench's generated recognitions written on a fast path.

``record_many`` spends most of a recording in per-command work a trusted generator does not
need (idempotency look-ups, fingerprints, aggregate reconstruction, retries): about 1,200
events/s here. The generated rows are valid by construction (each agent enrolled long
before, kudos within the daily cap), so this path keeps the domain's own checks and data —
``event_fields_for`` on the agents held in memory, the recording's real event class, the
kudos allowances as aggregates — and writes the events in large batches through the
application's mapper and recorder. ``tests/integration/test_full_store.py`` proves a store
written this way projects exactly as one written by ``record_many``.

Built stores are kept under ``var/bench-stores/`` keyed by seed, size, day and a hash of the
code that writes and projects them, so a second run on the same day reuses its store.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic

from domain.agents import Agent
from domain.application import EVENT_CLASS_FOR_KIND, Callcraft
from domain.facts import RecognitionKind
from domain.identity import recording_id_for
from domain.kudos import KudosAllowance
from domain.recordings import Recording, RecordRecognition, event_fields_for

BATCH = 10_000
STORES = Path("var") / "bench-stores"
_RECORDING_TOPIC = get_topic(Recording)
_HASHED = ("domain", "projections", "bench/full_store.py", "bench/data.py", "api/demo.py")


class FastWriter:
    """Writes recognitions of agents it holds in memory, ``BATCH`` events per transaction."""

    def __init__(self, app: Callcraft, agents: Iterable[Agent], *, now: datetime) -> None:
        self.app = app
        self.agents = {agent.id: agent for agent in agents}
        self.now = now
        self.allowances: dict[UUID, KudosAllowance] = {}
        self.rulebooks = app.rulebooks()
        self._pending: list[object] = []
        self._touched: dict[UUID, KudosAllowance] = {}

    def write(self, command: RecordRecognition) -> UUID:
        agent = self.agents[command.agent_id]
        giver = self.agents[command.from_agent] if command.from_agent else None
        data = event_fields_for(command, agent, self.now, giver)
        key = data["idempotency_key"]
        recording_id = recording_id_for(command.recorded_by, key) if key else _new_id()
        event_class = EVENT_CLASS_FOR_KIND[command.kind]
        self._pending.append(
            event_class(
                originator_id=recording_id,
                originator_version=1,
                timestamp=self.now,
                originator_topic=_RECORDING_TOPIC,
                **data,
            )
        )
        if giver is not None and command.kind is RecognitionKind.KUDOS_GIVEN:
            self._use_allowance(giver.id, command, recording_id)
        if len(self._pending) >= BATCH:
            self.flush()
        return recording_id

    def _use_allowance(self, giver: UUID, command: RecordRecognition, recording_id: UUID) -> None:
        day = command.occurred_at.astimezone(self.app.timezone).date()
        allowance_id = KudosAllowance.create_id(giver, day)
        allowance = self.allowances.get(allowance_id)
        cap = self.rulebooks.in_force_at(command.occurred_at).kudos_cap_per_giver_per_day
        if allowance is None:
            allowance = KudosAllowance.open(
                giver=giver, day=day, recording_id=recording_id, cap=cap
            )
            self.allowances[allowance_id] = allowance
        else:
            allowance.use(recording_id=recording_id, cap=cap)
        self._touched[allowance_id] = allowance

    def flush(self) -> None:
        if self._pending:
            mapper = self.app.mapper
            self.app.recorder.insert_events([mapper.to_stored_event(e) for e in self._pending])  # type: ignore[arg-type]
            self._pending = []
        if self._touched:
            self.app.save(*self._touched.values())
            self._touched = {}


def _new_id() -> UUID:
    return uuid4()


def code_fingerprint(root: Path = Path()) -> str:
    """A short hash of the code that writes and projects a bench store."""
    digest = hashlib.sha256()
    for name in _HASHED:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def cached_store(
    key: str, build: Callable[[Path], None], *, root: Path = STORES, say: Callable[[str], None]
) -> Path:
    """The directory of the store ``key``, built by ``build(directory)`` unless a complete
    one is there already (a build that died half-way is thrown away)."""
    directory = root / key
    done = directory / "complete"
    if done.exists():
        say(f"reusing the store in {directory}")
        return directory
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    build(directory)
    done.write_text(datetime.now(UTC).isoformat())
    for stale in root.iterdir():  # keep one store per size: they are large
        if stale != directory and stale.name.split("-")[:3] == key.split("-")[:3]:
            shutil.rmtree(stale, ignore_errors=True)
    return directory


def whole_days_to(now: datetime, fixed: datetime) -> timedelta:
    """The shift that moves a history ending on ``fixed``'s day to end the day before
    ``now``'s: whatever the hour, then, no shifted moment is in the future (the generated
    history runs a few hours into ``fixed``'s day)."""
    return timedelta(days=(now.date() - fixed.date()).days - 1)
