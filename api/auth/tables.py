"""The tables auth keeps beside the read models: sessions and failed sign-ins.

They live on the read engine (shared by every web process), in a metadata of their own: a
rebuild of the read models leaves them alone. ``ensure_auth_tables`` creates what is missing.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Engine, Index, MetaData, String, Table, Uuid

auth_metadata = MetaData()

web_sessions = Table(
    "web_sessions",
    auth_metadata,
    # sha256 of the session id: the cookie's value is never stored.
    Column("session_key", String(64), primary_key=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

signin_failures = Table(
    "signin_failures",
    auth_metadata,
    Column("attempt_key", String(64), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_signin_failures_key_time", "attempt_key", "failed_at"),
)


def ensure_auth_tables(engine: Engine) -> None:
    auth_metadata.create_all(engine, checkfirst=True)
