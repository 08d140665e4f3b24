"""The facts an export states about one target over a period: counts per result, the checks
and hours that saw slots, the spacing of checks, what became of the pages. Computed from the
store's records and the pages copied; written by `files` and the templates."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from creneau.evidence.pages import NOT_KEPT, Pages
from creneau.evidence.period import Period
from creneau.redact import public_link
from creneau.results import Status
from creneau.store.evidence import TargetPeriod
from creneau.store.records import CheckRecord, HourCount

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.targets import TargetBase

STATUSES = [status.value for status in Status]
NO_ANSWER = [s for s in STATUSES if s not in (Status.AVAILABLE.value, Status.NONE.value)]


@dataclass(frozen=True)
class HourlyDay:
    """A local day of the part of the period known only by hourly counts."""

    day: date
    counts: tuple[int, ...]  # per status shown, in `Facts.hourly_days` order
    total: int


def saw_slots(check: CheckRecord) -> bool:
    return check.slot_count > 0 or check.status == Status.AVAILABLE.value


@dataclass(frozen=True)
class Facts:
    target: str
    system: str
    url: str
    zone: ZoneInfo
    period: Period
    records: TargetPeriod
    pages: Pages
    keep_pages: bool
    retention: timedelta
    generated_at: datetime

    @property
    def checks(self) -> Sequence[CheckRecord]:
        return self.records.checks

    @property
    def detailed(self) -> int:
        return len(self.checks)

    @property
    def hourly(self) -> int:
        return sum(hour.checks for hour in self.records.hours)

    @property
    def total(self) -> int:
        return self.detailed + self.hourly

    def by_status(self) -> dict[str, tuple[int, int]]:
        """Each status: (detailed checks, checks known only from hourly counts)."""
        detailed = Counter(check.status for check in self.checks)
        hourly: Counter[str] = Counter()
        for hour in self.records.hours:
            hourly[hour.status] += hour.checks
        known = STATUSES + sorted((set(detailed) | set(hourly)) - set(STATUSES))
        return {status: (detailed[status], hourly[status]) for status in known}

    def statuses_seen(self) -> list[tuple[str, int, int]]:
        """(status, detailed, hourly) of the statuses with at least one check."""
        return [(s, d, h) for s, (d, h) in self.by_status().items() if d + h]

    def count(self, statuses: Iterable[str]) -> int:
        counts = self.by_status()
        return sum(sum(counts.get(status, (0, 0))) for status in statuses)

    @property
    def said_none(self) -> int:
        """Checks at which the site said explicitly that there was no slot."""
        return self.count([Status.NONE.value])

    @property
    def unanswered(self) -> int:
        """Checks that could not see the availability (refused, overloaded, error…)."""
        return self.count(NO_ANSWER)

    @property
    def reached(self) -> int:
        """Detailed checks that got an HTTP answer (hourly counts do not tell)."""
        return sum(1 for check in self.checks if check.http_status is not None)

    @property
    def first(self) -> datetime | None:
        return self.checks[0].started_at if self.checks else None

    @property
    def last(self) -> datetime | None:
        return self.checks[-1].started_at if self.checks else None

    @property
    def shortest_spacing(self) -> timedelta | None:
        starts = (check.started_at for check in self.checks)
        return min((b - a for a, b in itertools.pairwise(starts)), default=None)

    @property
    def shortest_spacing_s(self) -> int | None:
        spacing = self.shortest_spacing
        return None if spacing is None else round(spacing.total_seconds())

    @property
    def slot_checks(self) -> list[CheckRecord]:
        return [check for check in self.checks if saw_slots(check)]

    @property
    def slot_hours(self) -> list[HourCount]:
        return [h for h in self.records.hours if h.status == Status.AVAILABLE.value and h.checks]

    @property
    def checks_with_slots(self) -> int:
        return len(self.slot_checks) + sum(hour.checks for hour in self.slot_hours)

    @property
    def slots_offered(self) -> bool:
        """Any trace of a slot within the period: never claim "no slot" past one."""
        return bool(self.checks_with_slots or self.records.slots)

    @property
    def hours_span(self) -> tuple[datetime, datetime] | None:
        if not self.records.hours:
            return None
        hours = [hour.hour for hour in self.records.hours]
        return min(hours), max(hours) + timedelta(hours=1)

    def hourly_days(self) -> tuple[list[str], list[HourlyDay]]:
        """The statuses the hourly counts hold, and per local day their checks."""
        days: dict[date, Counter[str]] = {}
        for hour in self.records.hours:
            day = hour.hour.astimezone(self.zone).date()
            days.setdefault(day, Counter())[hour.status] += hour.checks
        shown = [s for s in self.by_status() if any(day[s] for day in days.values())]
        return shown, [
            HourlyDay(day, tuple(counts[s] for s in shown), sum(counts.values()))
            for day, counts in sorted(days.items())
        ]

    @property
    def pages_included(self) -> int:
        return self.pages.included

    @property
    def checks_page_not_kept(self) -> int:
        return sum(1 for c in self.checks if self.pages.of(c.page_sha256) == NOT_KEPT)


def build_facts(
    config: Config,
    target: TargetBase,
    period: Period,
    records: TargetPeriod,
    pages: Pages,
    now: datetime,
) -> Facts:
    return Facts(
        target=target.name,
        system=target.system,
        url=public_link(target.url),
        zone=config.creneau.zone,
        period=period,
        records=records,
        pages=pages,
        keep_pages=config.creneau.keep_pages,
        retention=config.creneau.retention,
        generated_at=now.astimezone(UTC),
    )
