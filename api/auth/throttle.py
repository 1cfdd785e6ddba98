"""Sign-in rate limiting, shared by every web process (the failures live in the database).

After ``limit`` failed attempts for one username from one address within ``window``, further
attempts are refused — without checking the password — until the oldest failure ages out.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from api.auth.tables import signin_failures


def attempt_key(username: str, address: str) -> str:
    return hashlib.sha256(f"{username.strip().casefold()}\x00{address}".encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SignInThrottle:
    def __init__(self, engine: Engine, *, limit: int, window: timedelta) -> None:
        self.engine = engine
        self.limit = limit
        self.window = window

    def retry_after(self, key: str, *, now: datetime) -> int | None:
        """Seconds until the next attempt is allowed, or None when it is allowed now."""
        with self.engine.connect() as connection:
            count, oldest = connection.execute(
                select(func.count(), func.min(signin_failures.c.failed_at)).where(
                    signin_failures.c.attempt_key == key,
                    signin_failures.c.failed_at > now - self.window,
                )
            ).one()
        if count < self.limit or oldest is None:
            return None
        wait = (_utc(oldest) + self.window - now).total_seconds()
        return max(1, int(wait) + 1)

    def failed(self, key: str, *, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(signin_failures).where(signin_failures.c.failed_at <= now - self.window)
            )
            connection.execute(insert(signin_failures).values(attempt_key=key, failed_at=now))

    def succeeded(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(signin_failures).where(signin_failures.c.attempt_key == key))
