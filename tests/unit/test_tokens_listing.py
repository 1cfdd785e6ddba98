"""The admin's list of API tokens comes from the log, without secrets or hashes."""

from __future__ import annotations

from datetime import UTC

from domain.application import Callcraft
from projections.projector import Projector
from projections.tokens import list_tokens
from tests.conftest import Database


def test_issued_and_revoked_tokens_are_listed_newest_first(sqlite_database: Database) -> None:
    app = Callcraft(env=sqlite_database.event_env())
    engine = sqlite_database.read_engine()
    projector = Projector(app, engine, timezone=UTC, batch_size=100)
    projector.ensure_ready()
    first, first_secret = app.issue_token(name="QA", scopes=["record"], issued_by="root")
    second, _ = app.issue_token(name="BI export", scopes=["read"], issued_by="root")
    app.revoke_token(token_id=first, revoked_by="ops")
    projector.catch_up()

    listed = list_tokens(engine)
    assert [t.token_id for t in listed] == [second, first]
    qa = listed[1]
    assert (qa.name, qa.scopes, qa.recording_identity) == ("QA", ["record"], "token:QA")
    assert (qa.revoked, qa.revoked_by) == (True, "ops")
    assert qa.revoked_at is not None
    assert first_secret not in repr(listed)
    assert [t.token_id for t in list_tokens(engine, include_revoked=False)] == [second]
    engine.dispose()
    app.close()
