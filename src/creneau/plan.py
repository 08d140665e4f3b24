"""When to check a target next: its interval and jitter, the windows outside of which it is
not checked, burst windows with a shorter interval, hours made busier by past releases, and
spacing so that no two targets of a host are checked in the same second. Pure date
arithmetic: the daemon's APScheduler trigger (daemon/schedule.py) applies it."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from creneau.dates import SHORT_WEEKDAYS
from creneau.expected import ExpectedRelease

_DAY_NAMES = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "lun": 0,
    "mar": 1,
    "mer": 2,
    "jeu": 3,
    "ven": 4,
    "sam": 5,
    "dim": 6,
}
_WINDOW = re.compile(
    r"^\s*(?P<days>[A-Za-zé,\- *]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
WINDOW_EXAMPLE = '"Mon-Fri 07:30-18:30"'


@dataclass(frozen=True)
class Window:
    """Days of the week and a local time range; a range whose end is before its start runs
    past midnight and belongs to the day it starts ("Sun 23:30-00:30")."""

    days: frozenset[int]
    start: time
    end: time  # time(0) with `to_midnight` means 24:00
    text: str
    to_midnight: bool = False

    @classmethod
    def parse(cls, text: str) -> Window:
        found = _WINDOW.match(text)
        if found is None:
            raise ValueError(f'expected days and hours such as {WINDOW_EXAMPLE} (got "{text}")')
        days = _parse_days(found.group("days"), text)
        start, end = _parse_time(found.group("start"), text), _parse_time(found.group("end"), text)
        end_text = found.group("end")
        to_midnight = end_text == "24:00" or (end_text == "00:00" and start != time(0))
        if start == end and not to_midnight:
            raise ValueError(f'the window "{text}" is empty: start and end are equal')
        return cls(
            frozenset(days), start, time(0) if to_midnight else end, text.strip(), to_midnight
        )

    @property
    def crosses_midnight(self) -> bool:
        return self.to_midnight or self.end < self.start

    def contains(self, local: datetime) -> bool:
        """`local` is a wall-clock time in the target's zone."""
        at, day = local.time().replace(tzinfo=None), local.weekday()
        if not self.crosses_midnight:
            return day in self.days and self.start <= at < self.end
        return (day in self.days and at >= self.start) or (
            (day - 1) % 7 in self.days and at < self.end and not self.to_midnight
        )

    def openings(self, after: datetime, zone: ZoneInfo) -> list[datetime]:
        """Start instants of this window in the 8 days from `after` (its local date)."""
        first = after.astimezone(zone).date()
        starts = []
        for offset in range(-1, 8):
            day = first + timedelta(days=offset)
            if day.weekday() in self.days:
                starts.append(datetime.combine(day, self.start, tzinfo=zone))
        return starts


def _parse_days(text: str, whole: str) -> set[int]:
    text = text.strip().lower()
    if text in ("daily", "*", "tous", "every day"):
        return set(range(7))
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(name[:3] not in _DAY_NAMES for name in ends):
            raise ValueError(f'unknown day in "{whole}" (use Mon Tue Wed Thu Fri Sat Sun)')
        first, last = _DAY_NAMES[ends[0][:3]], _DAY_NAMES[ends[-1][:3]]
        span = (last - first) % 7
        days.update((first + step) % 7 for step in range(span + 1))
    return days


def _parse_time(text: str, whole: str) -> time:
    hours, minutes = map(int, text.split(":"))
    if hours == 24 and minutes == 0:
        return time(0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f'invalid time "{text}" in "{whole}"')
    return time(hours, minutes)


def _openings(windows: Sequence[Window], after: datetime, zone: ZoneInfo) -> list[datetime]:
    return sorted(start for window in windows for start in window.openings(after, zone))


