"""Observation hours and the weekday × hour heatmap: which UTC hours each target was observed
in and had releases placed in, counted in local cells (see `creneau.history`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from creneau.dates import SHORT_WEEKDAYS
from creneau.history.releases import PRECISE_WITHIN, LastClearChecks, Release
from creneau.store.history import GuichetSighting, epoch_hour, hour_start

# The colour scale, from "never" to "every observed hour" (ColorBrewer Greens).
PALE = (247, 252, 245)
DARK = (0, 68, 27)

# A release as the hourly counts see it: (target, seen at, last clear answer before it).
ReleaseMoment = tuple[str, datetime, datetime]


@dataclass(frozen=True)
class HourlyHistory:
    """One target, by UTC hour (epoch hours): when it was observed, when releases were seen."""

    target: str
    observed: frozenset[int]
    releases: Counter[int]  # hour → releases placed in it (one per guichet)
    unplaced: int = 0  # releases whose time is known only within more than PRECISE_WITHIN


def release_moments(
    sightings: Iterable[GuichetSighting], since: LastClearChecks
) -> list[ReleaseMoment]:
    """The sightings that are releases (a clear answer before them), with that answer."""
    return [
        (seen.target, seen.seen_at, since[seen.target, seen.seen_at])
        for seen in sightings
        if (seen.target, seen.seen_at) in since  # else a first sighting
    ]


def moments_of(found: Iterable[Release]) -> list[ReleaseMoment]:
    """The moments of releases already read (a release always has its clear answer)."""
    return [
        (release.target, release.seen_at, release.previous_check_at)
        for release in found
        if release.previous_check_at is not None
    ]


def hourly_histories_of(
    observed: Mapping[str, frozenset[int]], moments: Iterable[ReleaseMoment]
) -> list[HourlyHistory]:
    """One history per target of `observed` (its observation hours), in that order. An hour
    in which a release was placed counts as observed."""
    placed, unplaced = placed_releases(moments)
    histories = []
    for target, hours in observed.items():
        mine = placed.get(target, Counter())
        histories.append(HourlyHistory(target, hours | frozenset(mine), mine, unplaced[target]))
    return histories


def placed_releases(
    moments: Iterable[ReleaseMoment],
) -> tuple[dict[str, Counter[int]], Counter[str]]:
    """Per target, the releases placed in each hour they were seen, and how many could not be
    placed (their time known only within more than PRECISE_WITHIN)."""
    placed: dict[str, Counter[int]] = defaultdict(Counter)
    unplaced: Counter[str] = Counter()
    for target, seen_at, previous in moments:
        if seen_at - previous <= PRECISE_WITHIN:
            placed[target][epoch_hour(seen_at)] += 1
        else:
            unplaced[target] += 1
    return placed, unplaced


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = Monday, local
    hour: int  # local clock hour
    observed_hours: int
    release_hours: int  # observed hours in which at least one release was seen
    releases: int  # releases seen in those hours (one per guichet)

    @property
    def probability(self) -> float | None:
        """None when the cell was never observed: unknown, not "never"."""
        return self.release_hours / self.observed_hours if self.observed_hours else None

    def to_json(self) -> dict[str, Any]:
        probability = self.probability
        return {
            "weekday": SHORT_WEEKDAYS[self.weekday],
            "hour": self.hour,
            "observed_hours": self.observed_hours,
            "release_hours": self.release_hours,
            "releases": self.releases,
            "probability": round(probability, 4) if probability is not None else None,
        }


@dataclass(frozen=True)
class Heatmap:
    zone: str
    cells: tuple[HeatCell, ...]  # 7 × 24, Monday 00h first
    unplaced: int = 0  # releases in no cell: their time is known only within more than an hour

    def cell(self, weekday: int, hour: int) -> HeatCell:
        return self.cells[weekday * 24 + hour]

    @property
    def observed_hours(self) -> int:
        return sum(cell.observed_hours for cell in self.cells)

    @property
    def releases(self) -> int:
        return sum(cell.releases for cell in self.cells)

    def unplaced_text(self) -> str:
        """What a reader must know of the releases in no cell ("" when there is none)."""
        if not self.unplaced:
            return ""
        return (
            f" {self.unplaced} more, seen after more than an hour without a clear answer, "
            "may have happened in any hour of that stretch: in no cell."
        )


def shade(probability: float) -> tuple[int, int, int]:
    """The cell colour (red, green, blue) of a probability, from PALE (0) to DARK (1)."""
    red, green, blue = (
        round(pale + (dark - pale) * probability) for pale, dark in zip(PALE, DARK, strict=True)
    )
    return red, green, blue


class LocalHours:
    """Places UTC hours (epoch hours) in local weekday × hour cells and local days, working
    each hour out once: a year of ten targets has 87 600 target-hours but 8 760 hours."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._cell: dict[int, int] = {}  # hour → weekday * 24 + local hour
        self._day: dict[int, date] = {}

    def _learn(self, hours: Iterable[int]) -> None:
        for hour in set(hours).difference(self._cell):
            local = hour_start(hour).astimezone(self.zone)
            self._cell[hour] = local.weekday() * 24 + local.hour
            self._day[hour] = local.date()

    def cells(self, hours: Counter[int]) -> Counter[int]:
        """Hours counted per cell (0 = Monday 00h … 167 = Sunday 23h)."""
        self._learn(hours)
        found: Counter[int] = Counter()
        for hour, count in hours.items():
            found[self._cell[hour]] += count
        return found

    def days(self, hours: Iterable[int]) -> set[date]:
        hours = list(hours)
        self._learn(hours)
        return set(map(self._day.__getitem__, hours))


def heatmap_of(histories: Iterable[HourlyHistory], local: LocalHours) -> Heatmap:
    # Count per UTC hour first (targets share their hours), then place each hour once.
    observed: Counter[int] = Counter()
    release_hours: Counter[int] = Counter()
    seen: Counter[int] = Counter()
    unplaced = 0
    for history in histories:
        observed.update(history.observed)
        release_hours.update(history.releases.keys())
        seen.update(history.releases)
        unplaced += history.unplaced
    observed_cells, release_cells, seen_cells = (
        local.cells(counter) for counter in (observed, release_hours, seen)
    )
    cells = tuple(
        HeatCell(
            index // 24, index % 24, observed_cells[index], release_cells[index], seen_cells[index]
        )
        for index in range(7 * 24)
    )
    return Heatmap(str(local.zone), cells, unplaced)
