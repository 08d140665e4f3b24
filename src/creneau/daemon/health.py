"""Is creneau keeping up with its plan? Each target's next check is due at a known moment (the
daemon saves it; outside the target's windows it is the next opening): a target whose check
is overdue by more than its interval and a grace is a daemon in trouble. Pure: `creneau
health` and the daemon's own watchdog both ask it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.dates import compact_duration
from creneau.targets import TargetBase

# A check may wait for its host's turn and budget, then take up to the check deadline.
HEALTH_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Overdue:
    target: str
    due: datetime | None  # None: never checked, never scheduled
    last: datetime | None

    def describe(self, now: datetime, zone: ZoneInfo) -> str:
        if self.due is None:
            return f"{self.target}: never checked (is creneau run running?)"
        late = compact_duration(now - self.due)
        local = self.due.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.target}: its check was due at {local}, {late} ago"


def due_by(
    target: TargetBase, zone: ZoneInfo, next_check: datetime | None, last_check: datetime | None
) -> datetime | None:
    """When the target's next check should be done at the latest, by its own plan."""
    if next_check is None and last_check is None:
        return None
    if next_check is None:
        assert last_check is not None
        next_check = target.plan(zone).next_check(last_check, rand=lambda: 1.0)
    return next_check + target.every + target.jitter + HEALTH_GRACE


def overdue(
    targets: Sequence[TargetBase],
    zone: ZoneInfo,
    next_checks: Mapping[str, datetime | None],
    last_checks: Mapping[str, datetime],
    now: datetime,
) -> list[Overdue]:
    late = []
    for target in targets:
        last = last_checks.get(target.name)
        due = due_by(target, zone, next_checks.get(target.name), last)
        if due is None or now > due:
            late.append(Overdue(target.name, due, last))
    return late
