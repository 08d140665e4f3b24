"""The only package that touches the database: checks, slots, the notification outbox, and
every query the layers above ask (`store.history`, `store.evidence`). What leaves it is plain
frozen data (`store.records`), never a session or an ORM row.

SQLite by default (WAL, busy timeout), PostgreSQL by URL (`store.database`). Schema changes go
through Alembic migrations, applied by `creneau db upgrade` and at daemon start, one process
at a time (an advisory lock on PostgreSQL).

Several daemons may share a PostgreSQL database (`store.leadership`): the store of each is
fenced by its leadership term (`fence`), and refuses every write once a newer term exists or
while it stands by. Outbox rows are claimed before they are sent, so that two senders never
send the same alert."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Row, delete, event, func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from creneau.alert_kinds import ALL_KINDS as ALL_KINDS
from creneau.alert_kinds import Destination as Destination
from creneau.alert_kinds import OutboxEvent as OutboxEvent
from creneau.changes import KnownSlot, SlotChanges
from creneau.details import Detail, as_text, recorded
from creneau.fetch.politeness import HostState, Spend
from creneau.redact import public_link
from creneau.results import CheckResult, SiteSession, Slot, Status, as_facts, site_session_of
from creneau.store.database import database_file, open_engine
from creneau.store.database import database_label as database_label
from creneau.store.leadership import Instance as Instance
from creneau.store.leadership import LeadershipView as LeadershipView
from creneau.store.leadership import Superseded as Superseded
from creneau.store.leadership import check_fence, database_now, read_view
from creneau.store.lock import DaemonLock, lock_migrations
from creneau.store.records import SELECT_CHECKS, SELECT_NOTIFICATIONS, SELECT_SLOTS, row_values
from creneau.store.records import CheckRecord as CheckRecord
from creneau.store.records import HourCount as HourCount
from creneau.store.records import NotificationRecord as NotificationRecord
from creneau.store.records import SlotRecord as SlotRecord
from creneau.store.schema import (
    CHECK_HOURS,
    CHECKS,
    DAEMON_FACTS,
    HOSTS,
    NOTIFICATIONS,
    OUTBOX_CLAIMS,
    SLOTS,
    TARGET_FETCHES,
    TARGET_STATES,
    by_key,
    rowcount,
    upsert,
)
from creneau.url_keys import url_key as url_key

MIGRATIONS = Path(__file__).parent / "migrations"
# What a store call raises when the database cannot be read or written (locked, corrupted,
# deleted, a full disk): callers above the store catch these, and never name SQLAlchemy.
STORE_FAILURES: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)
# How long a sender's claim on an outbox row holds if it never marks the row (it died): longer
# than any delivery round (each URL gives up after 30 s). A daemon that takes over drops the
# claims of the daemons before it at once.
CLAIM_LEASE = timedelta(minutes=2)
# A daemon's PostgreSQL session idle inside a transaction for this long is ended by the server:
# a daemon paused or cut off mid-transaction cannot hold the leadership row's lock (and delay
# a takeover) longer than this.
IDLE_IN_TRANSACTION_MS = 10_000


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


CLEAR_STATUSES = ("available", "none")  # the answers that say which slots there are


@dataclass(frozen=True)
class PendingNotification:
    id: int
    created_at: datetime
    target: str
    kind: str
    channel: str
    url_key: str
    event: dict[str, Any]
    attempts: int
    held: bool


class DatabaseGone(OSError):
    """The SQLite file was deleted or replaced while creneau had it open: what it would write
    would go to a file nobody reads any more."""


class Store:
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
        self._alongside: list[Store] = []  # stores fenced with this one (its dashboard's)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def shared(self) -> bool:
        """Several daemons may run on this database (PostgreSQL), one of them active; an
        SQLite file takes one daemon (its lock file)."""
        return self.engine.dialect.name == "postgresql"

    def daemon_lock(self) -> DaemonLock:
        """The lock that keeps a second `creneau run` off this database."""
        return DaemonLock(self.url)

    # --- a daemon's store: fenced by its term -----------------------------------------------

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

    def fence_alongside(self, other: Store) -> None:
        """`other` (the store of this daemon's dashboard) writes only while this daemon
        leads: a standby's dashboard is read-only (its writes raise `Superseded`)."""
        other._fenced, other._epoch = True, self._epoch
        self._alongside.append(other)

    def leadership(self) -> LeadershipView:
        """Which daemon is active, since when, and the daemons seen recently."""
        with self.engine.connect() as connection:
            return read_view(connection, lambda: datetime.now(UTC))

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction; a daemon's first checks that its term is still the current
        one (and holds the epoch until it commits), else raises `Superseded`."""
        self.ensure_same_file()
        with self.engine.begin() as connection:
            if self._fenced:
                check_fence(connection, self._epoch)
            yield connection

    # --- schema ---------------------------------------------------------------------------

    def upgrade(self, to: str = "head") -> None:
        """Apply every pending migration (idempotent), or those up to `to` (tests of a
        migration). Alembic is loaded only when one is pending: it costs ~11 MB and a good
        part of the start-up time."""
        if self.revision() == head_revision():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            # Daemons started together on an empty database: one migrates, the others wait
            # here, then find nothing left to do.
            lock_migrations(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, to)

    def revision(self) -> str | None:
        """The schema revision the database is at (None: not created yet)."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("select version_num from alembic_version")).scalar()

    # --- writing a check ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._writing() as connection:
            yield Transaction(connection)

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

    # --- reading ----------------------------------------------------------------------------

    def last_checks(self) -> dict[str, datetime]:
        """When each target was last checked."""
        query = select(CHECKS.c.target, func.max(CHECKS.c.started_at)).group_by(CHECKS.c.target)
        with self.engine.connect() as connection:
            return {row[0]: row[1] for row in connection.execute(query)}

    def requests_per_check(self, since: datetime) -> dict[str, float]:
        """Each target's average number of requests per check that reached the site."""
        query = (
            select(CHECKS.c.target, func.avg(CHECKS.c.requests))
            .where(CHECKS.c.started_at >= since, CHECKS.c.requests > 0)
            .group_by(CHECKS.c.target)
        )
        with self.engine.connect() as connection:
            return {target: float(mean) for target, mean in row_values(connection.execute(query))}

    def floors(self) -> dict[str, datetime]:
        """When each target was last checked, or began a check that reached its site and
        was never recorded (its daemon died): the interval floor starts from the later."""
        found = self.last_checks()
        query = select(TARGET_FETCHES.c.name, TARGET_FETCHES.c.started_at)
        with self.engine.connect() as connection:
            for name, at in row_values(connection.execute(query)):
                if name not in found or at > found[name]:
                    found[name] = at
        return found

    def host_states(self) -> dict[str, HostState]:
        with self.engine.connect() as connection:
            return {row.name: _host_state(row) for row in connection.execute(select(HOSTS))}

    def save_spend(self, spend: Spend) -> None:
        """Before a request leaves: what the host's token bucket holds once it is taken, and
        when the target's check began. A daemon that takes over goes on from there."""
        bucket = {"bucket_tokens": spend.tokens, "bucket_at": spend.at}
        with self._writing() as connection:
            if by_key(connection, HOSTS, spend.host) is None:
                values = {**_host_values(HostState(), spend.at), **bucket}
                connection.execute(insert(HOSTS).values(name=spend.host, **values))
            else:
                connection.execute(update(HOSTS).where(HOSTS.c.name == spend.host).values(bucket))
            if spend.target:
                _save_fetch(connection, spend.target, spend.check_started_at)

    def next_checks(self) -> dict[str, datetime | None]:
        query = select(TARGET_STATES.c.name, TARGET_STATES.c.next_check_at)
        with self.engine.connect() as connection:
            return dict(row_values(connection.execute(query)))

    def save_next_check(self, target: str, at: datetime | None, now: datetime) -> None:
        with self._writing() as connection:
            _save_target_state(connection, target, now, next_check_at=at)

    def open_slots(self, target: str) -> set[tuple[str, datetime]]:
        """(guichet id, start) of the target's slots seen at its last clear answer and not
        gone since: what the site offers now, as far as creneau knows."""
        query = select(SLOTS.c.guichet_id, SLOTS.c.start).where(
            SLOTS.c.target == target, SLOTS.c.gone_at.is_(None)
        )
        with self.engine.connect() as connection:
            return {(row[0], row[1]) for row in connection.execute(query)}

    def save_facts(self, facts: dict[str, str], at: datetime) -> None:
        """What the daemon says of itself (e.g. the config it loaded), one row per name."""
        with self._writing() as connection:
            for name, value in facts.items():
                upsert(connection, DAEMON_FACTS, {"name": name}, {"value": value, "updated_at": at})

    def facts(self) -> dict[str, tuple[str, datetime]]:
        """Each fact the daemon saved: its value and when."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(DAEMON_FACTS))
            return {row.name: (row.value, row.updated_at) for row in rows}

    def site_session(self, target: str) -> SiteSession | None:
        """Cookies of the site session a person opened for this target, if any."""
        query = select(TARGET_STATES.c.site_session).where(TARGET_STATES.c.name == target)
        with self.engine.connect() as connection:
            return site_session_of(connection.scalar(query)) or None

    def checks(self, target: str | None = None) -> list[CheckRecord]:
        """Every check (of one target), oldest first."""
        query = SELECT_CHECKS.order_by(CHECKS.c.started_at, CHECKS.c.id)
        if target:
            query = query.where(CHECKS.c.target == target)
        with self.engine.connect() as db:
            return [CheckRecord(*row) for row in row_values(db.execute(query))]

    def latest_checks(self) -> list[CheckRecord]:
        """The most recent check of each target."""
        latest = (
            select(CHECKS.c.target, func.max(CHECKS.c.id).label("id"))
            .group_by(CHECKS.c.target)
            .subquery()
        )
        query = SELECT_CHECKS.join(latest, CHECKS.c.id == latest.c.id)
        with self.engine.connect() as db:
            return [CheckRecord(*row) for row in row_values(db.execute(query))]

    def slots(self, target: str | None = None) -> list[SlotRecord]:
        """Every appearance of a slot (of one target), by first sighting, then start."""
        query = SELECT_SLOTS.order_by(SLOTS.c.first_seen, SLOTS.c.start)
        if target:
            query = query.where(SLOTS.c.target == target)
        with self.engine.connect() as db:
            return [SlotRecord(*row) for row in row_values(db.execute(query))]

    def notifications(self, state: str | None = None) -> list[NotificationRecord]:
        """The outbox (the rows in one state), in the order they were written."""
        query = SELECT_NOTIFICATIONS.order_by(NOTIFICATIONS.c.id)
        if state:
            query = query.where(NOTIFICATIONS.c.state == state)
        with self.engine.connect() as db:
            return [NotificationRecord(*row) for row in row_values(db.execute(query))]

    # --- retention ----------------------------------------------------------------------------

    def roll_up(self, before: datetime, batch: int = 20_000) -> int:
        """Count checks older than `before` into hourly rows per target and status, then
        delete them (releases keep their own times on the slot rows); also forget alerts
        sent, expired or failed before then. Returns how many checks were rolled up."""
        rolled = 0
        while True:
            with self._writing() as connection:
                rows = connection.execute(
                    select(
                        CHECKS.c.id,
                        CHECKS.c.target,
                        CHECKS.c.started_at,
                        CHECKS.c.status,
                        CHECKS.c.requests,
                    )
                    .where(CHECKS.c.started_at < before)
                    .order_by(CHECKS.c.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                _add_hours(connection, rows)
                connection.execute(
                    delete(CHECKS).where(CHECKS.c.id <= rows[-1].id, CHECKS.c.started_at < before)
                )
                rolled += len(rows)
        with self._writing() as connection:
            connection.execute(
                delete(NOTIFICATIONS).where(
                    NOTIFICATIONS.c.created_at < before, NOTIFICATIONS.c.state != "pending"
                )
            )
        return rolled

    # --- the outbox, sender side ------------------------------------------------------------

    def due_notifications(self, now: datetime, limit: int = 100) -> list[PendingNotification]:
        """Pending rows due by `now`, claimed for this store's sender: rows another sender
        claimed are left to it (until its claim lapses), and on PostgreSQL rows another
        sender is claiming at this instant are skipped (FOR UPDATE SKIP LOCKED). Claims use
        the real clock (`now` may be a look ahead, or virtual time)."""
        with self._writing() as connection:
            clock = database_now(connection, lambda: datetime.now(UTC))
            connection.execute(delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.claimed_until <= clock))
            others = select(OUTBOX_CLAIMS.c.notification_id).where(
                OUTBOX_CLAIMS.c.claimed_by != self.me.token
            )
            query = (
                select(NOTIFICATIONS)
                .where(
                    NOTIFICATIONS.c.state == "pending",
                    NOTIFICATIONS.c.next_attempt_at <= now,
                    NOTIFICATIONS.c.id.not_in(others),
                )
                .order_by(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(connection.execute(query))
            ids = [row.id for row in rows]
            if not ids:
                return []
            # Locked by this transaction now: a claim another sender committed before the
            # lock was taken shows in a new statement.
            taken: set[int] = set(
                connection.scalars(
                    select(OUTBOX_CLAIMS.c.notification_id).where(
                        OUTBOX_CLAIMS.c.notification_id.in_(ids),
                        OUTBOX_CLAIMS.c.claimed_by != self.me.token,
                    )
                )
            )
            rows = [row for row in rows if row.id not in taken]
            mine = [row.id for row in rows]
            connection.execute(
                delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.notification_id.in_(mine))
            )
            if mine:
                claim = {"claimed_by": self.me.token, "claimed_until": clock + CLAIM_LEASE}
                connection.execute(
                    insert(OUTBOX_CLAIMS), [{"notification_id": id, **claim} for id in mine]
                )
            return [
                PendingNotification(
                    row.id,
                    row.created_at,
                    row.target,
                    row.kind,
                    row.channel,
                    row.url_key,
                    dict(row.payload),
                    row.attempts,
                    row.held,
                )
                for row in rows
            ]

    def next_due(self) -> datetime | None:
        """When the next pending row this sender may claim is due."""
        others = select(OUTBOX_CLAIMS.c.notification_id).where(
            OUTBOX_CLAIMS.c.claimed_by != self.me.token
        )
        query = select(func.min(NOTIFICATIONS.c.next_attempt_at)).where(
            NOTIFICATIONS.c.state == "pending", NOTIFICATIONS.c.id.not_in(others)
        )
        with self.engine.connect() as connection:
            due: datetime | None = connection.scalar(query)
            return due

    def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        self._update(
            ids, state="sent", sent_at=at, last_error="", attempts=NOTIFICATIONS.c.attempts + 1
        )

    def mark_failed(
        self, ids: Sequence[int], error: Detail | str, retry_at: datetime | None
    ) -> None:
        """A failed attempt: retried at `retry_at`, or given up for good when it is None."""
        values: dict[str, Any] = {
            "last_error": as_text(error if isinstance(error, Detail) else error[:2000]),
            "attempts": NOTIFICATIONS.c.attempts + 1,
        }
        if retry_at is None:
            values["state"] = "failed"
        else:
            values["next_attempt_at"] = retry_at
        self._update(ids, **values)

    def mark_expired(self, ids: Sequence[int], reason: Detail | str) -> None:
        self._update(ids, state="expired", last_error=as_text(reason))

    def mark_held(self, ids: Sequence[int], until: datetime) -> None:
        """Quiet hours: deliver at `until`, as part of a digest."""
        self._update(ids, held=True, next_attempt_at=until)

    def retry_now(self, notification_id: int, at: datetime) -> bool:
        """`creneau outbox retry ID`: make a pending, failed or expired row due now."""
        with self._writing() as connection:
            row = by_key(connection, NOTIFICATIONS, notification_id)
            if row is None or row.state == "sent":
                return False
            values: dict[str, Any] = {"state": "pending", "next_attempt_at": at}
            if row.kind == "slots":  # a person asked for it: a fresh expiry window
                values["created_at"] = at
            connection.execute(
                update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id).values(values)
            )
            connection.execute(
                delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.notification_id == notification_id)
            )
            return True

    def _update(self, ids: Sequence[int], **values: Any) -> None:
        """A sender's outcome for rows it claimed: the claims go with it."""
        with self._writing() as connection:
            connection.execute(
                update(NOTIFICATIONS).where(NOTIFICATIONS.c.id.in_(ids)).values(**values)
            )
            connection.execute(
                delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.notification_id.in_(ids))
            )


