"""One screen per target (`creneau history summary`), and the short summaries the demo and
the daily heartbeat show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from creneau.expected import Announcement
from creneau.history.announced import AnnouncedOutcomes, announced_outcomes
from creneau.history.heatmap import Heatmap, HourlyHistory, LocalHours, heatmap_of
from creneau.history.recommend import Recommendation, recommend
from creneau.history.releases import (
    LastClearChecks,
    Lifetime,
    Release,
    combined_lifetime,
    lifetimes_of,
)
from creneau.results import ReleaseAnnouncement
from creneau.store.history import CheckTotals


@dataclass(frozen=True)
class TypicalHour:
    hour: int  # local clock hour, any weekday
    releases: int
    release_hours: int
    observed_hours: int

    @property
    def probability(self) -> float | None:
        return self.release_hours / self.observed_hours if self.observed_hours else None


@dataclass(frozen=True)
class TargetReport:
    target: str
    releases: int
    last_release: Release | None
    observed_hours: int
    observed_days: int
    typical_hours: tuple[TypicalHour, ...]  # the hours with most releases, most first
    lifetime: Lifetime
    recommendation: Recommendation
    heatmap: Heatmap = field(repr=False)
    # What the site itself last said of its releases (RDV Préfecture's "Dernière mise en ligne
    # de rendez-vous : le … à …"); its JSON: last_release_at, last_release_week, …
    site_says: ReleaseAnnouncement | None = None
    # What became of the releases the site announced in the period (none for most systems).
    announced: AnnouncedOutcomes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "releases": self.releases,
            "last_release": self.last_release.to_json() if self.last_release else None,
            "observed_hours": self.observed_hours,
            "observed_days": self.observed_days,
            "typical_hours": [
                {
                    "hour": typical.hour,
                    "releases": typical.releases,
                    "probability": round(typical.probability, 4)
                    if typical.probability is not None
                    else None,
                }
                for typical in self.typical_hours
            ],
            "lifetime": self.lifetime.to_json(),
            "recommendation": self.recommendation.to_json(),
            "site_says": self.site_says.as_facts() if self.site_says else {},
            "announcements": self.announced.to_json() if self.announced else None,
        }


def reports_of(
    histories: Iterable[HourlyHistory],
    found: Sequence[Release],
    said: Mapping[str, ReleaseAnnouncement],
    zone: ZoneInfo,
    announcements: Sequence[Announcement] = (),
) -> list[TargetReport]:
    """One report per target history, from its releases, what its site said, and what
    became of the releases it announced."""
    local = LocalHours(zone)
    return [
        replace(
            report_of(
                history,
                [release for release in found if release.target == history.target],
                local,
                said.get(history.target),
            ),
            announced=announced_outcomes(history.target, announcements),
        )
        for history in histories
    ]


def report_of(
    history: HourlyHistory,
    found: Sequence[Release],
    local: LocalHours,
    said: ReleaseAnnouncement | None,
) -> TargetReport:
    observed_days = len(local.days(history.observed))
    grid = heatmap_of([history], local)
    return TargetReport(
        target=history.target,
        releases=len(found),
        last_release=found[-1] if found else None,
        observed_hours=len(history.observed),
        observed_days=observed_days,
        typical_hours=typical_hours(grid),
        lifetime=combined_lifetime(history.target, lifetimes_of(found)),
        recommendation=recommend(found, observed_days, local.zone),
        heatmap=grid,
        site_says=said,
    )


def typical_hours(grid: Heatmap, most: int = 3) -> tuple[TypicalHour, ...]:
    """The local clock hours with most releases, any weekday, most first."""
    by_hour = [
        TypicalHour(
            hour,
            sum(grid.cell(day, hour).releases for day in range(7)),
            sum(grid.cell(day, hour).release_hours for day in range(7)),
            sum(grid.cell(day, hour).observed_hours for day in range(7)),
        )
        for hour in range(24)
    ]
    ranked = sorted((h for h in by_hour if h.releases), key=lambda h: (-h.releases, h.hour))
    return tuple(ranked[:most])


# --- what the demo and the heartbeat show ------------------------------------------------------


@dataclass(frozen=True)
class TargetSummary:
    target: str
    checks: int
    by_status: dict[str, int]
    first_check: datetime | None
    last_check: datetime | None
    releases: int
    last_release: Release | None


def summaries_of(totals: Iterable[CheckTotals], found: Sequence[Release]) -> list[TargetSummary]:
    summary = []
    for total in totals:
        mine = [release for release in found if release.target == total.target]
        summary.append(
            TargetSummary(
                target=total.target,
                checks=sum(total.by_status.values()),
                by_status=total.by_status,
                first_check=total.first_check,
                last_check=total.last_check,
                releases=len(mine),
                last_release=mine[-1] if mine else None,
            )
        )
    return summary


@dataclass(frozen=True)
class Activity:
    """What a target went through since a time: for the daily heartbeat."""

    target: str
    checks: int
    status: str
    last_release: datetime | None

    def to_event(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "checks": self.checks,
            "status": self.status,
            "last_release": self.last_release.isoformat() if self.last_release else None,
        }


def activity_of(
    checks: Mapping[str, int], since: LastClearChecks, last_status: Mapping[str, str]
) -> list[Activity]:
    """Per target: its checks (counted since some time), its last status, its last release
    (from every release: `since` keys them by target and moment seen)."""
    last_release: dict[str, datetime] = {}
    for target, seen_at in since:
        last_release[target] = max(seen_at, last_release.get(target, seen_at))
    return [
        Activity(
            name,
            checks.get(name, 0),
            last_status.get(name, "never checked"),
            last_release.get(name),
        )
        for name in sorted(set(last_status) | set(checks))
    ]
