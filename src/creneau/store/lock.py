"""Locks. One `creneau run` per SQLite file: a second daemon would check every target twice
and send every alert twice; an exclusive lock on a file beside the database keeps it off (the
kernel drops it when the process dies, even by kill -9). On PostgreSQL several daemons share
a database, one of them active (`store.leadership`); `DaemonLock` can still hold a session
advisory lock there (dropped when its connection closes), which `creneau run` no longer
takes. And one migration at a time (`lock_migrations`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

# pg_try_advisory_lock takes a signed 64-bit key; this one spells "creneau" in ASCII.
ADVISORY_KEY = int.from_bytes(b"creneau", "big")
MIGRATION_KEY = ADVISORY_KEY + 1


def lock_migrations(connection: Connection) -> None:
    """Inside a migration's transaction on PostgreSQL: wait for any other process migrating
    this database (the lock goes with the transaction). SQLite's own write lock serialises
    migrations already."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_KEY})


class AlreadyRunning(Exception):
    """Another daemon holds the database; the message says which, as far as known."""


class DaemonLock:
    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._file: IO[str] | None = None
        self._connection: Connection | None = None

    def acquire(self) -> None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                self._lock_file(Path(parsed.database).expanduser())
            return
        self._lock_advisory()

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                # The pool would keep the session, and the lock with it, alive.
                self._connection.execute(
                    text("select pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
                self._connection.commit()
                self._connection.close()
            self._connection = None

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

    def _lock_advisory(self) -> None:
        connection = self.engine.connect()
        got = connection.execute(
            text("select pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise AlreadyRunning(
                "another creneau run is already active on this PostgreSQL database: two "
                "daemons would check every target twice and send every alert twice; stop it "
                "first"
            )
        self._connection = connection


def _holder() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()}, since {started}"
