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
from creneau.store.schema import CheckHourRow, CheckRow, SlotRow


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
            CheckRow.target == target, CheckRow.started_at >= start, CheckRow.started_at < end
        )
    ).order_by(CheckRow.started_at, CheckRow.id)
    hours = (
        SELECT_HOURS.where(
            CheckHourRow.target == target,
            CheckHourRow.hour > start - timedelta(hours=1),
            CheckHourRow.hour < end,
        )
    ).order_by(CheckHourRow.hour, CheckHourRow.status)
    slots = (
        SELECT_SLOTS.where(
            SlotRow.target == target, SlotRow.first_seen < end, SlotRow.last_seen >= start
        )
    ).order_by(SlotRow.start, SlotRow.guichet, SlotRow.first_seen)
    with store.engine.connect() as db:
        return TargetPeriod(
            checks=tuple(CheckRecord(*row) for row in row_values(db.execute(checks))),
            hours=tuple(HourCount(*row) for row in row_values(db.execute(hours))),
            slots=tuple(SlotRecord(*row) for row in row_values(db.execute(slots))),
        )
