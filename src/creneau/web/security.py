"""What keeps the dashboard safe by default, as plain functions: the password's hash (PBKDF2,
as changedetection.io; scrypt is not in every Python build), signed session cookies, CSRF
tokens tied to the session, and a limit on login attempts. Secrets are compared in constant
time. Nothing here knows Starlette."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 310_000  # OWASP's figure for PBKDF2-HMAC-SHA256
SESSION_LIFETIME_SECONDS = 30 * 24 * 3600
SESSION_SECRET_FILE = "web-session.secret"
REVOKED_SESSIONS_FILE = "web-sessions.revoked"
# Sessions a logout ended that are remembered until their cookie expires. Only someone
# logged in can log out, so more than this is someone filling the file on purpose: the
# soonest to expire are forgotten first.
REVOKED_SESSIONS_KEPT = 10_000
LOGIN_ATTEMPTS_PER_MINUTE = 5
LOGIN_BURST = 5


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(clear: str, *, iterations: int = HASH_ITERATIONS) -> str:
    """'pbkdf2_sha256$310000$<salt>$<hash>': what `creneau web hash-password` prints and what
    `[web] password` may hold instead of the password itself."""
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha256", clear.encode(), salt, iterations)
    return f"{HASH_SCHEME}${iterations}${_b64(salt)}${_b64(derived)}"


def is_password_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 4 and parts[0] == HASH_SCHEME and parts[1].isdigit()


def verify_password(clear: str, stored: str) -> bool:
    """Whether `clear` is the password `stored` (a hash from hash_password) stands for."""
    if not is_password_hash(stored):
        return False
    _scheme, iterations, salt, expected = stored.split("$")
    try:
        derived = hashlib.pbkdf2_hmac("sha256", clear.encode(), _unb64(salt), int(iterations))
        return hmac.compare_digest(derived, _unb64(expected))
    except (ValueError, TypeError):
        return False


def tokens_match(given: str | None, expected: str) -> bool:
    """An API or metrics bearer token, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def load_or_create_secret(data_dir: Path, name: str = SESSION_SECRET_FILE) -> bytes:
    """The key that signs session cookies, made on first use, readable by its owner only: a
    restart keeps people logged in, another installation cannot forge a cookie."""
    path = data_dir.expanduser() / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, secrets.token_hex(32).encode())
        finally:
            os.close(descriptor)
    return bytes.fromhex(path.read_text().strip())


class Revocations:
    """The sessions a logout ended before their cookie expires: their ids and expiries,
    in memory or, given a path, in a file readable by its owner only, read again when it
    changes (a restart, or `creneau web` beside `creneau run` on the same data directory,
    still refuses them). Entries past their expiry are dropped whenever it is written."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._ended: dict[str, int] = {}
        self._seen: tuple[int, int, int] | None = None  # the file last read: inode, mtime, size

    def __contains__(self, session: str) -> bool:
        self._reload()
        return session in self._ended

    def revoke(self, session: str, expiry: int, now: float) -> None:
        self._reload()
        self._ended[session] = expiry
        kept = sorted(
            ((ends, ended) for ended, ends in self._ended.items() if ends >= now), reverse=True
        )[:REVOKED_SESSIONS_KEPT]
        self._ended = {ended: ends for ends, ended in kept}
        self._write()

    def _reload(self) -> None:
        if self.path is None:
            return
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # os.replace: a new inode
        if seen == self._seen:
            return
        self._seen = seen
        ended = {}
        for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
            session, _, expiry = line.partition(" ")
            if session and expiry.isdigit():
                ended[session] = int(expiry)
        self._ended = ended

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{session} {expiry}\n" for session, expiry in self._ended.items())
        fresh = self.path.with_name(f"{self.path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, text.encode("ascii"))
        finally:
            os.close(descriptor)
        os.replace(fresh, self.path)  # whole or not at all, for a reader at the same time
        self._seen = None  # read back at the next look: another process may write too


@dataclass(frozen=True)
class Signer:
    """Signed session cookies ('<session id>.<expiry>.<mac>') and the CSRF token of each
    session (a MAC of its id: a page of another site cannot know it). A session ended by
    a logout is refused from then on, whoever kept a copy of its cookie."""

    key: bytes
    clock: Callable[[], float] = time.time
    revocations: Revocations = field(default_factory=Revocations)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Signer:
        """The signer of the installation whose secrets `data_dir` keeps."""
        folder = data_dir.expanduser()
        return cls(
            load_or_create_secret(folder), revocations=Revocations(folder / REVOKED_SESSIONS_FILE)
        )

    def new_session(self) -> str:
        session = _b64(secrets.token_bytes(18))
        expiry = str(int(self.clock()) + SESSION_LIFETIME_SECONDS)
        return f"{session}.{expiry}.{self._mac('session', session, expiry)}"

    def session_of(self, cookie: str | None) -> str | None:
        """The session id of a valid, unexpired, not ended cookie; None otherwise."""
        signed = self._signed(cookie)
        if signed is None or signed[0] in self.revocations:
            return None
        return signed[0]

    def end(self, cookie: str | None) -> None:
        """Log the cookie's session out: refused from now on, until it would have expired."""
        signed = self._signed(cookie)
        if signed is not None:
            self.revocations.revoke(*signed, now=self.clock())

    def _signed(self, cookie: str | None) -> tuple[str, int] | None:
        """The session id and expiry of a cookie this signer made, unexpired."""
        if not cookie or cookie.count(".") != 2:
            return None
        session, expiry, mac = cookie.split(".")
        if not expiry.isdigit() or int(expiry) < self.clock():
            return None
        if not hmac.compare_digest(mac, self._mac("session", session, expiry)):
            return None
        return session, int(expiry)

    def csrf_token(self, session: str) -> str:
        return self._mac("csrf", session)

    def csrf_ok(self, session: str | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(session))

    def _mac(self, *parts: str) -> str:
        return _b64(hmac.new(self.key, "\0".join(parts).encode(), hashlib.sha256).digest())


@dataclass
class LoginLimiter:
    """At most LOGIN_ATTEMPTS_PER_MINUTE failed logins a minute per client (a token bucket
    each), so that a password cannot be guessed at speed."""

    per_minute: float = LOGIN_ATTEMPTS_PER_MINUTE
    burst: float = LOGIN_BURST
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allowed(self, client: str) -> bool:
        tokens, _ = self._refilled(client)
        return tokens >= 1

    def failed(self, client: str) -> None:
        tokens, now = self._refilled(client)
        self._buckets[client] = (tokens - 1, now)

    def _refilled(self, client: str) -> tuple[float, float]:
        now = self.clock()
        tokens, updated = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.per_minute / 60)
        self._buckets[client] = (tokens, now)
        return tokens, now
