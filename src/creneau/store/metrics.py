"""What machines read at scrape time and the API answers: per target, checks per status,
per duration bucket and requests per HTTP status over a period (with the hourly roll-up for
a period open to the past), the last check, the slots a check showed, slots open now; the
outbox per state, alerts sent per channel and kind, and a cheap fingerprint of what releases
are computed from. Every answer is an aggregate the database computes, never the checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Column, Select, case, func, select

from creneau.results import Status
from creneau.store import Store
from creneau.store.records import (
    SELECT_CHECKS,
    SELECT_SLOTS,
    CheckRecord,
    SlotRecord,
    row_values,
)
from creneau.store.schema import CHECK_HOURS, CHECKS, NOTIFICATIONS, SLOTS

OUTBOX_STATES = ("pending", "sent", "failed", "expired")
STATUSES = tuple(status.value for status in Status)

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class Period:
    """[since, until): None leaves that side open."""

    since: datetime | None = None
    until: datetime | None = None


ALWAYS = Period()


@dataclass(frozen=True)
class CheckCount:
    """One target's checks with one status, raw and rolled up."""

    target: str
    status: str
    checks: int


@dataclass(frozen=True)
class DurationCounts:
    """One target's checks in a period by duration: how many took at most each bound (in
    the order of the bounds asked for), how many in all, and their total duration."""

    target: str
    at_most: tuple[int, ...]
    count: int
    total_ms: int


@dataclass(frozen=True)
class RequestCount:
    """Requests made by one target's checks in a period whose deciding answer had this HTTP
    status (None: no HTTP answer, a network error or a timeout)."""

    target: str
    http_status: int | None
    requests: int


@dataclass(frozen=True)
class SentCount:
    """Alerts sent through one channel, of one kind, in a period."""

    channel: str
    kind: str
    sent: int


@dataclass(frozen=True)
class OutboxState:
    """Rows per outbox state (every state present), and when the oldest pending row not
    held for quiet hours was written (None: none waits)."""

    rows: dict[str, int]
    oldest_pending: datetime | None


@dataclass(frozen=True)
class ReleaseInputs:
    """What releases are computed from changes only when a slot row is added (the newest
    id) or old checks are rolled up (the oldest raw id and the hourly total): equal
    fingerprints, equal releases."""

    newest_slot: int | None
    oldest_check: int | None
    rolled_checks: int


def _within(
    query: Select[*Columns],
    moment: Column[datetime] | Column[datetime | None],
    period: Period,
) -> Select[*Columns]:
    if period.since is not None:
        query = query.where(moment >= period.since)
    if period.until is not None:
        query = query.where(moment < period.until)
    return query


# --- checks ------------------------------------------------------------------------------------
#
# Each query names its targets, so that it is a range of the (target, started_at) index per
# target: a scrape reads the checks of the last hours, not the whole table.


def check_counts(store: Store, targets: Sequence[str], period: Period = ALWAYS) -> list[CheckCount]:
    """The targets' raw checks started in the period, per status; a period open to the past
    adds every check rolled into hourly counts (all older than any raw one)."""
    # One sum per status over each target's range of the (target, started_at) index: grouped
    # by status, SQLite would read the whole (target, status, started_at) index instead.
    per_status = [func.sum(case((CHECKS.c.status == status, 1), else_=0)) for status in STATUSES]
    raw = _within(
        select(CHECKS.c.target, *per_status).where(CHECKS.c.target.in_(targets)),
        CHECKS.c.started_at,
        period,
    ).group_by(CHECKS.c.target)
    counts: Counter[tuple[str, str]] = Counter()
    with store.engine.connect() as db:
        for target, *checks in row_values(db.execute(raw)):
            for status, count in zip(STATUSES, checks, strict=True):
                counts[target, status] += int(count or 0)
        if period.since is None:
            rolled = (
                select(CHECK_HOURS.c.target, CHECK_HOURS.c.status, func.sum(CHECK_HOURS.c.checks))
                .where(CHECK_HOURS.c.target.in_(targets))
                .group_by(CHECK_HOURS.c.target, CHECK_HOURS.c.status)
            )
            for target, status, count in row_values(db.execute(rolled)):
                counts[target, status] += int(count)
    return [
        CheckCount(target, status, checks) for (target, status), checks in counts.items() if checks
    ]


def checks_by_duration(
    store: Store, targets: Sequence[str], bounds_ms: Sequence[int], period: Period = ALWAYS
) -> list[DurationCounts]:
    """The targets' raw checks started in the period, counted per duration bound (a check
    of `duration_ms <= bound` counts in that bound and every larger one)."""
    at_most = [func.sum(case((CHECKS.c.duration_ms <= bound, 1), else_=0)) for bound in bounds_ms]
    query = _within(
        select(CHECKS.c.target, func.count(), func.sum(CHECKS.c.duration_ms), *at_most).where(
            CHECKS.c.target.in_(targets)
        ),
        CHECKS.c.started_at,
        period,
    ).group_by(CHECKS.c.target)
    with store.engine.connect() as db:
        return [
            DurationCounts(target, tuple(int(n or 0) for n in counts), int(count), int(total or 0))
            for target, count, total, *counts in row_values(db.execute(query))
        ]


