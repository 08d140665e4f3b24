"""When to check, from past releases: the fewest quarter-hours of the local day that cover
most releases whose time is known, merged into windows (see `creneau.history`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from creneau.dates import SHORT_WEEKDAYS, window_length
from creneau.history.releases import Release

# Releases whose time is known within PRECISE_WITHIN are used; below these amounts of data
# there is "not enough data"; windows must cover this share of them, and a set of windows
# longer than MAX_WINDOWS in all is no pattern at all.
MIN_RELEASES = 5
MIN_OBSERVED_DAYS = 7
COVER = 0.8
QUARTER_MINUTES = 15
MAX_WINDOWS = timedelta(hours=4)
DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True)
class RecommendedWindow:
    """A stretch of local clock time, in minutes from midnight, and the weekdays (0 = Monday)
    on which the releases it covers were seen."""

    start: int
    end: int
    weekdays: frozenset[int]
    releases: int

    def text(self) -> str:
        return f"between {_clock(self.start)} and {_clock(self.end)} {_days_text(self.weekdays)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "start": _clock(self.start),
            "end": _clock(self.end),
            "weekdays": [SHORT_WEEKDAYS[day] for day in sorted(self.weekdays)],
            "releases": self.releases,
        }


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days_text(weekdays: frozenset[int]) -> str:
    if weekdays == frozenset(range(7)):
        return "every day"
    if weekdays == frozenset(range(5)):
        return "on weekdays"
    if weekdays == frozenset({5, 6}):
        return "at weekends"
    listed = [DAY_NAMES[day] for day in sorted(weekdays)]
    return "on " + (", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else listed[0])


@dataclass(frozen=True)
class Recommendation:
    """When to check, from past releases: the fewest quarter-hours of the local day that
    cover COVER of the releases whose time is known within PRECISE_WITHIN, merged into
    windows. `windows` is empty when there is not enough data or no pattern (see `reason`)."""

    windows: tuple[RecommendedWindow, ...]
    covered: int
    considered: int
    reason: str = ""

    def text(self) -> str:
        if not self.windows:
            return self.reason
        stretches = " and ".join(window.text() for window in self.windows)
        return f"check {stretches} ({self.covered} of {self.considered} releases)"

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text(),
            "windows": [window.to_json() for window in self.windows],
            "covered": self.covered,
            "considered": self.considered,
        }


def recommend(found: Sequence[Release], observed_days: int, zone: ZoneInfo) -> Recommendation:
    precise = [release for release in found if release.precise]
    if len(precise) < MIN_RELEASES or observed_days < MIN_OBSERVED_DAYS:
        return Recommendation(
            (),
            0,
            len(precise),
            f"not enough data: {len(precise)} releases with a known time (need "
            f"{MIN_RELEASES}) over {observed_days} observed days (need {MIN_OBSERVED_DAYS})",
        )
    by_quarter: dict[int, list[Release]] = defaultdict(list)
    for release in precise:
        local = release.seen_at.astimezone(zone)
        by_quarter[(local.hour * 60 + local.minute) // QUARTER_MINUTES].append(release)
    chosen: list[int] = []
    covered = 0
    for quarter in sorted(by_quarter, key=lambda q: (-len(by_quarter[q]), q)):
        if covered >= COVER * len(precise):
            break
        chosen.append(quarter)
        covered += len(by_quarter[quarter])
    span = timedelta(minutes=QUARTER_MINUTES * len(chosen))
    if span > MAX_WINDOWS:
        return Recommendation(
            (),
            covered,
            len(precise),
            f"no clear pattern: covering {COVER:.0%} of {len(precise)} releases takes "
            f"{window_length(span)} of the day; check all day",
        )
    return Recommendation(_windows(sorted(chosen), by_quarter, zone), covered, len(precise))


def _windows(
    quarters: Sequence[int], by_quarter: dict[int, list[Release]], zone: ZoneInfo
) -> tuple[RecommendedWindow, ...]:
    runs: list[list[int]] = []
    for quarter in quarters:
        if runs and runs[-1][-1] == quarter - 1:
            runs[-1].append(quarter)
        else:
            runs.append([quarter])
    windows = []
    for run in runs:
        covered = [release for quarter in run for release in by_quarter[quarter]]
        windows.append(
            RecommendedWindow(
                start=run[0] * QUARTER_MINUTES,
                end=(run[-1] + 1) * QUARTER_MINUTES,
                weekdays=frozenset(r.seen_at.astimezone(zone).weekday() for r in covered),
                releases=len(covered),
            )
        )
    return tuple(windows)
