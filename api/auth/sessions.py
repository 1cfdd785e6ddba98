"""Server-side sessions in the database, so every web process sees the same ones.

The browser holds a random session id; the table holds only its sha256 and the user it
belongs to. Signing in always opens a new session (the id is rotated: an id planted before
sign-in never becomes a signed-in session) and closes the one the browser had; signing out
deletes the row, so a copied cookie is dead at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, bindparam, delete, insert, select

from api.auth.tables import web_sessions
from projections.hot import hot_reads
from projections.prepared import Prepared

SESSION_ID_BYTES = 32
# Asked on every signed-in request: compiled once (projections.prepared).
_LIVE_SESSION = Prepared(
    select(web_sessions.c.user_id, web_sessions.c.expires_at).where(
        web_sessions.c.session_key == bindparam("key", type_=web_sessions.c.session_key.type)
    )
)
MAX_SESSION_ID_LENGTH = 128


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SessionStore:
    def __init__(self, engine: Engine, *, lifetime: timedelta) -> None:
        self.engine = engine
        self.lifetime = lifetime

    def open(self, user_id: UUID, *, now: datetime, replacing: str | None = None) -> str:
        """A new session for ``user_id``; the session ``replacing`` (if any) is closed."""
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        with self.engine.begin() as connection:
            if replacing:
                connection.execute(
                    delete(web_sessions).where(web_sessions.c.session_key == session_key(replacing))
                )
            connection.execute(
                delete(web_sessions).where(web_sessions.c.expires_at < now)
            )  # sweep the expired ones while we are here
            connection.execute(
                insert(web_sessions).values(
                    session_key=session_key(session_id),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + self.lifetime,
                )
            )
        return session_id

    def user_of(self, session_id: str, *, now: datetime) -> UUID | None:
        """The user a live session belongs to; None for an unknown or expired id."""
        if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
            return None
        found = hot_reads(self.engine).rows(_LIVE_SESSION, key=session_key(session_id))
        if not found or _utc(found[0][1]) <= now:
            return None
        user_id: UUID = found[0][0]
        return user_id

    def close(self, session_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(web_sessions).where(web_sessions.c.session_key == session_key(session_id))
            )

    def close_all_for(self, user_id: UUID) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
