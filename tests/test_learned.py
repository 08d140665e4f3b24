"""Weekly release patterns learned from history: exact from constructed histories, across a
change of summer time, several at once, and none from releases at random times."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from creneau.details import render
from creneau.expected import ExpectedRelease
from creneau.learned import learned_detail, learned_patterns, learned_release

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 9, 7, tzinfo=PARIS)  # a Monday, 00:00 local


def weekly(day: int, hour: int, minute: int, offsets: list[float | None]) -> list[datetime]:
    """A release on `day` at hour:minute local time, each week shifted by its offset in
    minutes (None: no release that week), from MONDAY's week on."""
    found = []
    for week, offset in enumerate(offsets):
        if offset is not None:
            local = datetime.combine(
                (MONDAY + timedelta(weeks=week, days=day)).date(),
                datetime.min.time().replace(hour=hour, minute=minute),
                tzinfo=PARIS,
            )
            found.append(local + timedelta(minutes=offset))
    return found


def after(weeks: int, days: float = 2) -> datetime:
    return MONDAY + timedelta(weeks=weeks, days=days)


def test_seven_mondays_of_eight_around_nine_make_a_pattern() -> None:
    times = weekly(0, 9, 0, [-8, 3, None, 9, -2, 5, 0, -6])
    now = after(7)  # the Wednesday of the eighth week
    assert learned_patterns("t", times, now, PARIS) == [
        ExpectedRelease(
            "t",
            datetime(2026, 11, 2, 9, 0, tzinfo=PARIS),  # the next Monday
            "learned",
            window=timedelta(minutes=10),
            hits=7,
            weeks=8,
        )
    ]


def test_a_pattern_keeps_its_local_hour_across_the_autumn_change() -> None:
    # 25 October 2026: the clocks go back an hour, 09:00 local moves from 07:00 to 08:00 UTC.
    times = weekly(1, 9, 30, [1, -2, 0, 2, -1, 1, 0, -3])
    now = after(7, days=3)
    found = learned_release("t", times, now, PARIS)
    assert found is not None
    assert (found.at, found.window, found.hits, found.weeks) == (
        datetime(2026, 11, 3, 9, 30, tzinfo=PARIS),
        timedelta(minutes=5),
        8,
        8,
    )
    assert found.at.astimezone(UTC).hour == 8  # winter time
    assert min(times).astimezone(UTC).hour == 7  # summer time


def test_several_patterns_come_soonest_first() -> None:
    mondays = weekly(0, 9, 0, [0, 2, -3, 1, None, 4, -1, 0])
    thursdays = weekly(3, 14, 30, [-10, 12, 0, 5, -7, None, 3, 8])
    now = after(7, days=3.5)  # Thursday noon of the eighth week: its release is still ahead
    found = learned_patterns("t", sorted(mondays + thursdays), now, PARIS)
    assert [(p.at, p.window, p.hits, p.weeks) for p in found] == [
        (datetime(2026, 10, 29, 14, 30, tzinfo=PARIS), timedelta(minutes=15), 6, 8),
        (datetime(2026, 11, 2, 9, 0, tzinfo=PARIS), timedelta(minutes=5), 7, 8),
    ]
    assert learned_release("t", sorted(mondays + thursdays), now, PARIS) == found[0]


def test_a_pattern_stands_out_of_a_fifth_of_releases_at_random() -> None:
    chance = random.Random(3)
    times = weekly(2, 10, 0, [chance.uniform(-10, 10) for _ in range(8)])
    noise = [MONDAY + timedelta(minutes=chance.uniform(0, 8 * 7 * 24 * 60)) for _ in range(2)]
    found = learned_release("t", sorted(times + noise), after(8, days=0), PARIS)
    assert found is not None
    assert (found.at, found.window, found.hits, found.weeks) == (
        datetime(2026, 11, 4, 10, 0, tzinfo=PARIS),
        timedelta(minutes=10),
        8,
        8,
    )


@pytest.mark.parametrize("per_week", [2, 5, 10, 20])
@pytest.mark.parametrize("seed", range(5))
def test_releases_at_random_times_make_no_pattern(per_week: int, seed: int) -> None:
    chance = random.Random(seed)
    times = sorted(
        MONDAY + timedelta(minutes=chance.uniform(0, 8 * 7 * 24 * 60)) for _ in range(8 * per_week)
    )
    assert learned_patterns("herault", times, after(8, days=0), PARIS) == []


def test_only_the_weeks_the_history_covers_count() -> None:
    times = weekly(0, 9, 0, [None, None, None, None, None, 0, 2, -1])
    now = after(7)
    assert learned_release("t", times, now, PARIS) is None  # 3 of 8: not half
    since = MONDAY + timedelta(weeks=5)  # the first check: the weeks before were not watched
    found = learned_release("t", times, now, PARIS, since=since)
    assert found is not None
    assert (found.hits, found.weeks) == (3, 3)


def test_too_few_weeks_make_no_pattern() -> None:
    times = weekly(0, 9, 0, [None, None, None, None, None, None, 0, 2])
    assert learned_release("t", times, after(7), PARIS, since=MONDAY + timedelta(weeks=6)) is None
    assert learned_release("t", times, after(7), PARIS, since=after(7)) is None  # just started


def test_a_learned_release_reads_in_both_languages() -> None:
    times = weekly(0, 9, 0, [-8, 3, None, 9, -2, 5, 0, -6])
    found = learned_release("t", times, after(7), PARIS)
    assert found is not None
    said = learned_detail(found)
    assert render(said, "fr", PARIS) == "lundi vers 09:00 ±10 min, 7 des 8 dernières semaines"
    assert render(said, "en", PARIS) == "Mondays around 09:00 ±10 min, 7 of the last 8 weeks"
