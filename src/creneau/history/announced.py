"""What became of the releases a target's site announced (issue 26), as `history summary`
and the dashboard's target page report them: how many it announced in the period, how
many were followed by slots (and how long after the announced instant creneau saw them, in
median), how many passed without slots, were withdrawn, moved to another instant, or are
still to come. Pure: the announcements come from `Store.announcements`."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from creneau.expected import Announcement


@dataclass(frozen=True)
class AnnouncedOutcomes:
    """A target's announcements by outcome; `seen_after_s`: the median delay from the
    announced instant to the slots seen, over the releases whose slots were seen."""

    target: str
    announced: int = 0
    released: int = 0
    no_slots: int = 0
    withdrawn: int = 0
    changed: int = 0
    pending: int = 0
    seen_after_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "announced": self.announced,
            "released": self.released,
            "no_slots": self.no_slots,
            "withdrawn": self.withdrawn,
            "changed": self.changed,
            "pending": self.pending,
            "seen_after_median_s": self.seen_after_s,
        }


def announced_outcomes(target: str, found: Iterable[Announcement]) -> AnnouncedOutcomes:
    """The outcomes of `target`'s announcements among `found` (others are skipped)."""
    mine = [announcement for announcement in found if announcement.target == target]
    counts = Counter(announcement.outcome for announcement in mine)
    delays = [
        _seconds_after(announcement.at, announcement.released_seen_at)
        for announcement in mine
        if announcement.released_seen_at is not None
    ]
    return AnnouncedOutcomes(
        target,
        announced=len(mine),
        released=counts["released"],
        no_slots=counts["no_slots"],
        withdrawn=counts["withdrawn"],
        changed=counts["changed"],
        pending=counts["pending"],
        seen_after_s=round(statistics.median(delays), 1) if delays else None,
    )


def in_period(
    found: Iterable[Announcement], since: datetime | None, until: datetime | None
) -> list[Announcement]:
    """The announcements seen during [since, until) (until excluded, as a Scope's)."""
    return [
        announcement
        for announcement in found
        if (since is None or announcement.last_seen >= since)
        and (until is None or announcement.first_seen < until)
    ]


def _seconds_after(at: datetime, seen: datetime) -> float:
    return max(0.0, (seen - at).total_seconds())
