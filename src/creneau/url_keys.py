"""The outbox finds a notification URL in the running config by a digest, never by the URL
itself (it holds tokens). The digest is keyed with a secret of this installation, kept in the
data directory: a plain hash of a guessable URL (an ntfy topic) could be confirmed offline
from a copy of the database; a keyed one cannot."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "url-key.secret"
_secret: bytes | None = None


def load_or_create(data_dir: Path) -> None:
    """Use this installation's secret, made on first use (readable by its owner only)."""
    global _secret
    path = data_dir.expanduser() / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = secrets.token_bytes(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, made.hex().encode())
        finally:
            os.close(descriptor)
    _secret = bytes.fromhex(path.read_text().strip())


class NoSecretLoaded(RuntimeError):
    """A URL key asked before `load_or_create`: a key made up on the spot would match no row
    of the outbox, and its alerts would wait forever."""


def url_key(url: str) -> str:
    if _secret is None:
        raise NoSecretLoaded("the URL keys' secret is not loaded (url_keys.load_or_create)")
    return hmac.new(_secret, url.encode(), hashlib.sha256).hexdigest()[:16]
