"""Locks. One `creneau run` per SQLite file: a second daemon would check every target twice
and send every alert twice; an exclusive lock on a file beside the database keeps it off (the
kernel drops it when the process dies, even by kill -9). On PostgreSQL several daemons share
a database, one of them active (`store.leadership`). And one migration at a time
(`lock_migrations`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

# pg_advisory_xact_lock takes a signed 64-bit key: "creneau" in ASCII, plus one.
MIGRATION_KEY = int.from_bytes(b"creneau", "big") + 1


def lock_migrations(connection: Connection) -> None:
    """Inside a migration's transaction on PostgreSQL: wait for any other process migrating
    this database (the lock goes with the transaction). SQLite's own write lock serialises
    migrations already."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_KEY})


class AlreadyRunning(Exception):
    """Another daemon holds the database; the message says which, as far as known."""


class DaemonLock:
    """The lock file beside an SQLite database; nothing elsewhere (in memory, PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        parsed = make_url(self.url)
        on_file = parsed.database and parsed.database != ":memory:"
        if parsed.get_backend_name() == "sqlite" and on_file:
            self._lock_file(Path(parsed.database or "").expanduser())

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _lock_file(self, database: Path) -> None:
        path = database.with_name(database.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        held = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.seek(0)
            holder = held.read().strip() or "another process"
            held.close()
            raise AlreadyRunning(
                f"another creneau run already uses {database} ({holder}): two daemons would "
                "check every target twice and send every alert twice; stop it first"
            ) from None
        held.seek(0)
        held.truncate()
        held.write(_holder())
        held.flush()
        self._file = held


def _holder() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()}, since {started}"
