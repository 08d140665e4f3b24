"""Which daemon is active on a database, and the fence on its writes. One `leadership` row
holds a lease in the manner of APScheduler 4's `acquired_until`: the active daemon renews
`lease_until` every few seconds, by the database's clock; a standby takes the lease once it
has lapsed (or was released) and the row's `epoch` grows by one: a new term. Every write of
the active daemon first reads the epoch FOR KEY SHARE (`check_fence`): a standby's takeover
locks the row FOR UPDATE, so it waits for writes already under way, and every write after it
sees the newer epoch and is refused with `Superseded`. Renewals (an UPDATE that changes no
key) do not conflict with those shared locks. The lease calls run on an engine of their own
with short timeouts: a renewal never waits behind a check's transaction or a hung pool."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, create_engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection, make_url

from creneau.store.database import open_engine
from creneau.store.schema import DAEMONS, LEADERSHIP, OUTBOX_CLAIMS, by_key, rowcount

ROW = "daemon"  # the leadership row's name
FORGET_DAEMONS_AFTER = timedelta(days=1)  # rows of daemons not seen since are deleted
# Each lease call gives up quickly rather than hang: a renewal that cannot be made in time is
# a lease that lapses, which the daemon handles; a standby tries again at its next look.
LOCK_TIMEOUT_MS = 2000
STATEMENT_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5


class Superseded(Exception):
    """A write refused: this daemon's term is over (a newer one began) or it stands by. Not
    a database failure: the daemon stops at once instead of going on without the store."""


@dataclass(frozen=True)
class Instance:
    """One `creneau run` process: `token` is unique (host name and pid repeat across
    container restarts), `instance` is how it is shown ("host:pid")."""

    token: str
    host: str
    pid: int

    @property
    def instance(self) -> str:
        return f"{self.host}:{self.pid}"

    def columns(self) -> dict[str, str | int]:
        """Who it is, as the `leadership` and `daemons` rows say it."""
        return {"token": self.token, "instance": self.instance, "host": self.host, "pid": self.pid}

    @classmethod
    def this_process(cls) -> Instance:
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{secrets.token_hex(4)}", host, pid)


@dataclass(frozen=True)
class Term:
    """A leadership term this daemon began: its epoch, since when (database clock), and the
    daemon it took over from when that one did not step down (None otherwise)."""

    epoch: int
    since: datetime
    took_over_from: str | None = None


@dataclass(frozen=True)
class Leader:
    """The leadership row as read: who holds (or last held) the lease."""

    epoch: int
    token: str | None
    instance: str | None
    host: str | None
    pid: int | None
    since: datetime | None
    renewed_at: datetime | None
    lease_until: datetime | None
    released: bool
    takeovers: int

    def holds(self, now: datetime) -> bool:
        """A daemon holds the lease now."""
        return (
            self.token is not None
            and not self.released
            and self.lease_until is not None
            and self.lease_until > now
        )


@dataclass(frozen=True)
class DaemonSeen:
    token: str
    instance: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    seen_until: datetime


@dataclass(frozen=True)
class LeadershipView:
    """For `creneau status` and /metrics: the leadership row, the daemons seen recently
    (active one included) and the database's clock they were read by."""

    now: datetime
    leader: Leader
    daemons: tuple[DaemonSeen, ...]

    @property
    def active(self) -> Leader | None:
        return self.leader if self.leader.holds(self.now) else None

    @property
    def standbys(self) -> tuple[DaemonSeen, ...]:
        active = self.active
        return tuple(
            daemon for daemon in self.daemons if active is None or daemon.token != active.token
        )


@dataclass(frozen=True)
class Look:
    """What a look at the lease found: a term this daemon just began, or the leader."""

    term: Term | None
    leader: Leader


def database_now(connection: Connection, fallback: Callable[[], datetime]) -> datetime:
    """PostgreSQL's clock (clock_timestamp: the moment of the call, not of the transaction's
    start), so that daemons on machines whose clocks disagree share one; SQLite: `fallback`
    (one machine, and virtual time in tests)."""
    if connection.dialect.name != "postgresql":
        return fallback()
    found = connection.scalar(select(func.clock_timestamp()))
    assert isinstance(found, datetime)
    return found.astimezone(UTC)


def check_fence(connection: Connection, epoch: int | None) -> None:
    """The first statement of a fenced write: the epoch, locked FOR KEY SHARE until the
    transaction ends (SQLite: a plain read; its lock file keeps one daemon per file). None:
    this daemon stands by and writes nothing."""
    current = connection.scalar(
        select(LEADERSHIP.c.epoch)
        .where(LEADERSHIP.c.name == ROW)
        .with_for_update(read=True, key_share=True)
    )
    if epoch is None:
        raise Superseded("this daemon stands by: it writes nothing")
    if current != epoch:
        raise Superseded(f"term {epoch} is over: term {current} has begun")


def read_view(connection: Connection, fallback: Callable[[], datetime]) -> LeadershipView:
    now = database_now(connection, fallback)
    row = by_key(connection, LEADERSHIP, ROW)
    leader = (
        _leader(row)
        if row is not None
        else Leader(0, None, None, None, None, None, None, None, True, 0)
    )
    daemons = connection.execute(
        select(DAEMONS).where(DAEMONS.c.seen_until > now).order_by(DAEMONS.c.started_at)
    )
    return LeadershipView(now, leader, tuple(_seen(daemon) for daemon in daemons))


