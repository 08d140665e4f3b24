"""A release learned from history: the local weekday and time of day around which a target's
past releases recur, week after week, with its window and its evidence ("lundi vers 09:00
±10 min, 7 des 8 dernières semaines"). Pure arithmetic on the instants the releases most
likely happened (`history.release_times`), in local wall-clock time, so that a pattern keeps
its hour across a change of summer time.

A pattern is claimed only on evidence: releases in at least MIN_HITS of the weeks observed
and in at least half of them, and more of them than releases at random times would put
there by chance (a préfecture that releases at random, on purpose, has no pattern)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from creneau.details import Detail
from creneau.expected import ExpectedRelease

WEEK = timedelta(weeks=1)
WEEK_MINUTES = 7 * 24 * 60
DEFAULT_WEEKS = 8
MIN_HITS = 3
SEARCH = 20  # minutes either side of a release in which the others count as the same one
ROUND_TO = 5  # minutes: the centre and the window are said in steps of this
CHANCE = 0.001  # how likely releases at random times may be to make the pattern, at most
MOST_PATTERNS = 14  # twice a day on each day of the week


@dataclass(frozen=True)
class _Pattern:
    centre: int  # minutes from Monday 00:00, local time
    window: int  # minutes either side

    @property
    def weekday(self) -> int:
        return self.centre // (24 * 60)

    @property
    def time_of_day(self) -> time:
        return time(*divmod(self.centre % (24 * 60), 60))


def learned_patterns(
    target: str,
    times: Sequence[datetime],
    now: datetime,
    zone: ZoneInfo,
    weeks: int = DEFAULT_WEEKS,
    since: datetime | None = None,
) -> list[ExpectedRelease]:
    """Every weekly pattern in the releases at `times` over the last `weeks` weeks before
    `now` (from `since` when the history starts later: the weeks before it are not counted
    as observed), each with its next occurrence after `now`, soonest first."""
    start = now - WEEK * weeks if since is None else max(since, now - WEEK * weeks)
    if start >= now:  # a history that starts now has seen no week yet
        return []
    recent = [at for at in times if start <= at <= now]
    found: list[ExpectedRelease] = []
    left = recent
    while left and len(found) < MOST_PATTERNS:
        pattern = _best(target, left, recent, now, zone, (start, weeks))
        if pattern is None:
            break
        found.append(pattern)
        centre = _minute_of_week(pattern.at, zone)
        window = int(pattern.window.total_seconds()) // 60
        left = [at for at in left if abs(_apart(_minute_of_week(at, zone), centre)) > window]
    return sorted(found, key=lambda expected: expected.at)


def learned_release(
    target: str,
    times: Sequence[datetime],
    now: datetime,
    zone: ZoneInfo,
    weeks: int = DEFAULT_WEEKS,
    since: datetime | None = None,
) -> ExpectedRelease | None:
    """The soonest of `learned_patterns`, None without any."""
    patterns = learned_patterns(target, times, now, zone, weeks, since)
    return patterns[0] if patterns else None


def learned_detail(expected: ExpectedRelease) -> Detail:
    """What a person reads of a learned release: "lundi vers 09:00 ±10 min, 7 des 8
    dernières semaines" (in the reader's language and zone)."""
    window = int(expected.window.total_seconds()) // 60
    return Detail(
        "release.learned", at=expected.at, window=window, hits=expected.hits, weeks=expected.weeks
    )


def _best(
    target: str,
    left: Sequence[datetime],
    recent: Sequence[datetime],
    now: datetime,
    zone: ZoneInfo,
    span: tuple[datetime, int],
) -> ExpectedRelease | None:
    """The pattern around the release with the most others near it in the week's time that
    the evidence supports; None if none does. `span`: the history's start, and how many
    weeks back from `now` may count."""
    minutes = sorted(_minute_of_week(at, zone) for at in left)
    ring = [m - WEEK_MINUTES for m in minutes] + minutes + [m + WEEK_MINUTES for m in minutes]
    near = {seed: _near(ring, seed) for seed in minutes}
    rate = len(recent) / ((now - span[0]) / timedelta(minutes=1))
    ordered, tried = sorted(recent), set()
    for seed in sorted(near, key=lambda seed: -len(near[seed])):
        if len(near[seed]) < MIN_HITS:
            break
        pattern = _around(seed, near[seed])
        if pattern in tried:  # the seeds of one cluster mostly give the same pattern
            continue
        tried.add(pattern)
        occurrences = _occurrences(pattern, now, zone, span)
        window = timedelta(minutes=pattern.window)
        hits = sum(_any_within(ordered, when, window) for when in occurrences)
        if _evident(hits, len(occurrences), rate, pattern.window):
            return ExpectedRelease(
                target,
                _next_occurrence(pattern, now, zone),
                "learned",
                window=window,
                hits=hits,
                weeks=len(occurrences),
            )
    return None


