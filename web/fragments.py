"""Rendered HTML kept and filled in: a fragment rendered once with a slot where one
per-request value goes, then joined around that value on every request.

The slot is a random token drawn when the process starts and never sent to anyone; a
rendering in which it does not appear exactly once (a template that dropped it, or user
text that happened to hold it) is not kept, and the caller renders in full instead.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from markupsafe import Markup, escape

SLOT = f"slot-{secrets.token_hex(16)}"
MAX_SHELLS = 1_000


@dataclass(frozen=True)
class Slotted:
    """HTML with one slot: ``fill(value)`` puts ``value`` (escaped unless Markup) there."""

    before: str
    after: str

    def fill(self, value: str) -> Markup:
        # Joined as plain strings: ``str + Markup`` would escape the rendered part.
        joined = "".join((self.before, str(escape(value)), self.after))
        return Markup(joined)  # noqa: S704 - the parts are rendered HTML


def slotted(render: Callable[[Markup], str]) -> Slotted | None:
    """``render(slot)`` split around the one place the slot appears; None unless exactly once."""
    parts = render(Markup(SLOT)).split(SLOT)  # noqa: S704 - our own token
    if len(parts) != 2:
        return None
    return Slotted(parts[0], parts[1])


class Shells:
    """Slotted renderings kept per process by a key naming every input they depend on
    (bounded: forgotten all at once when full)."""

    def __init__(self, limit: int = MAX_SHELLS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._kept: dict[Hashable, Slotted | None] = {}

    def get(self, key: Hashable, render: Callable[[Markup], str]) -> Slotted | None:
        found = self._kept.get(key, self)
        if found is self:
            made = slotted(render)
            with self._lock:
                if len(self._kept) >= self.limit:
                    self._kept.clear()
                self._kept[key] = made
            return made
        return found if isinstance(found, Slotted) else None
