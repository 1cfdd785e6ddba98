"""The tamper-evident chain's tables, kept in the EVENT STORE's database (SQLAlchemy Core).

They live beside the stored events, not with the read models (which ``callcraft rebuild``
drops and recreates): the chain is evidence, never rebuilt. ``callcraft_chain`` holds one row
per sealed notification (its content hash and the chain link there);
``callcraft_checkpoints`` the signed checkpoints. Both are only ever inserted into: on
PostgreSQL, ``callcraft db lock-down`` leaves the application's role no other right on them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, MetaData, String, Table
from sqlalchemy.exc import DBAPIError

chain_metadata = MetaData()

chain_links = Table(
    "callcraft_chain",
    chain_metadata,
    Column("notification_id", BigInteger, primary_key=True, autoincrement=False),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("link", LargeBinary(32), nullable=False),
)

chain_checkpoints = Table(
    "callcraft_checkpoints",
    chain_metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("head_link", LargeBinary(32), nullable=False),
    Column("signed_at", String(40), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)

CHAIN_TABLES = (chain_links, chain_checkpoints)


def create_chain_tables(engine: Engine) -> None:
    """Create the chain's tables when missing (idempotent; tolerates a concurrent creator)."""
    for attempt in range(3):
        try:
            chain_metadata.create_all(engine)
            return
        except DBAPIError:
            if attempt == 2:
                raise
