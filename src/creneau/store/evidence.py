"""What the evidence export reads: every record of one target over a period, as plain data
for `creneau.evidence` to state and write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from creneau.store import Store
from creneau.store.records import (
    SELECT_CHECKS,
    SELECT_HOURS,
    SELECT_SLOTS,
    CheckRecord,
    HourCount,
    SlotRecord,
    row_values,
)
from creneau.store.schema import CHECK_HOURS, CHECKS, SLOTS


@dataclass(frozen=True)
class TargetPeriod:
    """One target's records over a period [start, end)."""

    checks: tuple[CheckRecord, ...]  # started in the period, in order
    hours: tuple[HourCount, ...]  # every hour that overlaps it, by hour and status
    slots: tuple[SlotRecord, ...]  # seen at some time within it, by start, guichet, sighting


def target_period(store: Store, target: str, start: datetime, end: datetime) -> TargetPeriod:
    """The raw checks started in [start, end); the hourly counts of every hour that overlaps
    it (an edge hour counts its whole hour); the slots seen at some time within it."""
    checks = (
        SELECT_CHECKS.where(
            CHECKS.c.target == target, CHECKS.c.started_at >= start, CHECKS.c.started_at < end
        )
    ).order_by(CHECKS.c.started_at, CHECKS.c.id)
    hours = (
        SELECT_HOURS.where(
            CHECK_HOURS.c.target == target,
            CHECK_HOURS.c.hour > start - timedelta(hours=1),
            CHECK_HOURS.c.hour < end,
        )
    ).order_by(CHECK_HOURS.c.hour, CHECK_HOURS.c.status)
    slots = (
        SELECT_SLOTS.where(
            SLOTS.c.target == target, SLOTS.c.first_seen < end, SLOTS.c.last_seen >= start
        )
    ).order_by(SLOTS.c.start, SLOTS.c.guichet, SLOTS.c.first_seen)
    with store.engine.connect() as db:
        return TargetPeriod(
            checks=tuple(CheckRecord(*row) for row in row_values(db.execute(checks))),
            hours=tuple(HourCount(*row) for row in row_values(db.execute(hours))),
            slots=tuple(SlotRecord(*row) for row in row_values(db.execute(slots))),
        )
