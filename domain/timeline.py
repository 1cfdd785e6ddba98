"""Time travel: what the scores were when the event log had reached a given position.

Positions are notification ids. The state "as of position ``P``" is what a projection of the
events at or before ``P`` shows: a recognition counts from the position that recorded it until
the position that retracted it; a rulebook applies from the position that published it.

Two pure rules live here:

* :func:`inclusion_moments` — the moment from which each position belongs to "as of T".
  As of a moment ``T`` the log has reached ``P(T)``: the last notification whose event
  timestamp is at or before ``T``. Timestamps of concurrent writers may be slightly out of log
  order, so position ``n`` is included from the *smallest* timestamp at or after it in the
  log; then ``P(T)`` is the last position included from a moment at or before ``T``.
* :func:`points_versions` — how many points each recognition was worth over positions.
  A recognition's points depend only on the recognitions of the same agent, local day and
  kind (the daily cap ranks them) and on the rulebooks published by then, so each such group
  is rescored at each position where it (or the rulebook history) changed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from uuid import UUID

from domain.competencies import Competency
from domain.facts import Recognition, RecognitionKind
from domain.rulebook import Publication, RulebookHistory
from domain.scoring import local_day, recognition_points, score_lines


def inclusion_moments(timestamps: Sequence[datetime], later: datetime | None) -> list[datetime]:
    """For positions in log order with these event ``timestamps``: the moment from which each
    is part of the view "as of T" — the smallest timestamp at or after it in the log.
    ``later`` is that moment for the position after the last one (``None`` if there is none)."""
    moments: list[datetime] = []
    smallest = later
    for timestamp in reversed(timestamps):
        if smallest is None or timestamp < smallest:
            smallest = timestamp
        moments.append(smallest)
    moments.reverse()
    return moments


@dataclass(frozen=True)
class RulebookTimeline:
    """Every published rulebook with the position that published it."""

    published: tuple[tuple[int, Publication], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", tuple(sorted(self.published, key=lambda p: p[0])))
        histories: list[RulebookHistory] = []
        for index in range(len(self.published)):
            histories.append(RulebookHistory(tuple(p for _, p in self.published[: index + 1])))
        object.__setattr__(self, "_histories", tuple(histories))
        object.__setattr__(self, "_positions", tuple(p for p, _ in self.published))

    @property
    def positions(self) -> tuple[int, ...]:
        positions: tuple[int, ...] = getattr(self, "_positions")  # noqa: B009 - set above
        return positions

    def history_at(self, position: int) -> RulebookHistory:
        """The rulebooks published at or before ``position`` (the shipped default before any,
        as the read models use)."""
        index = bisect_right(self.positions, position)
        if index == 0:
            return RulebookHistory.default()
        histories: tuple[RulebookHistory, ...] = getattr(self, "_histories")  # noqa: B009
        return histories[index - 1]


@dataclass(frozen=True, slots=True)
class Lifespan:
    """A recognition between the position that recorded it and the one that retracted it."""

    recognition: Recognition
    recorded: int
    retracted: int | None = None

    def alive_at(self, position: int) -> bool:
        return self.recorded <= position and (self.retracted is None or position < self.retracted)


@dataclass(frozen=True, slots=True)
class PointsVersion:
    """``recognition`` was worth ``points`` (never 0) from ``valid_from`` up to, not including,
    ``valid_until`` (``None``: still)."""

    recognition: Recognition
    day: date
    points: int
    valid_from: int
    valid_until: int | None

    @property
    def competencies(self) -> tuple[Competency, ...]:
        return self.recognition.competencies


GroupKey = tuple[UUID, date, RecognitionKind]


def _groups(lifespans: Iterable[Lifespan], tz: tzinfo) -> dict[GroupKey, list[Lifespan]]:
    groups: dict[GroupKey, list[Lifespan]] = {}
    for lifespan in lifespans:
        r = lifespan.recognition
        groups.setdefault((r.agent_id, local_day(r.occurred_at, tz), r.kind), []).append(lifespan)
    return groups


def points_versions(
    lifespans: Iterable[Lifespan], timeline: RulebookTimeline, tz: tzinfo
) -> list[PointsVersion]:
    """Every non-zero points version of the recognitions received in ``lifespans``."""
    versions: list[PointsVersion] = []
    for (_, day, _), group in _groups(lifespans, tz).items():
        versions.extend(_group_versions(group, day, timeline, tz))
    return versions


def _alone_points(recognition: Recognition, history: RulebookHistory) -> int:
    """What :func:`domain.scoring.score_lines` gives a recognition alone in its group: it
    ranks first, so only a cap below one takes its points."""
    rulebook = history.in_force_at(recognition.occurred_at)
    cap = rulebook.daily_cap(recognition.kind)
    return 0 if cap is not None and cap < 1 else recognition_points(recognition, rulebook)[0]


def _group_versions(
    group: list[Lifespan], day: date, timeline: RulebookTimeline, tz: tzinfo
) -> list[PointsVersion]:
    if len(group) == 1:  # the common case, without rescoring
        only = group[0]
        if not any(
            only.recorded < p and (only.retracted is None or p < only.retracted)
            for p in timeline.positions
        ):
            points = _alone_points(only.recognition, timeline.history_at(only.recorded))
            if not points:
                return []
            return [PointsVersion(only.recognition, day, points, only.recorded, only.retracted)]
    first = min(lifespan.recorded for lifespan in group)
    changes = {lifespan.recorded for lifespan in group}
    changes.update(lifespan.retracted for lifespan in group if lifespan.retracted is not None)
    changes.update(p for p in timeline.positions if p > first)
    current: dict[UUID, tuple[int, int]] = {}  # recording id -> (points, since)
    by_id = {lifespan.recognition.recording_id: lifespan.recognition for lifespan in group}
    versions: list[PointsVersion] = []
    for position in sorted(changes):
        alive = tuple(lifespan.recognition for lifespan in group if lifespan.alive_at(position))
        worth: dict[UUID, int] = {}
        if alive:
            lines = score_lines(alive, timeline.history_at(position), tz)
            worth = {line.recording_id: line.points for line in lines}
        for recording_id in set(current) | set(worth):
            points = worth.get(recording_id, 0)
            held = current.get(recording_id)
            if held is not None and held[0] == points:
                continue
            if held is not None:
                versions.append(PointsVersion(by_id[recording_id], day, held[0], held[1], position))
                del current[recording_id]
            if points:
                current[recording_id] = (points, position)
    for recording_id, (points, since) in current.items():
        versions.append(PointsVersion(by_id[recording_id], day, points, since, None))
    return versions
