"""What the dashboard's pages ask the database, as index seeks and small aggregates: each
target's latest check, its checks per status in fixed time buckets (the status strips), the
slots shown now, its last release, its recent checks, and the outbox as a person reads it.
Raw checks and their hourly roll-up are counted alike in the strips."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Column,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    column,
    func,
    select,
    values,
)
from sqlalchemy.sql.elements import ColumnElement

from creneau.results import Status
from creneau.store import Store
from creneau.store.records import (
    SELECT_CHECKS,
    SELECT_NOTIFICATIONS,
    CheckRecord,
    NotificationRecord,
    row_values,
)
from creneau.store.schema import CHECK_HOURS, CHECKS, NOTIFICATIONS, SLOTS, UTCDateTime

UNSENT = ("pending", "failed", "expired")


@dataclass(frozen=True)
class BucketCount:
    """How many checks of a target had a status in one bucket of a strip (bucket 0 starts
    at the strip's start)."""

    target: str
    bucket: int
    status: str
    checks: int


@dataclass(frozen=True)
class OpenSlot:
    """A slot shown at the target's last clear answer and not gone since."""

    target: str
    guichet_id: str
    guichet: str
    start: datetime
    key: str
    first_seen: datetime


@dataclass(frozen=True)
class ReleasedAt:
    """Slots first seen together at one guichet in a target's latest release."""

    target: str
    seen_at: datetime
    guichet_id: str
    guichet: str
    slots: int


@dataclass(frozen=True)
class Outbox:
    """The alerts a person may act on (waiting, failed, expired), those sent recently, and
    how many rows each state holds."""

    unsent: tuple[NotificationRecord, ...]  # newest first
    sent: tuple[NotificationRecord, ...]  # most recently sent first
    counts: dict[str, int]


# --- checks ------------------------------------------------------------------------------------


def last_check_id(store: Store) -> int:
    """The newest check's id (0 before any): what the overview reads changes only when a
    check is recorded (its slots, its host's state and next check are written with it)."""
    with store.engine.connect() as db:
        return int(db.execute(select(func.max(CHECKS.c.id))).scalar() or 0)


def latest_checks(store: Store, targets: Sequence[str]) -> dict[str, CheckRecord]:
    """The latest check of each of these targets (one index seek each)."""
    if not targets:
        return {}
    names = _name_table(targets)
    inner = CHECKS.alias("latest")
    latest_id = (
        select(inner.c.id)
        .where(inner.c.target == names.c.name)
        .order_by(inner.c.started_at.desc(), inner.c.id.desc())
        .limit(1)
        .correlate(names)
        .scalar_subquery()
    )
    query = SELECT_CHECKS.where(CHECKS.c.id.in_(select(latest_id).select_from(names)))
    with store.engine.connect() as db:
        found = [CheckRecord(*row) for row in row_values(db.execute(query))]
    return {record.target: record for record in found}


def recent_checks(store: Store, target: str, limit: int) -> list[CheckRecord]:
    """The target's last `limit` checks, newest first."""
    query = (
        SELECT_CHECKS.where(CHECKS.c.target == target)
        .order_by(CHECKS.c.started_at.desc(), CHECKS.c.id.desc())
        .limit(limit)
    )
    with store.engine.connect() as db:
        return [CheckRecord(*row) for row in row_values(db.execute(query))]


def status_counts(
    store: Store,
    targets: Sequence[str],
    start: datetime,
    bucket: timedelta,
    buckets: int,
) -> list[BucketCount]:
    """Checks per target, bucket and status over [start, start + buckets × bucket), raw
    checks and hourly counts alike (an hour counts in the bucket of its start)."""
    if not targets:
        return []
    values = {
        "targets": list(targets),
        "start": start,
        "end": start + bucket * buckets,
        "base": int(start.timestamp()),
        "size": int(bucket.total_seconds()),
    }
    found: list[BucketCount] = []
    with store.engine.connect() as db:
        for query in _status_counts_queries(db.dialect.name):
            found += [
                BucketCount(target, int(index), status, int(checks))
                for target, index, status, checks in row_values(db.execute(query, values))
            ]
    return found


@lru_cache(maxsize=4)
def _status_counts_queries(dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The raw and the rolled-up counts, built once (the strips are read on every page) and
    run with the values of `status_counts`."""
    targets = bindparam("targets", type_=String(), expanding=True)
    start, end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    base, size = bindparam("base", type_=Integer()), bindparam("size", type_=Integer())
    raw_bucket = (_epoch_seconds(dialect, CHECKS.c.started_at) - base) // size
    raw = (
        select(CHECKS.c.target, raw_bucket, CHECKS.c.status, func.count())
        .where(
            CHECKS.c.target.in_(targets),
            # Every status named: SQLite then seeks ix_checks_target_status_started
            # for each (target, status) instead of reading every check of the targets.
            CHECKS.c.status.in_([status.value for status in Status]),
            CHECKS.c.started_at >= start,
            CHECKS.c.started_at < end,
        )
        .group_by(CHECKS.c.target, raw_bucket, CHECKS.c.status)
    )
    hour_bucket = (_epoch_seconds(dialect, CHECK_HOURS.c.hour) - base) // size
    rolled = (
        select(
            CHECK_HOURS.c.target,
            hour_bucket,
            CHECK_HOURS.c.status,
            func.sum(CHECK_HOURS.c.checks),
        )
        .where(
            CHECK_HOURS.c.target.in_(targets),
            CHECK_HOURS.c.hour >= start,
            CHECK_HOURS.c.hour < end,
        )
        .group_by(CHECK_HOURS.c.target, hour_bucket, CHECK_HOURS.c.status)
    )
    return raw, rolled


def _epoch_seconds(dialect: str, at: Column[datetime]) -> ColumnElement[int]:
    """Seconds since 1970 (UTC) of a stored moment, computed by the database."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", at), Integer)
    return cast(func.floor(func.extract("epoch", at)), Integer)


