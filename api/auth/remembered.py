"""Principals remembered per process, forgotten as soon as the log holds an account event.

Building a principal reads the account from the event store and the teams it leads from the
read models. Both change only through account events (a user's, a team's supervisors, a
token's), so a principal stays right until the next such event is committed. Each request
asks the log for its last notification id (one indexed read) and, when the log has grown,
whether the new part holds an account event (one range read). When it does, every
principal remembered before that point is rebuilt on its next use — in every process, since
each one watches the shared log: a disabled account or a revoked role is never served again.

A principal also records how far the read models were projected when its led teams were
read, so it is not trusted past an account event the projector had not yet applied.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.accounts import User
from domain.application import Callcraft
from domain.organisation import Team
from domain.principals import Principal
from domain.tokens import ApiToken

MAX_REMEMBERED = 10_000


def _event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    return [
        value
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, Aggregate.Event)
    ]


ACCOUNT_TOPICS: tuple[str, ...] = tuple(
    sorted(
        get_topic(cls) for aggregate in (User, Team, ApiToken) for cls in _event_classes(aggregate)
    )
)
"""Every event that can change who someone is or what they may do."""


class AccountWatch:
    """How far the log has been looked at, and where the last account event was seen.

    Invariant: every notification up to ``checked`` has been looked at, and ``changed`` is
    at or after the last account event among them."""

    def __init__(self, app: Callcraft, top: Callable[[], int] | None = None) -> None:
        self.app = app
        self.top = top or (lambda: int(app.recorder.max_notification_id() or 0))
        self._lock = threading.Lock()
        self.checked = 0
        self.changed = 0

    def look(self) -> int:
        """Look at what the log gained since the last look; return the position looked up to
        (a principal built after this call reflects every account event up to it)."""
        top = self.top()
        with self._lock:
            start = self.checked
        if top <= start:
            return start
        found = self.app.recorder.select_notifications(
            start=start, limit=1, stop=top, topics=ACCOUNT_TOPICS, inclusive_of_start=False
        )
        with self._lock:
            if found:
                self.changed = max(self.changed, top)
            self.checked = max(self.checked, top)
        return top

    def still_true(self, as_of: int) -> bool:
        """Whether something built as of ``as_of`` has seen every account event looked at."""
        with self._lock:
            return as_of >= self.changed


@dataclass(frozen=True)
class _Remembered:
    principal: Principal | None
    as_of: int


class RememberedPrincipals:
    """Principals by user id and by token secret, each trusted while no account event came
    after it. ``projected`` gives the read models' position (for the led teams), ``top`` the
    log's last notification id (the recorder's ``max_notification_id`` unless given)."""

    def __init__(
        self,
        app: Callcraft,
        projected: Callable[[], int] | None = None,
        top: Callable[[], int] | None = None,
    ) -> None:
        self.watch = AccountWatch(app, top)
        self.projected = projected
        self._entries: dict[object, _Remembered] = {}

    def get(self, key: object, build: Callable[[], Principal | None]) -> Principal | None:
        as_of = self.watch.look()
        found = self._entries.get(key)
        if found is not None and self.watch.still_true(found.as_of):
            return found.principal
        if self.projected is not None:
            as_of = min(as_of, self.projected())
        principal = build()
        if len(self._entries) >= MAX_REMEMBERED:
            self._entries.clear()
        self._entries[key] = _Remembered(principal, as_of)
        return principal

    def for_user(self, user_id: UUID, build: Callable[[], Principal | None]) -> Principal | None:
        return self.get(("user", user_id), build)

    def for_secret(self, secret: str, build: Callable[[], Principal | None]) -> Principal | None:
        return self.get(("token", hashlib.sha256(secret.encode()).hexdigest()), build)
