"""The notification outbox: rows queued in a check's transaction (`enqueue`), and the
sender's side (`OutboxClaims`, a store's `outbox`): due rows claimed before they are sent,
so that two senders never send the same alert, then marked sent, failed, expired or held."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from creneau.alert_kinds import Destination, OutboxEvent
from creneau.details import Detail, as_text
from creneau.store.fence import FencedDatabase
from creneau.store.leadership import database_now
from creneau.store.records import SELECT_NOTIFICATIONS, NotificationRecord, row_values
from creneau.store.schema import NOTIFICATIONS, OUTBOX_CLAIMS, by_key

# How long a sender's claim on an outbox row holds if it never marks the row (it died): longer
# than any delivery round (each URL gives up after 30 s). A daemon that takes over drops the
# claims of the daemons before it at once.
CLAIM_LEASE = timedelta(minutes=2)


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


def enqueue(
    connection: Connection,
    event: OutboxEvent,
    destinations: Sequence[Destination],
    at: datetime,
    check_id: int | None = None,
) -> int:
    """One row per destination that takes this kind of alert; the count."""
    wanted = [d for d in destinations if event.kind in d.kinds]
    for destination in wanted:
        connection.execute(
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


def notifications(engine: Engine, state: str | None = None) -> list[NotificationRecord]:
    """The outbox (the rows in one state), in the order they were written."""
    query = SELECT_NOTIFICATIONS.order_by(NOTIFICATIONS.c.id)
    if state:
        query = query.where(NOTIFICATIONS.c.state == state)
    with engine.connect() as db:
        return [NotificationRecord(*row) for row in row_values(db.execute(query))]


class OutboxClaims:
    """The sender's side: the rows this store's instance (`database.me`) claims, and what
    became of them."""

    def __init__(self, database: FencedDatabase) -> None:
        self.database = database

    def claim_due(self, now: datetime, limit: int = 100) -> list[PendingNotification]:
        """Pending rows due by `now`, claimed for this store's sender: rows another sender
        claimed are left to it (until its claim lapses), and on PostgreSQL rows another
        sender is claiming at this instant are skipped (FOR UPDATE SKIP LOCKED). Claims use
        the real clock (`now` may be a look ahead, or virtual time)."""
        me = self.database.me.token
        with self.database.writing() as connection:
            clock = database_now(connection, lambda: datetime.now(UTC))
            connection.execute(delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.claimed_until <= clock))
            query = (
                select(NOTIFICATIONS)
                .where(
                    NOTIFICATIONS.c.state == "pending",
                    NOTIFICATIONS.c.next_attempt_at <= now,
                    NOTIFICATIONS.c.id.not_in(self._claimed_by_others()),
                )
                .order_by(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(connection.execute(query))
            if not rows:
                return []
            # Locked by this transaction now: a claim another sender committed before the
            # lock was taken shows in a new statement.
            taken = set(
                connection.scalars(
                    self._claimed_by_others().where(
                        OUTBOX_CLAIMS.c.notification_id.in_([row.id for row in rows])
                    )
                )
            )
            rows = [row for row in rows if row.id not in taken]
            _claim(connection, [row.id for row in rows], me, clock + CLAIM_LEASE)
            return [_pending(row) for row in rows]

    def next_due(self) -> datetime | None:
        """When the next pending row this sender may claim is due."""
        query = select(func.min(NOTIFICATIONS.c.next_attempt_at)).where(
            NOTIFICATIONS.c.state == "pending",
            NOTIFICATIONS.c.id.not_in(self._claimed_by_others()),
        )
        with self.database.engine.connect() as connection:
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
        with self.database.writing() as connection:
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

    def _claimed_by_others(self) -> Any:
        return select(OUTBOX_CLAIMS.c.notification_id).where(
            OUTBOX_CLAIMS.c.claimed_by != self.database.me.token
        )

    def _update(self, ids: Sequence[int], **values: Any) -> None:
        """A sender's outcome for rows it claimed: the claims go with it."""
        with self.database.writing() as connection:
            connection.execute(
                update(NOTIFICATIONS).where(NOTIFICATIONS.c.id.in_(ids)).values(**values)
            )
            connection.execute(
                delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.notification_id.in_(ids))
            )


def _claim(connection: Connection, ids: list[int], me: str, until: datetime) -> None:
    connection.execute(delete(OUTBOX_CLAIMS).where(OUTBOX_CLAIMS.c.notification_id.in_(ids)))
    if ids:
        claim = {"claimed_by": me, "claimed_until": until}
        connection.execute(insert(OUTBOX_CLAIMS), [{"notification_id": id, **claim} for id in ids])


def _pending(row: Row[Any]) -> PendingNotification:
    return PendingNotification(
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