# --- slots -------------------------------------------------------------------------------------


def open_slots(store: Store, targets: Sequence[str]) -> list[OpenSlot]:
    """The slots of these targets not gone at their last clear answer, by target, guichet
    and start."""
    if not targets:
        return []
    # Sorted below: with an ORDER BY, SQLite would read every slot of the target in order.
    columns = (SLOTS.c.target, SLOTS.c.guichet_id, SLOTS.c.guichet, SLOTS.c.start)
    query = select(*columns, SLOTS.c.key, SLOTS.c.first_seen).where(
        SLOTS.c.target.in_(targets), SLOTS.c.gone_at.is_(None)
    )
    with store.engine.connect() as db:
        found = [OpenSlot(*row) for row in row_values(db.execute(query))]
    return sorted(found, key=lambda slot: (slot.target, slot.guichet_id, slot.start))


def last_releases(store: Store, targets: Sequence[str]) -> list[ReleasedAt]:
    """Each target's latest release (slots first seen after a clear answer that did not
    show them, see `creneau.history`), one line per guichet, by target and guichet. Each
    target's slots are read newest first along ix_slots_target_first_seen and the reading
    stops at the first older one: never a scan of every slot."""
    released = SLOTS.c.previous_check_at.is_not(None)
    found: list[ReleasedAt] = []
    with store.engine.connect() as db:
        for target in sorted(set(targets)):
            newest_first = db.execute(
                select(SLOTS.c.first_seen, SLOTS.c.guichet_id, SLOTS.c.guichet)
                .where(SLOTS.c.target == target, released)
                .order_by(SLOTS.c.first_seen.desc())
            )
            found += _latest_release(target, row_values(newest_first))
            newest_first.close()
    return found


def _latest_release(target: str, newest_first: Iterable[tuple[Any, ...]]) -> list[ReleasedAt]:
    seen_at: datetime | None = None
    per_guichet: Counter[tuple[str, str]] = Counter()
    for first_seen, guichet_id, guichet in newest_first:
        if seen_at is not None and first_seen != seen_at:
            break
        seen_at = first_seen
        per_guichet[(guichet_id, guichet)] += 1
    if seen_at is None:
        return []
    return [
        ReleasedAt(target, seen_at, guichet_id, guichet, slots)
        for (guichet_id, guichet), slots in sorted(per_guichet.items())
    ]


# --- the outbox --------------------------------------------------------------------------------


def outbox(store: Store, sent_since: datetime, limit: int) -> Outbox:
    """The newest `limit` unsent alerts, the last `limit` sent since `sent_since`, and the
    number of rows per state."""
    unsent = (
        SELECT_NOTIFICATIONS.where(NOTIFICATIONS.c.state.in_(UNSENT))
        .order_by(NOTIFICATIONS.c.id.desc())
        .limit(limit)
    )
    sent = (
        SELECT_NOTIFICATIONS.where(
            NOTIFICATIONS.c.state == "sent", NOTIFICATIONS.c.sent_at >= sent_since
        )
        .order_by(NOTIFICATIONS.c.sent_at.desc(), NOTIFICATIONS.c.id.desc())
        .limit(limit)
    )
    counts = select(NOTIFICATIONS.c.state, func.count()).group_by(NOTIFICATIONS.c.state)
    with store.engine.connect() as db:
        return Outbox(
            unsent=tuple(NotificationRecord(*row) for row in row_values(db.execute(unsent))),
            sent=tuple(NotificationRecord(*row) for row in row_values(db.execute(sent))),
            counts={state: int(count) for state, count in row_values(db.execute(counts))},
        )


def _name_table(names: Sequence[str]) -> CTE:
    return values(column("name", String), name="names").data([(n,) for n in names]).cte("names")
