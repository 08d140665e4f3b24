"""Adaptive polling against the fixed interval, at equal request counts: a simulated release
history (most releases on weekdays around 09:00, some at random), learnt from four weeks,
replayed over the next four. Pure date arithmetic with the daemon's own CheckPlan."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.figures import Figure
from creneau.plan import CheckPlan, adaptive_intervals, hour_of_week
from creneau.targets import INTERVAL_FLOOR

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 9, 7, 0, 0, tzinfo=PARIS)  # a Monday
EVERY = timedelta(minutes=5)
JITTER = timedelta(seconds=30)


def releases(weeks: range, chance: random.Random) -> list[datetime]:
    found = []
    for week in weeks:
        monday = START + timedelta(weeks=week)
        for day in range(5):
            nine = monday + timedelta(days=day, hours=9)
            found.append(nine + timedelta(minutes=chance.gauss(0, 4)))
        for _ in range(2):  # the préfecture sometimes releases at odd times
            found.append(monday + timedelta(seconds=chance.uniform(0, 7 * 86400)))
    return sorted(found)


def replay(
    plan: CheckPlan, start: datetime, end: datetime, released: list[datetime], chance: random.Random
) -> tuple[int, list[float]]:
    checks = [start]
    while checks[-1] < end:
        checks.append(plan.next_check(checks[-1], rand=chance.random))
    delays, index = [], 0
    for release in released:
        while checks[index] < release:
            index += 1
        delays.append((checks[index] - release).total_seconds())
    return len(checks), delays


def measure() -> list[Figure]:
    chance = random.Random(7)
    learnt = releases(range(4), chance)
    tested = releases(range(4, 8), chance)
    intervals = adaptive_intervals(
        [hour_of_week(at, PARIS) for at in learnt], EVERY, INTERVAL_FLOOR
    )
    start, end = START + timedelta(weeks=4), START + timedelta(weeks=8)
    fixed = CheckPlan(EVERY, JITTER, PARIS)
    adaptive = CheckPlan(EVERY, JITTER, PARIS, adaptive=intervals)
    fixed_checks, fixed_delays = replay(fixed, start, end, tested, random.Random(1))
    adaptive_checks, adaptive_delays = replay(adaptive, start, end, tested, random.Random(1))
    details = {
        "releases": len(tested),
        "fixed_checks": fixed_checks,
        "adaptive_checks": adaptive_checks,
        "fixed_p90_s": round(statistics.quantiles(fixed_delays, n=10)[-1]),
        "adaptive_p90_s": round(statistics.quantiles(adaptive_delays, n=10)[-1]),
    }
    fixed_median = statistics.median(fixed_delays)
    adaptive_median = statistics.median(adaptive_delays)
    return [
        Figure(
            "adaptive",
            "median detection delay, fixed 5 min interval",
            round(fixed_median),
            "s",
            details=details,
        ),
        Figure(
            "adaptive",
            "median detection delay, adaptive (same checks or fewer)",
            round(adaptive_median),
            "s",
            target="< fixed, with checks ≤ fixed",
            ok=adaptive_median < fixed_median and adaptive_checks <= fixed_checks * 1.01,
            details=details,
        ),
    ]