def inside(windows: Sequence[Window], instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return any(window.contains(local) for window in windows)


def next_opening(windows: Sequence[Window], after: datetime, zone: ZoneInfo) -> datetime:
    """`after` itself when inside a window, else the earliest window start after it."""
    if not windows or inside(windows, after, zone):
        return after
    starts = [
        start
        for window in windows
        for start in window.openings(after, zone)
        if start > after and inside(windows, start, zone)
    ]
    if not starts:  # windows that never exist (e.g. only in a skipped DST hour)
        raise ValueError("the check windows never open")
    return min(starts)


HOURS_IN_A_WEEK = 7 * 24
WEEK = timedelta(weeks=1)
WEEK_MINUTES = 7 * 24 * 60
ADAPTIVE_BASELINE = 0.4  # share of checks spread evenly, so that a new pattern is still found


def hour_of_week(instant: datetime, zone: ZoneInfo) -> int:
    """0 for Monday 00:00-00:59 local time, … 167 for Sunday 23:00-23:59."""
    local = instant.astimezone(zone)
    return local.weekday() * 24 + local.hour


def adaptive_intervals(
    release_hours: Sequence[int],
    every: timedelta,
    floor: timedelta,
    baseline: float = ADAPTIVE_BASELINE,
) -> tuple[timedelta, ...] | None:
    """An interval for each hour of the week that spends the same number of checks a week
    as `every` does: `baseline` of them evenly, the rest in proportion to where past releases
    fell (each also counting half in the hours either side: release times vary). An hour
    never gets more checks than `floor` allows; what it cannot take goes to the others.
    None without any history."""
    if not release_hours:
        return None
    weights = [0.0] * HOURS_IN_A_WEEK
    for hour in release_hours:
        weights[hour % HOURS_IN_A_WEEK] += 1.0
        weights[(hour - 1) % HOURS_IN_A_WEEK] += 0.5
        weights[(hour + 1) % HOURS_IN_A_WEEK] += 0.5
    total = sum(weights)
    weekly_checks = timedelta(days=7) / every
    checks = [
        weekly_checks * (baseline / HOURS_IN_A_WEEK + (1 - baseline) * weight / total)
        for weight in weights
    ]
    checks = _cap(checks, timedelta(hours=1) / floor)
    return tuple(timedelta(hours=1) / count for count in checks)


def _cap(checks: list[float], most: float) -> list[float]:
    """Water-filling: hours above `most` checks keep `most`; their excess is shared by the
    others in proportion to what they have, until none is above (or all are full)."""
    checks = list(checks)
    for _ in range(len(checks)):
        excess = sum(max(0.0, count - most) for count in checks)
        room = [i for i, count in enumerate(checks) if count < most]
        if excess <= 1e-9 or not room:
            break
        checks = [min(count, most) for count in checks]
        share = sum(checks[i] for i in room)
        for i in room:
            checks[i] += excess * checks[i] / share
    return [min(count, most) for count in checks]


@dataclass(frozen=True)
class Aimed:
    """Checks aimed at the windows of learned release patterns: every `every` inside them
    (never below the floor), every `rest` elsewhere (see aimed_checks)."""

    windows: tuple[Window, ...]
    every: timedelta
    rest: timedelta


def aimed_checks(
    patterns: Sequence[ExpectedRelease],
    every: timedelta,
    floor: timedelta,
    zone: ZoneInfo,
    share: float = 1 - ADAPTIVE_BASELINE,
) -> Aimed | None:
    """Each learned pattern's window (its local weekday and time, ± its window) checked as
    often as `floor` allows, the rest of the week evenly, spending the same number of checks
    a week as `every` does. The windows take at most `share` of those checks (they are
    checked less often when they would need more). None without a pattern, or when the
    windows could not be checked more often than `every` (or with none left elsewhere)."""
    minutes = _window_minutes(patterns, zone)
    if not minutes:
        return None
    weekly = WEEK / every
    inside = max(floor, timedelta(minutes=len(minutes)) / (share * weekly))
    if inside >= every:
        return None
    outside = WEEK - timedelta(minutes=len(minutes))
    # Each window's opening pulls a check forward, cutting an interval short: one check
    # each is kept aside for it, so that the week never spends more than `every` would.
    spare = weekly - timedelta(minutes=len(minutes)) / inside - len(patterns)
    if spare <= 0:  # so few checks a week that aiming them leaves none for the rest
        return None
    rest = outside / spare
    windows = tuple(_window_of(pattern, zone) for pattern in patterns)
    return Aimed(windows, inside, rest)


def _window_minutes(patterns: Sequence[ExpectedRelease], zone: ZoneInfo) -> set[int]:
    """The minutes of the week (from Monday 00:00, local) the patterns' windows cover."""
    covered: set[int] = set()
    for pattern in patterns:
        local = pattern.at.astimezone(zone)
        centre = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
        half = int(pattern.window.total_seconds()) // 60
        covered.update(minute % WEEK_MINUTES for minute in range(centre - half, centre + half))
    return covered


def _window_of(pattern: ExpectedRelease, zone: ZoneInfo) -> Window:
    """The pattern's window as a weekly check window: it belongs to the day it starts."""
    local = pattern.at.astimezone(zone).replace(second=0, microsecond=0)
    start, end = local - pattern.window, local + pattern.window
    return Window.parse(f"{SHORT_WEEKDAYS[start.weekday()]} {start:%H:%M}-{end:%H:%M}")


@dataclass(frozen=True)
class CheckPlan:
    """A target's timing rules."""

    every: timedelta
    jitter: timedelta
    zone: ZoneInfo
    windows: tuple[Window, ...] = ()
    burst_windows: tuple[Window, ...] = ()
    burst_every: timedelta | None = None
    adaptive: tuple[timedelta, ...] | None = None  # by hour of week (see adaptive_intervals)
    floor: timedelta = timedelta(0)  # no two checks closer than this, jitter included
    aimed: Aimed | None = None  # at learned release windows (see aimed_checks)

    def interval_at(self, instant: datetime) -> timedelta:
        if self.aimed:
            every = self.aimed.every if self.aimed_at(instant) else self.aimed.rest
        elif self.adaptive:
            every = self.adaptive[hour_of_week(instant, self.zone)]
        else:
            every = self.every
        if self.burst_every and inside(self.burst_windows, instant, self.zone):
            return min(every, self.burst_every)
        return every

    def aimed_at(self, instant: datetime) -> bool:
        """Whether `instant` lies in the window of a learned release pattern."""
        return self.aimed is not None and inside(self.aimed.windows, instant, self.zone)

    def next_check(self, previous: datetime, rand: Callable[[], float] = random.random) -> datetime:
        """The next check after one at `previous`: interval plus jitter; pulled forward to
        the start of a burst window, or of a learned release window, that opens meanwhile;
        pushed into the next check window when it falls outside all of them."""
        # Jitter is ± half its value around the interval, so that checks average `every`;
        # it never brings two checks closer than the floor. Inside a learned window the
        # checks keep their interval exactly: jitter would only leave gaps above it.
        jitter = timedelta(0) if self.aimed_at(previous) else self.jitter
        interval = self.interval_at(previous) + jitter * (rand() - 0.5)
        candidate = previous + max(interval, self.floor)
        if self.aimed:
            for start in _openings(self.aimed.windows, previous, self.zone):
                if previous < start < candidate:
                    candidate = max(start, previous + self.floor)
        if self.burst_every:
            for window in self.burst_windows:
                for start in window.openings(previous, self.zone):
                    if previous < start < candidate:
                        candidate = start + min(self.jitter, self.burst_every) * rand()
        if self.windows and not inside(self.windows, candidate, self.zone):
            candidate = next_opening(self.windows, candidate, self.zone) + self.jitter * rand()
        return candidate

    def first_check(self, now: datetime, rand: Callable[[], float] = random.random) -> datetime:
        if self.windows and not inside(self.windows, now, self.zone):
            return next_opening(self.windows, now, self.zone) + self.jitter * rand()
        return now


class Spacing:
    """Keeps the planned checks of one host's targets out of the same second (one Spacing per
    host: different hosts may share a second, or a thousand targets could not fit)."""

    def __init__(self) -> None:
        self._held: dict[int, str] = {}
        self._by_key: dict[str, int] = {}

    def reserve(self, key: str, when: datetime) -> datetime:
        self.release(key)
        while self._held.get(int(when.timestamp()), key) != key:
            when += timedelta(seconds=1)
        second = int(when.timestamp())
        self._held[second] = key
        self._by_key[key] = second
        return when

    def release(self, key: str) -> None:
        second = self._by_key.pop(key, None)
        if second is not None and self._held.get(second) == key:
            del self._held[second]