class Leases:
    """The lease calls of one daemon. `lease`: how long a term lasts without a renewal;
    `seen_for`: how long this daemon counts as seen after each call."""

    def __init__(
        self,
        url: str,
        me: Instance,
        lease: timedelta,
        seen_for: timedelta,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.me = me
        self.lease = lease
        self.seen_for = seen_for
        self.now = now
        self.engine = _lease_engine(url, me)

    def close(self) -> None:
        self.engine.dispose()

    def look(self, exclusive: bool = False) -> Look:
        """Say this daemon is alive; take the lease if it is free, has lapsed or (with
        `exclusive`: SQLite, whose lock file already keeps other daemons off) in any case.
        One transaction: a standby's look is a read and one small write."""
        with self.engine.begin() as connection:
            now = database_now(connection, self.now)
            self._seen(connection, now)
            row = by_key(connection, LEADERSHIP, ROW)
            assert row is not None, "the leadership row is created by migration 0012"
            if not (exclusive or _free(row, now)):
                return Look(None, _leader(row))
            # Locked now, waiting (at most the lock timeout) for writes of the last term.
            row = connection.execute(
                select(LEADERSHIP).where(LEADERSHIP.c.name == ROW).with_for_update()
            ).first()
            assert row is not None
            now = database_now(connection, self.now)
            if not (exclusive or _free(row, now)):
                return Look(None, _leader(row))
            took_over = None
            if row.token is not None and not row.released and row.token != self.me.token:
                took_over = row.instance
            epoch = row.epoch + 1
            connection.execute(
                update(LEADERSHIP)
                .where(LEADERSHIP.c.name == ROW)
                .values(
                    epoch=epoch,
                    **self.me.columns(),
                    since=now,
                    renewed_at=now,
                    lease_until=now + self.lease,
                    released=False,
                    takeovers=row.takeovers + (took_over is not None),
                )
            )
            # The claims of the daemons before this one lapse with their terms: what they
            # were sending is sent again by this one (at most one duplicate per death).
            others = select(DAEMONS.c.token).where(DAEMONS.c.token != self.me.token)
            connection.execute(delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.claimed_by.in_(others)))
            row = by_key(connection, LEADERSHIP, ROW)
            assert row is not None
            return Look(Term(epoch, now, took_over), _leader(row))

    def renew(self, epoch: int) -> bool:
        """Extend this daemon's lease; False when its term is over."""
        with self.engine.begin() as connection:
            now = database_now(connection, self.now)
            done = connection.execute(
                update(LEADERSHIP)
                .where(
                    LEADERSHIP.c.name == ROW,
                    LEADERSHIP.c.epoch == epoch,
                    LEADERSHIP.c.token == self.me.token,
                    LEADERSHIP.c.released.is_(False),
                )
                .values(renewed_at=now, lease_until=now + self.lease)
            )
            renewed = rowcount(done) == 1
            if renewed:
                self._seen(connection, now)
            return renewed

    def release(self, epoch: int | None) -> None:
        """Step down (a clean stop): a standby takes over at its next look, not when the lease
        would have lapsed. This daemon is no longer listed."""
        with self.engine.begin() as connection:
            now = database_now(connection, self.now)
            if epoch is not None:
                connection.execute(
                    update(LEADERSHIP)
                    .where(
                        LEADERSHIP.c.name == ROW,
                        LEADERSHIP.c.epoch == epoch,
                        LEADERSHIP.c.token == self.me.token,
                    )
                    .values(released=True, lease_until=now)
                )
            connection.execute(delete(DAEMONS).where(DAEMONS.c.token == self.me.token))

    def _seen(self, connection: Connection, now: datetime) -> None:
        until = now + self.seen_for
        done = connection.execute(
            update(DAEMONS)
            .where(DAEMONS.c.token == self.me.token)
            .values(seen_at=now, seen_until=until)
        )
        if rowcount(done) == 0:
            connection.execute(
                insert(DAEMONS).values(
                    **self.me.columns(),
                    started_at=now,
                    seen_at=now,
                    seen_until=until,
                )
            )
            # Once per start: forget daemons long gone (and keep this table small).
            connection.execute(
                delete(DAEMONS).where(DAEMONS.c.seen_until < now - FORGET_DAEMONS_AFTER)
            )


def _free(row: Row[Any], now: datetime) -> bool:
    return row.released or row.lease_until is None or row.lease_until <= now


def _leader(row: Row[Any]) -> Leader:
    return Leader(
        row.epoch,
        row.token,
        row.instance,
        row.host,
        row.pid,
        row.since,
        row.renewed_at,
        row.lease_until,
        row.released,
        row.takeovers,
    )


def _seen(row: Row[Any]) -> DaemonSeen:
    return DaemonSeen(
        row.token, row.instance, row.host, row.pid, row.started_at, row.seen_at, row.seen_until
    )


def _lease_engine(url: str, me: Instance) -> Engine:
    """PostgreSQL: a small pool of its own whose sessions give up rather than wait (a lock,
    a statement, a connection, an idle transaction, a peer that stopped answering).
    SQLite: the usual engine (WAL, busy timeout)."""
    if make_url(url).get_backend_name() != "postgresql":
        return open_engine(url)
    options = " ".join(
        (
            f"-c lock_timeout={LOCK_TIMEOUT_MS}",
            f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            f"-c idle_in_transaction_session_timeout={STATEMENT_TIMEOUT_MS}",
        )
    )
    return create_engine(
        url,
        pool_size=2,
        max_overflow=2,
        pool_timeout=CONNECT_TIMEOUT_S,
        pool_pre_ping=True,
        connect_args={
            "options": options,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": f"creneau {me.instance} lease"[:63],
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        },
    )