def _near(ring: Sequence[float], seed: float) -> Sequence[float]:
    """The minutes of `ring` (sorted, the week repeated either side) within SEARCH of
    `seed`, unwrapped around it."""
    return ring[bisect.bisect_left(ring, seed - SEARCH) : bisect.bisect_right(ring, seed + SEARCH)]


def _any_within(ordered: Sequence[datetime], when: datetime, window: timedelta) -> bool:
    first = bisect.bisect_left(ordered, when - window)
    return first < len(ordered) and ordered[first] <= when + window


def _around(seed: float, members: Sequence[float]) -> _Pattern:
    """The centre of the releases near `seed` (their median, rounded) and the window that
    holds them all (rounded up, at least ROUND_TO)."""
    unwrapped = sorted(seed + _apart(m, seed) for m in members)
    middle = unwrapped[len(unwrapped) // 2]
    if len(unwrapped) % 2 == 0:
        middle = (middle + unwrapped[len(unwrapped) // 2 - 1]) / 2
    centre = round(middle / ROUND_TO) * ROUND_TO
    spread = max(abs(m - centre) for m in unwrapped)
    window = max(ROUND_TO, math.ceil(spread / ROUND_TO - 1e-9) * ROUND_TO)
    return _Pattern(centre % WEEK_MINUTES, window)


def _evident(hits: int, observed: int, rate: float, window: int) -> bool:
    """Enough weeks with a release in the window, and too many for chance: the chance
    that releases at random times (`rate` a minute, as many as there were) hit as many
    weeks, over every place in the week such a window could be, is at most CHANCE."""
    if hits < MIN_HITS or 2 * hits < observed:
        return False
    by_chance = 1 - math.exp(-rate * 2 * window)  # that a given week has one in the window
    tail = sum(
        math.comb(observed, k) * by_chance**k * (1 - by_chance) ** (observed - k)
        for k in range(hits, observed + 1)
    )
    places = WEEK_MINUTES / (2 * window)
    return tail * places <= CHANCE


def _occurrences(
    pattern: _Pattern, now: datetime, zone: ZoneInfo, span: tuple[datetime, int]
) -> list[datetime]:
    """The pattern's local instants in the weeks observed: whole windows after the
    history's start and before `now`, at most `span[1]` of them."""
    start, weeks = span
    window = timedelta(minutes=pattern.window)
    last = _on_or_after(pattern, now.astimezone(zone).date() - timedelta(days=6), zone)
    if last + window > now:
        last = _local(pattern, last.date() - timedelta(days=7), zone)
    instants = [_local(pattern, last.date() - timedelta(weeks=k), zone) for k in range(weeks)]
    return [at for at in instants if at - window >= start]


def _next_occurrence(pattern: _Pattern, now: datetime, zone: ZoneInfo) -> datetime:
    found = _on_or_after(pattern, now.astimezone(zone).date(), zone)
    return found if found > now else _local(pattern, found.date() + timedelta(days=7), zone)


def _on_or_after(pattern: _Pattern, day: date, zone: ZoneInfo) -> datetime:
    """The pattern's instant in the week starting on `day`."""
    return _local(pattern, day + timedelta(days=(pattern.weekday - day.weekday()) % 7), zone)


def _local(pattern: _Pattern, day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, pattern.time_of_day, tzinfo=zone)


def _minute_of_week(at: datetime, zone: ZoneInfo) -> float:
    local = at.astimezone(zone)
    return local.weekday() * 24 * 60 + local.hour * 60 + local.minute + local.second / 60


def _apart(minute: float, other: float) -> float:
    """How far `minute` is from `other` in the week's circle (negative: before it)."""
    return (minute - other + WEEK_MINUTES / 2) % WEEK_MINUTES - WEEK_MINUTES / 2
