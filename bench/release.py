"""Releases at an expected time (issue 26), one scenario after the other in `measure`.

Learned: a préfecture that releases on a weekly pattern (a weekday and a quarter hour drawn
per run, each release within ±10 min of it at a random second) with a fifth of its releases
at random times of the week. Eight weeks polled every 5 minutes make its history (each
release placed halfway between the check that saw it and the one before, as
`history.release_times` does); the daemon's own `learned_patterns` and `aimed_checks` plan
the next four weeks, replayed against fixed 5-minute polling on the same releases. Pure date
arithmetic with the daemon's own CheckPlan, as bench/adaptive.py."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench import announced
from bench.adaptive import replay
from bench.figures import Figure
from creneau.learned import learned_patterns
from creneau.plan import Aimed, CheckPlan, aimed_checks
from creneau.targets import INTERVAL_FLOOR

SECTION = "release"
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 9, 7, 0, 0, tzinfo=PARIS)  # a Monday; the runs cross October's change
EVERY = timedelta(minutes=5)
JITTER = timedelta(seconds=30)
LEARN_WEEKS, REPLAY_WEEKS = 8, 4
SPREAD = timedelta(minutes=10)  # releases within this of the weekly time
NOISE = 1 / 5  # of the releases, at random times of the week
RUNS = 60  # préfectures, each with its own weekly time: 300 releases replayed


@dataclass
class Learned:
    """What the runs of the learned scenario measured, added up."""

    fixed: list[float] = field(default_factory=list)
    aimed: list[float] = field(default_factory=list)
    aimed_on_pattern: list[float] = field(default_factory=list)  # the pattern's releases only
    fixed_checks: int = 0
    aimed_checks: int = 0
    found: int = 0  # runs where the pattern was learned


def weekly_releases(
    weeks: range, weekday: int, minute: int, chance: random.Random
) -> tuple[list[datetime], list[datetime]]:
    """The pattern's releases (one a week, local time) and the noise (a fifth of all)."""
    pattern = []
    for week in weeks:
        day = (START + timedelta(weeks=week, days=weekday)).date()
        at = datetime.combine(day, datetime.min.time(), tzinfo=PARIS) + timedelta(minutes=minute)
        pattern.append(at + timedelta(seconds=chance.uniform(-1, 1) * SPREAD.total_seconds()))
    noisy = round(len(pattern) * NOISE / (1 - NOISE))
    first, span = START + timedelta(weeks=weeks.start), timedelta(weeks=len(weeks))
    noise = [first + span * chance.random() for _ in range(noisy)]
    return pattern, noise


def observed(
    plan: CheckPlan, released: list[datetime], start: datetime, end: datetime
) -> list[datetime]:
    """When each release most likely happened, as the history would say it: halfway between
    the check that saw it and the one before."""
    checks = [start]
    chance = random.Random(0)
    while checks[-1] < end:
        checks.append(plan.next_check(checks[-1], rand=chance.random))
    placed, index = [], 0
    for release in sorted(released):
        while checks[index] < release:
            index += 1
        if index:
            placed.append(checks[index] - (checks[index] - checks[index - 1]) / 2)
    return placed


def learn(weekday: int, minute: int, chance: random.Random) -> Aimed | None:
    """Eight weeks polled every 5 minutes, and the plan the daemon would aim from them."""
    fixed = CheckPlan(EVERY, JITTER, PARIS, floor=INTERVAL_FLOOR)
    end = START + timedelta(weeks=LEARN_WEEKS)
    pattern, noise = weekly_releases(range(LEARN_WEEKS), weekday, minute, chance)
    times = observed(fixed, [*pattern, *noise], START, end)
    patterns = learned_patterns("bench", times, end, PARIS, weeks=LEARN_WEEKS)
    return aimed_checks(patterns, EVERY, INTERVAL_FLOOR, PARIS)


def one_run(run: int, totals: Learned) -> None:
    chance = random.Random(run)
    weekday, minute = chance.randrange(5), chance.randrange(8 * 4, 17 * 4) * 15
    aimed = learn(weekday, minute, chance)
    totals.found += aimed is not None
    start = START + timedelta(weeks=LEARN_WEEKS)
    end = start + timedelta(weeks=REPLAY_WEEKS)
    weeks = range(LEARN_WEEKS, LEARN_WEEKS + REPLAY_WEEKS)
    pattern, noise = weekly_releases(weeks, weekday, minute, chance)
    released = sorted([*pattern, *noise])
    fixed = CheckPlan(EVERY, JITTER, PARIS, floor=INTERVAL_FLOOR)
    count, delays = replay(fixed, start, end, released, random.Random(run))
    totals.fixed += delays
    totals.fixed_checks += count
    plan = CheckPlan(EVERY, JITTER, PARIS, floor=INTERVAL_FLOOR, aimed=aimed)
    count, delays = replay(plan, start, end, released, random.Random(run))
    totals.aimed += delays
    totals.aimed_checks += count
    on_pattern = set(pattern)
    totals.aimed_on_pattern += [
        delay for at, delay in zip(released, delays, strict=True) if at in on_pattern
    ]


def learned() -> list[Figure]:
    totals = Learned()
    for run in range(RUNS):
        one_run(run, totals)
    weeks = RUNS * REPLAY_WEEKS
    fixed_weekly, aimed_weekly = totals.fixed_checks / weeks, totals.aimed_checks / weeks
    details = {
        "runs": RUNS,
        "releases": len(totals.aimed),
        "patterns_learned": totals.found,
        "fixed_checks_per_week": round(fixed_weekly, 1),
        "aimed_checks_per_week": round(aimed_weekly, 1),
        "fixed_p90_s": round(statistics.quantiles(totals.fixed, n=10)[-1]),
        "aimed_p90_s": round(statistics.quantiles(totals.aimed, n=10)[-1]),
    }
    aimed_median = statistics.median(totals.aimed)
    return [
        Figure(
            SECTION,
            "learned: median detection delay, fixed 5 min interval",
            round(statistics.median(totals.fixed)),
            "s",
            details=details,
        ),
        Figure(
            SECTION,
            "learned: median detection delay, aimed at the pattern (same checks or fewer)",
            round(aimed_median),
            "s",
            target="≤ 30 s, with checks ≤ fixed",
            ok=aimed_median <= 30 and aimed_weekly <= fixed_weekly,
            details=details,
        ),
        Figure(
            SECTION,
            "learned: median detection delay, aimed, the pattern's releases only",
            round(statistics.median(totals.aimed_on_pattern)),
            "s",
            details=details,
        ),
        Figure(SECTION, "learned: checks per week, fixed 5 min", round(fixed_weekly, 1), "/week"),
        Figure(
            SECTION,
            "learned: checks per week, aimed at the pattern",
            round(aimed_weekly, 1),
            "/week",
            target="≤ fixed",
            ok=aimed_weekly <= fixed_weekly,
        ),
    ]


SCENARIOS: tuple[Callable[[], list[Figure]], ...] = (announced.measure, learned)


def measure() -> list[Figure]:
    return [figure for scenario in SCENARIOS for figure in scenario()]
