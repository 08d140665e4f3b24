"""Checks and the slots they saw: a check's rows written in its transaction (the check, its
slots' changes, when its slots were released), and what is read back (every check, each
target's last one, the slots open now)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from creneau.changes import KnownSlot, SlotChanges
from creneau.redact import public_link
from creneau.results import CheckResult, Slot, as_facts
from creneau.store.records import SELECT_CHECKS, SELECT_SLOTS, CheckRecord, SlotRecord, row_values
from creneau.store.schema import CHECK_HOURS, CHECKS, SLOTS, detail_columns

CLEAR_STATUSES = ("available", "none")  # the answers that say which slots there are


# --- written in a check's transaction ------------------------------------------------------


def add_check(connection: Connection, result: CheckResult, *, keep_pages: bool = False) -> int:
    query = insert(CHECKS).values(
        target=result.target,
        system=result.system,
        started_at=result.checked_at,
        duration_ms=result.duration_ms,
        status=result.status.value,
        http_status=result.http_status,
        # None: nothing to write (the columns' defaults, on any revision of the table).
        **(detail_columns(result.detail, "detail") if result.detail else {}),
        page_sha256=result.page_sha256,
        slot_count=len(result.slots),
        requests=result.requests,
        # Stored as facts, as ever: the releases, the slots' pages, the challenge with them.
        facts=as_facts(
            result.facts,
            result.slots,
            result.challenge,
            result.releases,
            result.slots_not_kept,
        )
        or None,
        pages=_pages_read(result) if keep_pages else None,
    )
    key = connection.execute(query).inserted_primary_key
    assert key is not None
    return int(key[0])


def known_slots(connection: Connection, target: str, seen: Sequence[Slot]) -> list[KnownSlot]:
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
        for row in connection.execute(query)
    ]


def apply_changes(
    connection: Connection, target: str, check_id: int, at: datetime, changes: SlotChanges
) -> None:
    previous = None
    if changes.new or changes.returned:
        previous = _last_clear_check(connection, target, at)
    for slot in changes.new + changes.returned:
        connection.execute(
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
        connection.execute(
            update(SLOTS).where(SLOTS.c.id.in_(changes.still_open)).values(last_seen=at)
        )
    if changes.reopened:
        connection.execute(
            update(SLOTS).where(SLOTS.c.id.in_(changes.reopened)).values(last_seen=at, gone_at=None)
        )
    if changes.gone:
        gone = [known.id for known in changes.gone]
        connection.execute(update(SLOTS).where(SLOTS.c.id.in_(gone)).values(gone_at=at))


def _last_clear_check(connection: Connection, target: str, before: datetime) -> datetime | None:
    """When the target last gave a clear answer (available or none) before `before`: a
    slot first seen now was released since then. None: this is its first clear answer,
    and its slots were there before creneau looked (not a release)."""
    # One seek per status: with IN and max(), SQLite may read every check of the target.
    found = [
        connection.scalar(
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
    hour: datetime | None = connection.scalar(
        select(func.max(CHECK_HOURS.c.hour)).where(
            CHECK_HOURS.c.target == target,
            CHECK_HOURS.c.status.in_(CLEAR_STATUSES),
            CHECK_HOURS.c.hour <= before,
        )
    )
    return hour


def failing_since(connection: Connection, target: str) -> datetime | None:
    """When the target's run of checks without a clear answer began (None: the last
    check gave one, or there is none)."""
    last_clear = select(func.max(CHECKS.c.id)).where(
        CHECKS.c.target == target, CHECKS.c.status.in_(CLEAR_STATUSES)
    )
    since: datetime | None = connection.scalar(
        select(func.min(CHECKS.c.started_at)).where(
            CHECKS.c.target == target,
            CHECKS.c.id > func.coalesce(last_clear.scalar_subquery(), 0),
        )
    )
    return since


def _pages_read(result: CheckResult) -> list[dict[str, Any]]:
    return [
        {"sha256": page.sha256, "url": public_link(page.url), "status": page.status}
        for page in result.pages
    ]


# --- read back -----------------------------------------------------------------------------


def checks(engine: Engine, target: str | None = None) -> list[CheckRecord]:
    """Every check (of one target), oldest first."""
    query = SELECT_CHECKS.order_by(CHECKS.c.started_at, CHECKS.c.id)
    if target:
        query = query.where(CHECKS.c.target == target)
    with engine.connect() as db:
        return [CheckRecord(*row) for row in row_values(db.execute(query))]


def latest_checks(engine: Engine) -> list[CheckRecord]:
    """The most recent check of each target."""
    latest = (
        select(CHECKS.c.target, func.max(CHECKS.c.id).label("id"))
        .group_by(CHECKS.c.target)
        .subquery()
    )
    query = SELECT_CHECKS.join(latest, CHECKS.c.id == latest.c.id)
    with engine.connect() as db:
        return [CheckRecord(*row) for row in row_values(db.execute(query))]


def last_checks(engine: Engine) -> dict[str, datetime]:
    """When each target was last checked."""
    query = select(CHECKS.c.target, func.max(CHECKS.c.started_at)).group_by(CHECKS.c.target)
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.execute(query)}


def requests_per_check(engine: Engine, since: datetime) -> dict[str, float]:
    """Each target's average number of requests per check that reached the site."""
    query = (
        select(CHECKS.c.target, func.avg(CHECKS.c.requests))
        .where(CHECKS.c.started_at >= since, CHECKS.c.requests > 0)
        .group_by(CHECKS.c.target)
    )
    with engine.connect() as connection:
        return {target: float(mean) for target, mean in row_values(connection.execute(query))}


def request_counts(engine: Engine, targets: Sequence[str], last: int) -> dict[str, list[int]]:
    """Each target's request counts of its `last` most recent checks that reached the site,
    newest first (a target without any is left out)."""
    found: dict[str, list[int]] = {}
    query = (
        select(CHECKS.c.requests)
        .where(CHECKS.c.target == bindparam("target"), CHECKS.c.requests > 0)
        .order_by(CHECKS.c.started_at.desc())
        .limit(last)
    )
    with engine.connect() as connection:
        for target in targets:
            rows = connection.execute(query, {"target": target})
            counts = [int(count) for (count,) in row_values(rows)]
            if counts:
                found[target] = counts
    return found


def slots(engine: Engine, target: str | None = None) -> list[SlotRecord]:
    """Every appearance of a slot (of one target), by first sighting, then start."""
    query = SELECT_SLOTS.order_by(SLOTS.c.first_seen, SLOTS.c.start)
    if target:
        query = query.where(SLOTS.c.target == target)
    with engine.connect() as db:
        return [SlotRecord(*row) for row in row_values(db.execute(query))]


def open_slots(engine: Engine, target: str) -> set[tuple[str, datetime]]:
    """(guichet id, start) of the target's slots seen at its last clear answer and not
    gone since: what the site offers now, as far as creneau knows."""
    query = select(SLOTS.c.guichet_id, SLOTS.c.start).where(
        SLOTS.c.target == target, SLOTS.c.gone_at.is_(None)
    )
    with engine.connect() as connection:
        return {(row[0], row[1]) for row in connection.execute(query)}
