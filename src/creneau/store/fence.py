"""A store's database: its engine, and the write transactions it allows. A daemon's are
fenced by its leadership term (`store.leadership`): every write first checks that the term
is still the current one, and none is made while the daemon stands by. An SQLite file
deleted or replaced under creneau is refused rather than written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from creneau.store.database import database_file, open_engine
from creneau.store.leadership import Instance, check_fence

# A daemon's PostgreSQL session idle inside a transaction for this long is ended by the server:
# a daemon paused or cut off mid-transaction cannot hold the leadership row's lock (and delay
# a takeover) longer than this.
IDLE_IN_TRANSACTION_MS = 10_000


class DatabaseGone(OSError):
    """The SQLite file was deleted or replaced while creneau had it open: what it would write
    would go to a file nobody reads any more."""


class FencedDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        self._file = database_file(url)
        self._identity: tuple[int, int] | None = None
        # Who claims outbox rows through this store; a daemon's identity in `leadership`.
        self.me = Instance.this_process()
        self._fenced = False  # writes check the term (a daemon's store)
        self._epoch: int | None = None  # the term they must belong to; None: standing by
        self._serving_sessions = False
        self._alongside: list[FencedDatabase] = []  # fenced with this one (its dashboard's)

    @property
    def shared(self) -> bool:
        """Several daemons may run on this database (PostgreSQL), one of them active; an
        SQLite file takes one daemon (its lock file)."""
        return self.engine.dialect.name == "postgresql"

    def serve_daemon(self, serving: bool = True) -> None:
        """This store is a daemon's: on PostgreSQL its sessions carry the daemon's name
        (pg_stat_activity shows which daemon is which) and end when idle in a transaction
        for IDLE_IN_TRANSACTION_MS; its writes are fenced (standing by until `fence`).
        `serving=False` once the daemon has stopped: writes are no longer fenced."""
        self._fenced, self._epoch = serving, None
        if serving and self.shared and not self._serving_sessions:
            self._serving_sessions = True
            name = f"creneau {self.me.instance}"[:63]
            event.listen(self.engine, "do_connect", partial(_daemon_session, name))
            self.engine.dispose()  # connections opened before (the migration check) go

    def fence(self, epoch: int | None) -> None:
        """Writes from now on belong to this term (None: standing by, no write at all)."""
        self._epoch = epoch
        for other in self._alongside:
            other._epoch = epoch

    def fence_alongside(self, other: FencedDatabase) -> None:
        """`other` (the store of this daemon's dashboard) writes only while this daemon
        leads: a standby's dashboard is read-only (its writes raise `Superseded`)."""
        other._fenced, other._epoch = True, self._epoch
        self._alongside.append(other)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction; a daemon's first checks that its term is still the current
        one (and holds the epoch until it commits), else raises `Superseded`."""
        self.ensure_same_file()
        with self.engine.begin() as connection:
            if self._fenced:
                check_fence(connection, self._epoch)
            yield connection

    def ensure_same_file(self) -> None:
        """Raises DatabaseGone when the SQLite file opened is no longer where it was."""
        if self._file is None:
            return
        try:
            status = os.stat(self._file)
        except FileNotFoundError:
            raise DatabaseGone(f"the database file {self._file} was deleted") from None
        identity = (status.st_dev, status.st_ino)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            raise DatabaseGone(
                f"the database file {self._file} was replaced (restart creneau to use it)"
            )


def _daemon_session(
    name: str, _dialect: object, _record: object, _args: object, params: dict[str, Any]
) -> None:
    """do_connect: a daemon's PostgreSQL sessions say whose they are, and end when idle in a
    transaction for too long."""
    setting = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    params["options"] = f"{params.get('options', '')} {setting}".strip()
    params.setdefault("application_name", name)
    params.setdefault("connect_timeout", 10)
