"""Sessions and sign-in failures live in the database, so every web process shares them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import Engine, select

from api.auth.sessions import SessionStore, session_key
from api.auth.tables import ensure_auth_tables, web_sessions
from api.auth.throttle import SignInThrottle, attempt_key
from tests.conftest import Database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    engine = database.read_engine()
    ensure_auth_tables(engine)
    ensure_auth_tables(engine)  # creating them twice is harmless
    yield engine
    engine.dispose()


def test_a_session_finds_its_user_until_it_expires(engine: Engine) -> None:
    store = SessionStore(engine, lifetime=timedelta(hours=1))
    user = uuid4()
    session = store.open(user, now=NOW)
    assert store.user_of(session, now=NOW) == user
    assert store.user_of(session, now=NOW + timedelta(minutes=59)) == user
    assert store.user_of(session, now=NOW + timedelta(hours=1)) is None


def test_only_the_hash_of_the_session_id_is_stored(engine: Engine) -> None:
    store = SessionStore(engine, lifetime=timedelta(hours=1))
    session = store.open(uuid4(), now=NOW)
    with engine.connect() as connection:
        keys = connection.execute(select(web_sessions.c.session_key)).scalars().all()
    assert keys == [session_key(session)]
    assert session not in keys


def test_another_process_sees_the_same_sessions(engine: Engine, database: Database) -> None:
    user = uuid4()
    session = SessionStore(engine, lifetime=timedelta(hours=1)).open(user, now=NOW)
    other_engine = database.read_engine()
    try:
        other = SessionStore(other_engine, lifetime=timedelta(hours=1))
        assert other.user_of(session, now=NOW) == user
        other.close(session)
    finally:
        other_engine.dispose()
    assert SessionStore(engine, lifetime=timedelta(hours=1)).user_of(session, now=NOW) is None


def test_opening_a_session_in_place_of_another_closes_the_old_one(engine: Engine) -> None:
    store = SessionStore(engine, lifetime=timedelta(hours=1))
    user = uuid4()
    old = store.open(user, now=NOW)
    new = store.open(user, now=NOW, replacing=old)
    assert new != old
    assert store.user_of(old, now=NOW) is None
    assert store.user_of(new, now=NOW) == user


def test_closing_every_session_of_a_user_leaves_the_others_alone(engine: Engine) -> None:
    store = SessionStore(engine, lifetime=timedelta(hours=1))
    gone, kept = uuid4(), uuid4()
    first, second = store.open(gone, now=NOW), store.open(gone, now=NOW)
    other = store.open(kept, now=NOW)
    store.close_all_for(gone)
    assert store.user_of(first, now=NOW) is None
    assert store.user_of(second, now=NOW) is None
    assert store.user_of(other, now=NOW) == kept


@pytest.mark.parametrize("session", ["", "made-up", "x" * 10_000])
def test_an_unknown_or_absurd_session_id_finds_no_one(engine: Engine, session: str) -> None:
    assert SessionStore(engine, lifetime=timedelta(hours=1)).user_of(session, now=NOW) is None


def test_expired_sessions_are_swept_when_a_new_one_opens(engine: Engine) -> None:
    store = SessionStore(engine, lifetime=timedelta(hours=1))
    store.open(uuid4(), now=NOW)
    store.open(uuid4(), now=NOW + timedelta(hours=2))
    with engine.connect() as connection:
        assert len(connection.execute(select(web_sessions)).all()) == 1


def test_failures_beyond_the_limit_block_until_the_oldest_ages_out(engine: Engine) -> None:
    throttle = SignInThrottle(engine, limit=3, window=timedelta(minutes=5))
    key = attempt_key("Sam", "10.0.0.1")
    for minute in range(3):
        assert throttle.retry_after(key, now=NOW + timedelta(minutes=minute)) is None
        throttle.failed(key, now=NOW + timedelta(minutes=minute))
    wait = throttle.retry_after(key, now=NOW + timedelta(minutes=2))
    assert wait is not None
    assert 170 <= wait <= 181
    assert throttle.retry_after(key, now=NOW + timedelta(minutes=5, seconds=1)) is None


def test_the_limit_is_per_username_and_address(engine: Engine) -> None:
    throttle = SignInThrottle(engine, limit=1, window=timedelta(minutes=5))
    throttle.failed(attempt_key("sam", "10.0.0.1"), now=NOW)
    assert throttle.retry_after(attempt_key("SAM ", "10.0.0.1"), now=NOW) is not None
    assert throttle.retry_after(attempt_key("sam", "10.0.0.2"), now=NOW) is None
    assert throttle.retry_after(attempt_key("aud", "10.0.0.1"), now=NOW) is None


def test_a_success_forgets_the_failures(engine: Engine) -> None:
    throttle = SignInThrottle(engine, limit=2, window=timedelta(minutes=5))
    key = attempt_key("sam", "10.0.0.1")
    throttle.failed(key, now=NOW)
    throttle.failed(key, now=NOW)
    throttle.succeeded(key)
    assert throttle.retry_after(key, now=NOW) is None