class Transaction:
    """The writes of one check, committed together: the check, its slots, its alerts."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add_check(self, result: CheckResult, *, keep_pages: bool = False) -> int:
        query = insert(CHECKS).values(
            target=result.target,
            system=result.system,
            started_at=result.checked_at,
            duration_ms=result.duration_ms,
            status=result.status.value,
            http_status=result.http_status,
            # None: nothing to write (the columns' defaults, on any revision of the table).
            **(_detail_values(result.detail, "detail") if result.detail else {}),
            page_sha256=result.page_sha256,
            slot_count=len(result.slots),
            requests=result.requests,
            # Stored as facts, as ever: the releases, the slots' pages, the challenge with them.
            facts=as_facts(result.facts, result.slots, result.challenge, result.releases) or None,
            pages=_pages_read(result) if keep_pages else None,
        )
        key = self.connection.execute(query).inserted_primary_key
        assert key is not None
        return int(key[0])

    def known_slots(self, target: str, seen: Sequence[Slot]) -> list[KnownSlot]:
        """Slots still open, and every earlier appearance of the slots seen now."""
        starts = {slot.start for slot in seen}
        query = select(SLOTS).where(
            SLOTS.c.target == target,
            SLOTS.c.gone_at.is_(None) | SLOTS.c.start.in_(starts),
        )
        return [
            KnownSlot(
                row.id, row.guichet_id, row.start, row.first_seen, row.gone_at, row.guichet, row.key
            )
            for row in self.connection.execute(query)
        ]

    def apply(self, target: str, check_id: int, at: datetime, changes: SlotChanges) -> None:
        previous = None
        if changes.new or changes.returned:
            previous = self._last_clear_check(target, at)
        for slot in changes.new + changes.returned:
            self.connection.execute(
                insert(SLOTS).values(
                    target=target,
                    guichet_id=slot.guichet_id,
                    guichet=slot.guichet,
                    start=slot.start,
                    key=slot.key,
                    first_seen=at,
                    last_seen=at,
                    gone_at=None,
                    first_check_id=check_id,
                    previous_check_at=previous,
                )
            )
        if changes.still_open:
            self.connection.execute(
                update(SLOTS).where(SLOTS.c.id.in_(changes.still_open)).values(last_seen=at)
            )
        if changes.reopened:
            self.connection.execute(
                update(SLOTS)
                .where(SLOTS.c.id.in_(changes.reopened))
                .values(last_seen=at, gone_at=None)
            )
        if changes.gone:
            gone = [known.id for known in changes.gone]
            self.connection.execute(update(SLOTS).where(SLOTS.c.id.in_(gone)).values(gone_at=at))

    def _last_clear_check(self, target: str, before: datetime) -> datetime | None:
        """When the target last gave a clear answer (available or none) before `before`: a
        slot first seen now was released since then. None: this is its first clear answer,
        and its slots were there before creneau looked (not a release)."""
        # One seek per status: with IN and max(), SQLite may read every check of the target.
        found = [
            self.connection.scalar(
                select(func.max(CHECKS.c.started_at)).where(
                    CHECKS.c.target == target,
                    CHECKS.c.status == status,
                    CHECKS.c.started_at < before,
                )
            )
            for status in CLEAR_STATUSES
        ]
        if known := [at for at in found if at is not None]:
            latest: datetime = max(known)
            return latest
        # Rolled up into hourly counts: the start of the last hour with a clear answer.
        hour: datetime | None = self.connection.scalar(
            select(func.max(CHECK_HOURS.c.hour)).where(
                CHECK_HOURS.c.target == target,
                CHECK_HOURS.c.status.in_(CLEAR_STATUSES),
                CHECK_HOURS.c.hour <= before,
            )
        )
        return hour

    def failing_since(self, target: str) -> datetime | None:
        """When the target's run of checks without a clear answer began (None: the last
        check gave one, or there is none)."""
        last_clear = select(func.max(CHECKS.c.id)).where(
            CHECKS.c.target == target, CHECKS.c.status.in_(("available", "none"))
        )
        since: datetime | None = self.connection.scalar(
            select(func.min(CHECKS.c.started_at)).where(
                CHECKS.c.target == target,
                CHECKS.c.id > func.coalesce(last_clear.scalar_subquery(), 0),
            )
        )
        return since

    def alert_state(self, target: str) -> tuple[str | None, datetime | None]:
        """The last state that needed a person and was alerted, and when."""
        row = by_key(self.connection, TARGET_STATES, target)
        return (row.alert_state, row.alert_state_at) if row else (None, None)

    def save_alert_state(self, target: str, state: str | None, at: datetime) -> None:
        known, _ = self.alert_state(target)
        if state != known:
            changed = {"alert_state": state, **({"alert_state_at": at} if state else {})}
            _save_target_state(self.connection, target, at, **changed)
        else:
            _save_target_state(self.connection, target, at)

    def save_site_session(self, target: str, cookies: SiteSession, at: datetime) -> None:
        _save_target_state(self.connection, target, at, site_session=cookies or None)

    def replace_site_session(
        self, target: str, used: SiteSession, cookies: SiteSession, at: datetime
    ) -> None:
        """Keep a check's cookies only if the session it started with is still the stored
        one: a person may have opened a new session while the check ran."""
        row = by_key(self.connection, TARGET_STATES, target)
        if site_session_of(row.site_session if row else None) == used:
            _save_target_state(self.connection, target, at, site_session=cookies or None)
        else:
            _save_target_state(self.connection, target, at)

    def save_host_state(self, host: str, state: HostState, at: datetime) -> None:
        row = by_key(self.connection, HOSTS, host)
        values = _host_values(state, at)
        if row is None:
            self.connection.execute(insert(HOSTS).values(name=host, **values))
            return
        # A later request's level may already be there (written before it left).
        later = state.bucket_at is not None and (
            row.bucket_at is None or state.bucket_at >= row.bucket_at
        )
        if not later:
            del values["bucket_tokens"], values["bucket_at"]
        self.connection.execute(update(HOSTS).where(HOSTS.c.name == host).values(values))

    def enqueue(
        self,
        event: OutboxEvent,
        destinations: Sequence[Destination],
        at: datetime,
        check_id: int | None = None,
    ) -> int:
        """One row per destination that takes this kind of alert; the count."""
        wanted = [d for d in destinations if event.kind in d.kinds]
        for destination in wanted:
            self.connection.execute(
                insert(NOTIFICATIONS).values(
                    created_at=at,
                    target=event.target,
                    check_id=check_id,
                    kind=event.kind,
                    channel=destination.channel,
                    url_key=destination.key,
                    url_label=destination.label,
                    payload=event.event,
                    state="pending",
                    held=False,
                    attempts=0,
                    last_error="",
                    next_attempt_at=at,
                    sent_at=None,
                )
            )
        return len(wanted)


def _pages_read(result: CheckResult) -> list[dict[str, Any]]:
    return [
        {"sha256": page.sha256, "url": public_link(page.url), "status": page.status}
        for page in result.pages
    ]


def _add_hours(connection: Connection, rows: Sequence[Any]) -> None:
    counts: dict[tuple[str, datetime, str], list[int]] = {}
    for row in rows:
        hour = row.started_at.replace(minute=0, second=0, microsecond=0)
        count = counts.setdefault((row.target, hour, row.status), [0, 0])
        count[0] += 1
        count[1] += row.requests
    for (target, hour, status), (checks, requests) in counts.items():
        added = connection.execute(
            update(CHECK_HOURS)
            .where(
                CHECK_HOURS.c.target == target,
                CHECK_HOURS.c.hour == hour,
                CHECK_HOURS.c.status == status,
            )
            .values(
                checks=CHECK_HOURS.c.checks + checks, requests=CHECK_HOURS.c.requests + requests
            )
        )
        if rowcount(added) == 0:
            connection.execute(
                insert(CHECK_HOURS).values(
                    target=target, hour=hour, status=status, checks=checks, requests=requests
                )
            )


def head_revision() -> str:
    """The newest migration. Revision ids are the file names' numeric prefixes (0001, …);
    a test checks that Alembic agrees."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("0*.py"))


