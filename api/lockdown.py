"""PostgreSQL: an application role that cannot update or delete stored events.

``callcraft db lock-down --app-role NAME`` runs, as the tables' owner, the statements of
:func:`lockdown_statements`: the role may SELECT and INSERT the event store's tables and the
chain's, use the notification-id sequence, and nothing more on them (UPDATE, DELETE and
TRUNCATE are revoked, from PUBLIC too). Every other table of the schema (the read models,
which ``callcraft rebuild`` drops and recreates) is handed over to the role.

One catch: to keep notification ids in commit order, the library takes ``LOCK TABLE … IN
EXCLUSIVE MODE`` on the events table before each insert, and PostgreSQL allows that lock
only to roles that may UPDATE, DELETE or TRUNCATE the table. So the lock-down also creates a
``SECURITY DEFINER`` function that takes exactly that lock (and nothing else) with the
owner's rights; with ``CALLCRAFT_DB_LOCKED_DOWN=true`` the application calls it instead
(``LockedDownRecorder``) and creates no tables at start-up.
"""

from __future__ import annotations

import re
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from api.recorders import StreamsPostgresRecorder

LOCK_FUNCTION = "callcraft_lock_events"
EVENTS_TABLE = "callcraft_events"
SNAPSHOTS_TABLE = "callcraft_snapshots"
INSERT_ONLY_TABLES = (EVENTS_TABLE, SNAPSHOTS_TABLE, "callcraft_chain", "callcraft_checkpoints")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class BadRoleName(ValueError):
    pass


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_role_name(role: str) -> str:
    if not ROLE_NAME.match(role):
        raise BadRoleName(
            f"{role!r} is not a plain role name (lower-case letters, digits and _, "
            "at most 63, not starting with a digit)"
        )
    return role


def lockdown_statements(schema: str, role: str, other_tables: list[str]) -> list[str]:
    """The SQL, in order; ``other_tables`` (the read models) are handed over to ``role``."""
    check_role_name(role)
    s, r = _q(schema), _q(role)
    tables = ", ".join(f"{s}.{_q(t)}" for t in INSERT_ONLY_TABLES)
    function = f"{s}.{_q(LOCK_FUNCTION)}()"
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {r} LOGIN; END IF; END $$",
        f"CREATE OR REPLACE FUNCTION {function} RETURNS void LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS "
        f"$$ BEGIN LOCK TABLE {s}.{_q(EVENTS_TABLE)} IN EXCLUSIVE MODE; END $$",
        f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {function} TO {r}",
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {r}",
        f"REVOKE ALL ON {tables} FROM PUBLIC",
        f"REVOKE ALL ON {tables} FROM {r}",
        f"GRANT SELECT, INSERT ON {tables} TO {r}",
        f"GRANT USAGE ON SEQUENCE {s}.{_q(EVENTS_TABLE + '_notification_id_seq')} TO {r}",
        *(f"ALTER TABLE {s}.{_q(t)} OWNER TO {r}" for t in other_tables),
    ]


class LockedDownRecorder(StreamsPostgresRecorder):
    """Our recorder (``api.recorders``), taking the insert lock through the lock-down
    function."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
            SQL("SELECT {0}.{1}()").format(Identifier(datastore.schema), Identifier(LOCK_FUNCTION)),
        ]


LOCKED_DOWN_RECORDER_TOPIC = f"{__name__}:{LockedDownRecorder.__name__}"


def other_tables(connection: Any, schema: str) -> list[str]:
    """The schema's tables that are neither the event store's nor the chain's."""
    rows = connection.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = %(schema)s ORDER BY tablename",
        {"schema": schema},
    ).all()
    return [r[0] for r in rows if r[0] not in INSERT_ONLY_TABLES]


def apply_lockdown(engine: Any, schema: str, role: str) -> list[str]:
    """Run the lock-down in one transaction (as the tables' owner); return the statements."""
    with engine.begin() as connection:
        statements = lockdown_statements(schema, role, other_tables(connection, schema))
        for statement in statements:
            connection.exec_driver_sql(statement)
    return statements
