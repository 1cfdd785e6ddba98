"""The tamper-evident history for auditors (and admins): the public key that signs the
checkpoints, and a verification of the whole store against the chain.

``GET /api/v1/audit/public-key`` and ``GET /api/v1/audit/verification``; anyone else gets 403
(API tokens too: auditing is a person's job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from litestar import get
from litestar.di import NamedDependency

from api.auth.guards import requires_role
from api.routes.errors import error_responses
from api.runtime import Runtime
from domain.accounts import Role
from domain.hash_chain import Checkpoint, moment_text
from domain.signatures import PublicKey

auditors = requires_role(Role.AUDITOR, Role.ADMIN)


@dataclass(frozen=True)
class PublicKeyOut:
    algorithm: str
    key_id: str
    public_key_pem: str
    public_key_hex: str

    @classmethod
    def of(cls, key: PublicKey) -> PublicKeyOut:
        return cls("Ed25519", key.key_id, key.pem, key.raw.hex())


@dataclass(frozen=True)
class CheckpointOut:
    position: int
    head_link: str
    signed_at: str
    key_id: str
    signature: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CheckpointOut:
        return cls(
            position=checkpoint.position,
            head_link=checkpoint.head_link.hex(),
            signed_at=moment_text(checkpoint.signed_at),
            key_id=checkpoint.key_id,
            signature=checkpoint.signature.hex(),
        )


@dataclass(frozen=True)
class ProblemOut:
    kind: str
    position: int
    other: int | None
    description: str


@dataclass(frozen=True)
class VerificationOut:
    clean: bool
    verified_at: datetime
    key_id: str
    events_checked: int
    sealed_head: int
    not_yet_sealed: int
    signed_head: int
    checkpoints: int
    problems: list[ProblemOut]
    problems_not_listed: int
    latest_checkpoint: CheckpointOut | None


@get(
    "/audit/public-key",
    sync_to_thread=False,
    tags=["audit"],
    guards=[auditors],
    responses=error_responses(401, 403),
)
def public_key(runtime: NamedDependency[Runtime]) -> PublicKeyOut:
    """The Ed25519 public key the checkpoints are signed with (keep a copy of your own)."""
    return PublicKeyOut.of(runtime.integrity.public_key)


@get(
    "/audit/verification",
    sync_to_thread=True,
    tags=["audit"],
    guards=[auditors],
    responses=error_responses(401, 403),
)
def verification(runtime: NamedDependency[Runtime]) -> VerificationOut:
    """Verify every stored event against the hash chain and every checkpoint's signature
    now; ``problems`` names each one by kind and position (``clean`` when there are none)."""
    integrity = runtime.integrity
    report = integrity.verify()
    latest = integrity.latest_checkpoint()
    return VerificationOut(
        clean=report.clean,
        verified_at=datetime.now(UTC),
        key_id=integrity.public_key.key_id,
        events_checked=report.events_checked,
        sealed_head=report.sealed_head,
        not_yet_sealed=report.not_yet_sealed,
        signed_head=report.signed_head,
        checkpoints=report.checkpoints,
        problems=[
            ProblemOut(p.kind.value, p.position, p.other, p.description) for p in report.problems
        ],
        problems_not_listed=report.uncounted,
        latest_checkpoint=None if latest is None else CheckpointOut.of(latest),
    )
