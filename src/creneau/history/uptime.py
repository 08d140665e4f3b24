"""Uptime: the share of a target's checks per status per local day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from creneau.store.history import CLEAR, STATUSES, DayCounts


@dataclass(frozen=True)
class UptimeDay:
    """One target's checks on one local day, by status."""

    target: str
    day: date
    counts: dict[str, int]

    @property
    def checks(self) -> int:
        return sum(self.counts.values())

    def share(self, status: str) -> float:
        return self.counts.get(status, 0) / self.checks if self.checks else 0.0

    @property
    def clear(self) -> float:
        """The share of checks that got a clear answer (available or none)."""
        return sum(self.share(status) for status in CLEAR)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "day": self.day.isoformat(),
            "checks": self.checks,
            "clear": round(self.clear, 4),
            "shares": {status: round(self.share(status), 4) for status in STATUSES},
            "counts": {status: self.counts.get(status, 0) for status in STATUSES},
        }


def uptime_of(days: Iterable[DayCounts]) -> list[UptimeDay]:
    return [UptimeDay(day.target, day.day, day.counts) for day in days]
