"""What keeps the dashboard safe by default, as plain functions: the password's hash (PBKDF2,
as changedetection.io; scrypt is not in every Python build) computed off the event loop a
few at a time, signed session cookies that a logout ends, CSRF tokens tied to the session,
and limits on wrong passwords and wrong tokens. Secrets are compared in constant time.
Nothing here knows Starlette."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
LOGIN_ATTEMPTS_PER_MINUTE = 5  # wrong passwords, per client, once LOGIN_BURST are spent
LOGIN_BURST = 5
TOKEN_ATTEMPTS_PER_MINUTE = 5  # wrong bearer tokens, per client and token, likewise
TOKEN_BURST = 5
# A token this long is not guessed by trying (24 random characters: over 90 bits), so the
# right one is let in even while its client is limited: a visitor sending wrong tokens
# through the same reverse proxy cannot lock the scraper out. A shorter one is refused
# like any guess while the limit holds, or the limit would not protect it.
STRONG_TOKEN_LENGTH = 24
HASHES_AT_ONCE = 1  # a PBKDF2 hash takes a core for a fraction of a second
HASHES_WAITING = 4  # more are refused at once (429) rather than queued without bound
CLIENTS_TRACKED = 10_000  # limit buckets kept; idle ones are forgotten first


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
    # What a session was opened under (a digest of the dashboard's password): a password
    # set or changed ends every session opened before, an intruder's too.
    scope: Callable[[], str] = lambda: ""

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
        return f"{session}.{expiry}.{self._mac('session', self.scope(), session, expiry)}"

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
        if not hmac.compare_digest(mac, self._mac("session", self.scope(), session, expiry)):
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


def client_key(host: str | None) -> str:
    """Who a limit counts against: the client's address, or its /64 for IPv6 (what one
    subscriber is given: a new address in it is not a new client)."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass
class AttemptLimiter:
    """At most `burst` attempts, then `per_minute`, per client (a token bucket each). An
    attempt is reserved before it is checked, so that requests arriving together cannot
    all pass the limit before the first failure is counted, and given back when it was
    right (or never checked). A bucket never goes below empty: a client that stops is let
    in again within 60 / per_minute seconds."""

    per_minute: float = LOGIN_ATTEMPTS_PER_MINUTE
    burst: float = LOGIN_BURST
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def reserve(self, client: str) -> bool:
        """Take one attempt for `client`; False when none is left (the answer is a 429)."""
        tokens, now = self._refilled(client)
        if tokens < 1:
            return False
        self._buckets[client] = (tokens - 1, now)
        return True

    def give_back(self, client: str) -> None:
        """The reserved attempt was right, or was not checked: it does not count."""
        tokens, now = self._refilled(client)
        self._buckets[client] = (min(self.burst, tokens + 1), now)

    def retry_after(self, client: str) -> int:
        """Whole seconds until `client` has an attempt again."""
        tokens, _ = self._refilled(client)
        return max(1, math.ceil((1 - tokens) * 60 / self.per_minute))

    def _refilled(self, client: str) -> tuple[float, float]:
        now = self.clock()
        if client not in self._buckets and len(self._buckets) >= CLIENTS_TRACKED:
            self._forget_idle(now)
        tokens, updated = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - updated) * self.per_minute / 60)
        self._buckets[client] = (tokens, now)
        return tokens, now

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that are full again (forgetting them changes nothing), and if
        that is not enough, the longest untouched half."""
        refill = self.per_minute / 60
        self._buckets = {
            client: (tokens, updated)
            for client, (tokens, updated) in self._buckets.items()
            if tokens + (now - updated) * refill < self.burst
        }
        if len(self._buckets) >= CLIENTS_TRACKED:
            recent = sorted(self._buckets.items(), key=lambda item: item[1][1], reverse=True)
            self._buckets = dict(recent[: CLIENTS_TRACKED // 2])


def token_limiter() -> AttemptLimiter:
    return AttemptLimiter(per_minute=TOKEN_ATTEMPTS_PER_MINUTE, burst=TOKEN_BURST)


class HashingPool:
    """Passwords checked in a thread of their own, off the event loop (hashlib lets go of
    the GIL while it hashes: pages, the health check and the daemon's checks go on),
    `at_once` at a time; at most `waiting` more wait their turn, and one more is refused at
    once rather than queued without bound. A place is freed when its hash is done, even if
    the client that asked has gone."""

    def __init__(self, at_once: int = HASHES_AT_ONCE, waiting: int = HASHES_WAITING) -> None:
        self._threads = ThreadPoolExecutor(at_once, thread_name_prefix="creneau-password")
        self._places = threading.BoundedSemaphore(at_once + waiting)

    async def check(self, work: Callable[[], bool]) -> bool | None:
        """What `work` (a password comparison) says; None when every place is taken."""
        if not self._places.acquire(blocking=False):
            return None
        try:
            future = self._threads.submit(work)
        except BaseException:
            self._places.release()
            raise
        future.add_done_callback(lambda _: self._places.release())
        return await asyncio.wrap_future(future)
