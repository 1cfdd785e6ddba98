"""The checkpoints' signing key, from ``CALLCRAFT_SIGNING_KEY_FILE`` (a PEM file).

When the setting is unset, the derived default file is generated on first use (Ed25519,
mode 0600, created atomically so two processes starting together end up with one key). A
file named by the setting must exist; a file that is not an Ed25519 private key is refused.
Either way the error names the setting.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from api.settings import Settings, SettingsError
from domain.signatures import InvalidKey, SigningKey

SETTING = "CALLCRAFT_SIGNING_KEY_FILE"


def load_signing_key(settings: Settings) -> SigningKey:
    path = settings.effective_signing_key_file
    if not path.exists():
        if settings.signing_key_file:
            raise SettingsError(f"{SETTING}: the key file {path} does not exist")
        _generate(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SettingsError(f"{SETTING}: cannot read {path}: {error.strerror}") from None
    try:
        return SigningKey.from_pem(data)
    except InvalidKey as error:
        raise SettingsError(f"{SETTING}: {path} is not an Ed25519 signing key: {error}") from None


def _generate(path: Path) -> None:
    """Write a new key to ``path`` unless another process wrote one first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(SigningKey.generate().to_pem())
        try:
            os.link(temporary, path)  # fails when the key exists: the first one wins
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
    except OSError as error:
        raise SettingsError(f"{SETTING}: cannot create {path}: {error.strerror}") from None
