"""API tokens: scoped, bound to a recording identity, stored as a hash, revocable."""

from __future__ import annotations

import pytest

from domain.application import Callcraft
from domain.exceptions import Conflict, InvalidInput, UnknownToken
from domain.principals import TokenScope
from domain.tokens import ApiToken, hash_secret, parse_scopes, token_id_for


@pytest.fixture
def app() -> Callcraft:
    return Callcraft(env={})  # the in-memory event store


def test_issuing_a_token_returns_its_id_and_a_secret_whose_hash_finds_it(app: Callcraft) -> None:
    token_id, secret = app.issue_token(name="QA system", scopes=["record"], issued_by="root")
    assert token_id == token_id_for(hash_secret(secret))
    found = app.token_by_secret(secret)
    assert found is not None
    assert found.id == token_id
    assert found.scopes == frozenset({TokenScope.RECORD})
    assert found.recording_identity == "token:QA system"
    assert found.issued_by == "root"


def test_the_secret_itself_is_never_stored(app: Callcraft) -> None:
    token_id, secret = app.issue_token(name="QA", scopes=["read"], issued_by="root")
    stored = [event.__dict__ for event in app.events.get(token_id)]
    assert secret not in repr(stored)
    assert hash_secret(secret) in repr(stored)


def test_two_tokens_get_different_secrets(app: Callcraft) -> None:
    first = app.issue_token(name="QA", scopes=["read"], issued_by="root")
    second = app.issue_token(name="QA", scopes=["read"], issued_by="root")
    assert first[0] != second[0]
    assert first[1] != second[1]


def test_a_recording_identity_always_reads_as_a_token_not_a_person(app: Callcraft) -> None:
    _, secret = app.issue_token(
        name="QA", scopes=["record"], recording_identity="sam", issued_by="root"
    )
    found = app.token_by_secret(secret)
    assert found is not None
    assert found.recording_identity == "token:sam"
    _, other = app.issue_token(
        name="QA", scopes=["record"], recording_identity="token:qa-bot", issued_by="root"
    )
    again = app.token_by_secret(other)
    assert again is not None
    assert again.recording_identity == "token:qa-bot"


@pytest.mark.parametrize("scopes", [[], ["write"], "read", None, ["read", "admin"]])
def test_scopes_must_be_a_list_of_read_and_record(app: Callcraft, scopes: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.issue_token(name="QA", scopes=scopes, issued_by="root")
    assert refused.value.field == "scopes"


def test_scopes_are_read_case_insensitively_and_deduplicated() -> None:
    assert parse_scopes(["READ", "read", " Record "]) == {TokenScope.READ, TokenScope.RECORD}


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "bad\x00name"])
def test_a_token_needs_a_proper_name(app: Callcraft, name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.issue_token(name=name, scopes=["read"], issued_by="root")
    assert refused.value.field == "name"


def test_a_revoked_token_no_longer_authenticates(app: Callcraft) -> None:
    token_id, secret = app.issue_token(name="QA", scopes=["read"], issued_by="root")
    app.revoke_token(token_id=token_id, revoked_by="root")
    assert app.token_by_secret(secret) is None
    assert app.token(token_id).revoked is True


def test_revoking_twice_is_a_conflict_and_an_unknown_token_is_not_found(app: Callcraft) -> None:
    token_id, _ = app.issue_token(name="QA", scopes=["read"], issued_by="root")
    app.revoke_token(token_id=token_id, revoked_by="root")
    with pytest.raises(Conflict):
        app.revoke_token(token_id=token_id, revoked_by="root")
    with pytest.raises(UnknownToken):
        app.revoke_token(token_id=token_id_for("nope"), revoked_by="root")


@pytest.mark.parametrize("secret", ["", "cc_wrong", "x" * 500])
def test_an_unknown_secret_finds_nothing(app: Callcraft, secret: str) -> None:
    app.issue_token(name="QA", scopes=["read"], issued_by="root")
    assert app.token_by_secret(secret) is None


def test_the_token_aggregate_records_who_issued_and_who_revoked() -> None:
    token = ApiToken.issue(
        name="QA", token_hash="h", scopes=["read"], recording_identity=None, issued_by="root"
    )
    token.revoke(revoked_by="ops")
    events = token.collect_events()
    assert [type(e).__name__ for e in events] == ["ApiTokenIssued", "ApiTokenRevoked"]
    assert events[0].issued_by == "root"  # type: ignore[attr-defined]
    assert events[1].revoked_by == "ops"  # type: ignore[attr-defined]
