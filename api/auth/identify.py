"""From a session's user or a bearer token's secret to a ``Principal``.

A person's account (roles, disabled, agent) is read from the event store, the teams they
lead from the read models (``team_supervisors``); ``api.auth.remembered`` keeps the result
until the next account event, so a role revoked or an account disabled takes effect at once.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Engine, select

from domain.application import Callcraft, TokenRecord, UserRecord
from domain.exceptions import UnknownUser
from domain.principals import Principal
from projections.tables import team_supervisors


def led_teams(engine: Engine, user_id: UUID) -> frozenset[UUID]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(team_supervisors.c.team_id).where(team_supervisors.c.user_id == user_id)
        ).all()
    return frozenset(row.team_id for row in rows)


def principal_for_account(engine: Engine, user: UserRecord) -> Principal | None:
    if user.disabled:
        return None
    return Principal(
        actor=user.username,
        display_name=user.display_name,
        roles=user.roles,
        user_id=user.id,
        agent_id=user.agent_id,
        led_team_ids=led_teams(engine, user.id),
    )


def principal_for_user(app: Callcraft, engine: Engine, user_id: UUID) -> Principal | None:
    """The principal of a live account; None for an unknown or disabled one."""
    try:
        user = app.user(user_id)
    except UnknownUser:
        return None
    return principal_for_account(engine, user)


def principal_for_token(token: TokenRecord) -> Principal:
    return Principal(
        actor=token.recording_identity,
        display_name=token.name,
        token_scopes=token.scopes,
        extra={"token_id": str(token.id)},
    )


def principal_for_secret(app: Callcraft, secret: str) -> Principal | None:
    token = app.token_by_secret(secret)
    return None if token is None else principal_for_token(token)