def _save_target_state(connection: Connection, name: str, now: datetime, **values: Any) -> None:
    """The target's row gets `values` (and `updated_at`), created if it is not there."""
    upsert(connection, TARGET_STATES, {"name": name}, {"updated_at": now, **values})


def _save_fetch(connection: Connection, target: str, started_at: datetime) -> None:
    """When the target's latest check that reached its site began (never moved back)."""
    known = by_key(connection, TARGET_FETCHES, target)
    if known is None:
        connection.execute(insert(TARGET_FETCHES).values(name=target, started_at=started_at))
    elif started_at > known.started_at:
        connection.execute(
            update(TARGET_FETCHES)
            .where(TARGET_FETCHES.c.name == target)
            .values(started_at=started_at)
        )


def _detail_values(detail: Detail | str | None, column: str) -> dict[str, Any]:
    """A Detail as its code and parameters (`column`_code, `column`_params); a text (what
    an older row said, carried over) in `column` itself."""
    if isinstance(detail, Detail):
        coded = detail.to_json()
        return {column: "", f"{column}_code": coded["code"], f"{column}_params": coded["params"]}
    return {column: (detail or "")[:2000], f"{column}_code": None, f"{column}_params": None}


def _host_values(state: HostState, at: datetime) -> dict[str, Any]:
    return {
        "not_before": state.not_before,
        "open_until": state.open_until,
        **_detail_values(state.reason, "reason"),
        "status": state.status.value,
        "consecutive_failures": state.consecutive_failures,
        "openings": state.openings,
        "robots_txt": state.robots_txt,
        "robots_fetched_at": state.robots_fetched_at,
        "updated_at": at,
        "bucket_tokens": state.bucket_tokens,
        "bucket_at": state.bucket_at,
    }


def _daemon_session(
    name: str, _dialect: object, _record: object, _args: object, params: dict[str, Any]
) -> None:
    """do_connect: a daemon's PostgreSQL sessions say whose they are, and end when idle in a
    transaction for too long."""
    setting = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    params["options"] = f"{params.get('options', '')} {setting}".strip()
    params.setdefault("application_name", name)
    params.setdefault("connect_timeout", 10)


def _host_state(row: Row[Any]) -> HostState:
    return HostState(
        not_before=row.not_before,
        open_until=row.open_until,
        reason=recorded(row.reason_code, row.reason_params, row.reason),
        status=Status(row.status),
        consecutive_failures=row.consecutive_failures,
        openings=row.openings,
        robots_txt=row.robots_txt,
        robots_fetched_at=row.robots_fetched_at,
        bucket_tokens=row.bucket_tokens,
        bucket_at=row.bucket_at,
    )
