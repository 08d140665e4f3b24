"""The only package that touches the database: checks, slots, the notification outbox, and
every query the layers above ask (`store.history`, `store.evidence`). What leaves it is plain
frozen data (`store.records`), never a session or an ORM row.

SQLite by default (WAL, busy timeout), PostgreSQL by URL (`store.database`). Schema changes go
through Alembic migrations, applied by `creneau db upgrade` and at daemon start, one process
at a time (an advisory lock on PostgreSQL).

Several daemons may share a PostgreSQL database (`store.leadership`): the store of each is
fenced by its leadership term (`fence`), and refuses every write once a newer term exists or
while it stands by. Outbox rows are claimed before they are sent, so that two senders never
send the same alert.

`Store` is the facade callers hold: its database (`store.fence`) and one module per part:
`checks`, `outbox` (its sender side as `store.outbox`), `hosts`, `target_states`,
`announcements`, `daemon_facts`, `retention`, `upgrade`; `transaction` writes one check's
rows together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from creneau.expected import Announcement
from creneau.fetch.politeness import HostState, Spend
from creneau.results import SiteSession
from creneau.store import (
    announcements,
    checks,
    daemon_facts,
    hosts,
    retention,
    target_states,
    upgrade,
)
from creneau.store.checks import CLEAR_STATUSES as CLEAR_STATUSES
from creneau.store.database import database_label as database_label
from creneau.store.fence import DatabaseGone as DatabaseGone
from creneau.store.fence import FencedDatabase
from creneau.store.leadership import Instance as Instance
from creneau.store.leadership import LeadershipView as LeadershipView
from creneau.store.leadership import Superseded as Superseded
from creneau.store.leadership import read_view
from creneau.store.lock import DaemonLock
from creneau.store.outbox import OutboxClaims, notifications
from creneau.store.outbox import PendingNotification as PendingNotification
from creneau.store.records import CheckRecord as CheckRecord
from creneau.store.records import HourCount as HourCount
from creneau.store.records import NotificationRecord as NotificationRecord
from creneau.store.records import SlotRecord as SlotRecord
from creneau.store.transaction import Transaction as Transaction

# What a store call raises when the database cannot be read or written (locked, corrupted,
# deleted, a full disk): callers above the store catch these, and never name SQLAlchemy.
STORE_FAILURES: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)


T = TypeVar("T")
StoreCall = Callable[..., Awaitable[Any]]


async def inline(function: Callable[..., T], *args: Any) -> T:
    """Runs a store call on the caller's thread (one-shot commands, tests)."""
    return function(*args)


class DatabaseThread:
    """Runs store calls on one worker thread, so a slow or briefly locked database never
    stalls the event loop, and SQLite sees one writer. `inline` runs them on the caller's
    thread instead (virtual-time runs, whose clock must not race a real thread)."""

    def __init__(self, *, inline: bool = False) -> None:
        self._pool = (
            None if inline else ThreadPoolExecutor(max_workers=1, thread_name_prefix="creneau-db")
        )

    async def __call__(self, function: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            return function(*args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(function, *args))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # lets a transaction in progress commit


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.database = FencedDatabase(url)
        self.engine = self.database.engine
        self.me = self.database.me  # who claims outbox rows; a daemon's identity
        self.outbox = OutboxClaims(self.database)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def shared(self) -> bool:
        """Several daemons may run on this database (PostgreSQL), one of them active; an
        SQLite file takes one daemon (its lock file)."""
        return self.database.shared

    def daemon_lock(self) -> DaemonLock:
        """The lock that keeps a second `creneau run` off this database."""
        return DaemonLock(self.url)

    # --- a daemon's store: fenced by its term (store.fence) ------------------------------------

    def serve_daemon(self, serving: bool = True) -> None:
        self.database.serve_daemon(serving)

    def fence(self, epoch: int | None) -> None:
        self.database.fence(epoch)

    def fence_alongside(self, other: Store) -> None:
        self.database.fence_alongside(other.database)

    def leadership(self) -> LeadershipView:
        """Which daemon is active, since when, and the daemons seen recently."""
        with self.engine.connect() as connection:
            return read_view(connection, lambda: datetime.now(UTC))

    # --- schema (store.upgrade) ----------------------------------------------------------------

    def upgrade(self, to: str = "head") -> None:
        upgrade.upgrade(self.engine, to)

    def revision(self) -> str | None:
        return upgrade.revision(self.engine)

    # --- writing ------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The writes of one check, committed together."""
        with self.database.writing() as connection:
            yield Transaction(connection)

    def save_spend(self, spend: Spend) -> None:
        hosts.save_spend(self.database, spend)

    def save_next_check(self, target: str, at: datetime | None, now: datetime) -> None:
        target_states.save_next_check(self.database, target, at, now)

    def save_facts(self, facts: dict[str, str], at: datetime) -> None:
        daemon_facts.save_facts(self.database, facts, at)

    def mark_session_ready(self, target: str, at: datetime, ready: bool) -> bool:
        return announcements.mark_session_ready(self.database, target, at, ready)

    def roll_up(self, before: datetime, batch: int = 20_000) -> int:
        return retention.roll_up(self.database, before, batch)

    # --- reading ------------------------------------------------------------------------------

    def checks(self, target: str | None = None) -> list[CheckRecord]:
        return checks.checks(self.engine, target)

    def latest_checks(self) -> list[CheckRecord]:
        return checks.latest_checks(self.engine)

    def last_checks(self) -> dict[str, datetime]:
        return checks.last_checks(self.engine)

    def requests_per_check(self, since: datetime) -> dict[str, float]:
        return checks.requests_per_check(self.engine, since)

    def request_counts(self, targets: Sequence[str], last: int) -> dict[str, list[int]]:
        return checks.request_counts(self.engine, targets, last)

    def floors(self) -> dict[str, datetime]:
        """When each target was last checked, or began a check that reached its site and
        was never recorded (its daemon died): the interval floor starts from the later."""
        return hosts.fetch_floors(self.engine, self.last_checks())

    def slots(self, target: str | None = None) -> list[SlotRecord]:
        return checks.slots(self.engine, target)

    def open_slots(self, target: str) -> set[tuple[str, datetime]]:
        return checks.open_slots(self.engine, target)

    def notifications(self, state: str | None = None) -> list[NotificationRecord]:
        return notifications(self.engine, state)

    def host_states(self) -> dict[str, HostState]:
        return hosts.host_states(self.engine)

    def next_checks(self) -> dict[str, datetime | None]:
        return target_states.next_checks(self.engine)

    def site_session(self, target: str) -> SiteSession | None:
        return target_states.site_session(self.engine, target)

    def facts(self) -> dict[str, tuple[str, datetime]]:
        return daemon_facts.facts(self.engine)

    def announcement(self, target: str) -> Announcement | None:
        """The target's latest announced release: pending, or how it ended."""
        return announcements.announcement(self.engine, target)

    def announcements(
        self, target: str | None = None, since: datetime | None = None
    ) -> list[Announcement]:
        return announcements.announcements(self.engine, target, since)

    def latest_announcements(self, targets: Sequence[str]) -> dict[str, Announcement]:
        """Each named target's latest announced release (as `announcement`), at once."""
        return announcements.latest_announcements(self.engine, targets)