def requests_by_status(
    store: Store, targets: Sequence[str], period: Period = ALWAYS
) -> list[RequestCount]:
    """Requests made by the targets' raw checks started in the period, per target and per
    the HTTP status of each check's deciding answer (the store keeps one status per check)."""
    query = _within(
        select(CHECKS.c.target, CHECKS.c.http_status, func.sum(CHECKS.c.requests)).where(
            CHECKS.c.target.in_(targets)
        ),
        CHECKS.c.started_at,
        period,
    ).group_by(CHECKS.c.target, CHECKS.c.http_status)
    with store.engine.connect() as db:
        return [
            RequestCount(target, status, int(requests or 0))
            for target, status, requests in row_values(db.execute(query))
        ]


def rolled_up_requests(store: Store, targets: Sequence[str]) -> dict[str, int]:
    """Requests of the targets' checks rolled into hourly counts (their HTTP statuses were
    not kept)."""
    query = (
        select(CHECK_HOURS.c.target, func.sum(CHECK_HOURS.c.requests))
        .where(CHECK_HOURS.c.target.in_(targets))
        .group_by(CHECK_HOURS.c.target)
    )
    with store.engine.connect() as db:
        return {target: int(n or 0) for target, n in row_values(db.execute(query))}


def latest_check(store: Store, target: str) -> CheckRecord | None:
    """The target's most recent check (one seek in the (target, started_at) index)."""
    query = (
        SELECT_CHECKS.where(CHECKS.c.target == target)
        .order_by(CHECKS.c.started_at.desc(), CHECKS.c.id.desc())
        .limit(1)
    )
    with store.engine.connect() as db:
        found = [CheckRecord(*row) for row in row_values(db.execute(query))]
    return found[0] if found else None


def last_check_times(store: Store, targets: Sequence[str]) -> dict[str, datetime]:
    """When each target was last checked: its last raw check, or else the start of the last
    hour its rolled-up checks count (never checked: absent). One seek per target."""
    found: dict[str, datetime] = {}
    with store.engine.connect() as db:
        for target in targets:
            raw = select(func.max(CHECKS.c.started_at)).where(CHECKS.c.target == target)
            rolled = select(func.max(CHECK_HOURS.c.hour)).where(CHECK_HOURS.c.target == target)
            last = db.scalar(raw) or db.scalar(rolled)
            if last is not None:
                found[target] = last
    return found


def slots_seen_at(store: Store, target: str, at: datetime) -> list[SlotRecord]:
    """The slots the target's check started at `at` showed, when it is the target's latest:
    every slot row it saw (new, still shown or back) has `last_seen` at it and is open."""
    query = SELECT_SLOTS.where(
        SLOTS.c.target == target, SLOTS.c.gone_at.is_(None), SLOTS.c.last_seen == at
    ).order_by(SLOTS.c.start, SLOTS.c.guichet_id)
    with store.engine.connect() as db:
        return [SlotRecord(*row) for row in row_values(db.execute(query))]


def open_slot_counts(store: Store) -> dict[str, int]:
    """Slots shown at each target's last clear answer and not gone since."""
    query = (
        select(SLOTS.c.target, func.count())
        .where(SLOTS.c.gone_at.is_(None))
        .group_by(SLOTS.c.target)
    )
    with store.engine.connect() as db:
        return {target: int(n) for target, n in row_values(db.execute(query))}


def release_inputs(store: Store) -> ReleaseInputs:
    newest_slot = select(func.max(SLOTS.c.id)).scalar_subquery()
    oldest_check = select(func.min(CHECKS.c.id)).scalar_subquery()
    rolled = select(func.coalesce(func.sum(CHECK_HOURS.c.checks), 0)).scalar_subquery()
    with store.engine.connect() as db:
        row: tuple[Any, ...] = tuple(db.execute(select(newest_slot, oldest_check, rolled)).one())
    slot, check, hours = row
    return ReleaseInputs(slot, check, int(hours))


# --- the outbox --------------------------------------------------------------------------------


def outbox_state(store: Store) -> OutboxState:
    """Rows per state, every state present; the oldest pending row not held (a row held
    for a channel's quiet hours waits on purpose)."""
    per_state = select(NOTIFICATIONS.c.state, func.count()).group_by(NOTIFICATIONS.c.state)
    oldest = select(func.min(NOTIFICATIONS.c.created_at)).where(
        NOTIFICATIONS.c.state == "pending", NOTIFICATIONS.c.held.is_(False)
    )
    rows = dict.fromkeys(OUTBOX_STATES, 0)
    with store.engine.connect() as db:
        for state, count in row_values(db.execute(per_state)):
            rows[state] = int(count)
        pending: datetime | None = db.scalar(oldest)
    return OutboxState(rows, pending)


def sent_notifications(
    store: Store, channels: Sequence[str], period: Period = ALWAYS
) -> list[SentCount]:
    """Alerts sent through these channels in the period (by when they were sent), per
    channel and kind."""
    query = _within(
        select(NOTIFICATIONS.c.channel, NOTIFICATIONS.c.kind, func.count()).where(
            NOTIFICATIONS.c.state == "sent", NOTIFICATIONS.c.channel.in_(channels)
        ),
        NOTIFICATIONS.c.sent_at,
        period,
    ).group_by(NOTIFICATIONS.c.channel, NOTIFICATIONS.c.kind)
    with store.engine.connect() as db:
        return [
            SentCount(channel, kind, int(n)) for channel, kind, n in row_values(db.execute(query))
        ]
