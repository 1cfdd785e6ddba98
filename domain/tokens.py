"""API tokens: how an integration (say, a quality-assurance system) acts on Callcraft.

A token is issued by an admin with scopes (read, record) and a recording identity — the
name the audit trail shows as the recorder of what the integration records. Only the
sha256 of the secret is stored; the secret is shown once, when the token is issued. The
token's id follows from that hash, so finding the token for a presented secret is one read.
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.exceptions import Conflict, InvalidInput, InvalidName
from domain.identity import NAMESPACE
from domain.principals import TokenScope
from domain.text import clean_text

TOKEN_NAME_MAX_LENGTH = 80
RECORDING_IDENTITY_MAX_LENGTH = 100
TOKEN_ACTOR_PREFIX = "token:"  # noqa: S105 - a name prefix, not a secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id_for(token_hash: str) -> UUID:
    return uuid5(NAMESPACE, f"api-token:{token_hash}")


def parse_scopes(values: object) -> frozenset[TokenScope]:
    """At least one known scope: ``read``, ``record``."""
    if isinstance(values, str) or not isinstance(values, (list, tuple, set, frozenset)):
        raise InvalidInput("scopes must be a list of read and/or record", field="scopes")
    scopes: set[TokenScope] = set()
    for value in values:
        try:
            scopes.add(TokenScope(str(value).strip().lower()))
        except ValueError:
            raise InvalidInput(
                f"unknown scope {value!r}; expected read or record", field="scopes"
            ) from None
    if not scopes:
        raise InvalidInput("a token needs at least one scope: read or record", field="scopes")
    return frozenset(scopes)


class ApiToken(Aggregate):
    class ApiTokenIssued(Aggregate.Created):
        name: str
        token_hash: str
        scopes: list[str]
        recording_identity: str
        issued_by: str

    class ApiTokenRevoked(Aggregate.Event):
        revoked_by: str

    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return token_id_for(token_hash)

    @event(ApiTokenIssued)
    def __init__(
        self,
        name: str,
        token_hash: str,
        scopes: list[str],
        recording_identity: str,
        issued_by: str,
    ) -> None:
        self.name = name
        self.token_hash = token_hash
        self.scopes = list(scopes)
        self.recording_identity = recording_identity
        self.issued_by = issued_by
        self.revoked = False

    @classmethod
    def issue(
        cls,
        *,
        name: str,
        token_hash: str,
        scopes: object,
        recording_identity: str | None,
        issued_by: str,
    ) -> ApiToken:
        cleaned = clean_text(
            name, field="name", max_length=TOKEN_NAME_MAX_LENGTH, error=InvalidName, multiline=False
        )
        wanted = (recording_identity or "").strip() or cleaned
        if not wanted.startswith(TOKEN_ACTOR_PREFIX):
            # Integrations never record under a person's name.
            wanted = TOKEN_ACTOR_PREFIX + wanted
        identity = clean_text(
            wanted,
            field="recording_identity",
            max_length=RECORDING_IDENTITY_MAX_LENGTH,
            error=InvalidName,
            multiline=False,
        )
        return cls(
            name=cleaned,
            token_hash=token_hash,
            scopes=sorted(scope.value for scope in parse_scopes(scopes)),
            recording_identity=identity,
            issued_by=issued_by,
        )

    @property
    def token_scopes(self) -> frozenset[TokenScope]:
        return frozenset(TokenScope(scope) for scope in self.scopes)

    def revoke(self, *, revoked_by: str) -> None:
        if self.revoked:
            raise Conflict(f"the token {self.name!r} is already revoked", field="token")
        self._revoke(revoked_by=revoked_by)

    @event(ApiTokenRevoked)
    def _revoke(self, revoked_by: str) -> None:
        self.revoked = True
