"""Checks aimed at learned release patterns: each pattern's window at the floor, the rest of
the week evenly, as many checks a week as `every` alone; and the daemon's schedule aiming an
adaptive target at the patterns its history shows (else adaptive by hour, as before)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from creneau.config import Config
from creneau.daemon import schedule as schedule_module
from creneau.daemon.context import DaemonContext
from creneau.daemon.schedule import BurstAccount, PoliteTrigger, Schedule
from creneau.expected import ExpectedRelease
from creneau.plan import Aimed, CheckPlan, Spacing, Window, aimed_checks
from creneau.targets import TargetBase

PARIS = ZoneInfo("Europe/Paris")
FLOOR = timedelta(seconds=60)
EVERY = timedelta(minutes=5)
JITTER = timedelta(seconds=30)


def learned(at: datetime, minutes: int) -> ExpectedRelease:
    return ExpectedRelease("t", at, "learned", window=timedelta(minutes=minutes), hits=7, weeks=8)


def week_of_checks(plan: CheckPlan, start: datetime) -> list[datetime]:
    chance = random.Random(5)
    checks = [start]
    while checks[-1] < start + timedelta(weeks=1):
        checks.append(plan.next_check(checks[-1], rand=chance.random))
    return checks[:-1]


def aimed_plan(aimed: Aimed | None) -> CheckPlan:
    return CheckPlan(EVERY, JITTER, PARIS, floor=FLOOR, aimed=aimed)


def test_a_pattern_s_window_is_checked_at_the_floor_and_the_week_costs_what_every_does() -> None:
    monday_nine = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    aimed = aimed_checks([learned(monday_nine, 10)], EVERY, FLOOR, PARIS)
    assert aimed is not None
    assert (aimed.windows, aimed.every) == ((Window.parse("Mon 08:50-09:10"),), FLOOR)
    checks = week_of_checks(aimed_plan(aimed), datetime(2026, 11, 18, 12, 0, tzinfo=PARIS))
    assert len(checks) == pytest.approx(timedelta(weeks=1) / EVERY, rel=0.01)
    gaps = [later - earlier for earlier, later in itertools.pairwise(checks)]
    assert min(gaps) >= FLOOR  # never below the floor
    window = timedelta(minutes=10)
    in_window = [at for at in checks if monday_nine - window <= at < monday_nine + window]
    assert in_window[0] == monday_nine - timedelta(minutes=10)  # from the window's opening
    assert [b - a for a, b in itertools.pairwise(in_window)] == [FLOOR] * 19
    assert max(gaps) > EVERY  # the rest of the week lends its checks to the window


def test_a_window_keeps_its_local_time_across_the_autumn_change() -> None:
    # Sunday 25 October 2026: the clocks go back an hour in Paris.
    tuesday = datetime(2026, 10, 27, 10, 0, tzinfo=PARIS)
    aimed = aimed_checks([learned(tuesday, 5)], EVERY, FLOOR, PARIS)
    checks = week_of_checks(aimed_plan(aimed), datetime(2026, 10, 21, 12, 0, tzinfo=PARIS))
    opening = datetime(2026, 10, 27, 9, 55, tzinfo=PARIS)
    assert opening in checks
    assert opening + 9 * FLOOR in checks
    assert len(checks) == pytest.approx(timedelta(weeks=1) / EVERY, rel=0.01)


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    sunday_late = datetime(2026, 11, 29, 23, 55, tzinfo=PARIS)
    aimed = aimed_checks([learned(sunday_late, 10)], EVERY, FLOOR, PARIS)
    assert aimed is not None
    assert aimed.windows == (Window.parse("Sun 23:45-00:05"),)


def test_windows_that_would_need_more_checks_than_their_share_are_checked_less_often() -> None:
    every = timedelta(hours=6)  # 28 checks a week: not enough for 40 minutes at the floor
    monday_nine = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    aimed = aimed_checks([learned(monday_nine, 20)], every, FLOOR, PARIS)
    assert aimed is not None
    assert FLOOR < aimed.every < every
    weekly = timedelta(minutes=40) / aimed.every + (timedelta(weeks=1, minutes=-40)) / aimed.rest
    # One check kept aside for the window's opening, which cuts an interval short.
    assert weekly + 1 == pytest.approx(timedelta(weeks=1) / every)


def test_no_aim_without_a_pattern_or_when_every_is_the_floor_already() -> None:
    assert aimed_checks([], EVERY, FLOOR, PARIS) is None
    monday_nine = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    assert aimed_checks([learned(monday_nine, 10)], FLOOR, FLOOR, PARIS) is None
    assert aimed_checks([learned(monday_nine, 10)], timedelta(days=3), FLOOR, PARIS) is None


# --- the daemon's schedule ---------------------------------------------------------------------


@dataclass
class Context:
    """What Schedule.plan reads of a daemon's context."""

    config: Config
    now: Callable[[], datetime]
    store: object = None

    async def db(self, function: Callable[..., Any], *args: Any) -> Any:
        return function(*args)


NOW = datetime(2026, 11, 18, 12, 0, tzinfo=PARIS)  # a Wednesday


async def no_check(_target: TargetBase) -> object:
    return None


def schedule_with(monkeypatch: pytest.MonkeyPatch, times: list[datetime]) -> Schedule:
    config = Config.model_validate(
        {
            "creneau": {"database": "sqlite://", "contact": "tests@example.org"},
            "target": [
                {
                    "name": "t",
                    "system": "ezbooking",
                    "url": "https://pprdv.interieur.gouv.fr/booking/create/989",
                    "every": "5m",
                    "adaptive": True,
                }
            ],
        }
    )
    monkeypatch.setattr(schedule_module.history, "release_times", lambda _store, _name: times)
    monkeypatch.setattr(
        schedule_module.history, "first_check", lambda _store, _name: NOW - timedelta(weeks=9)
    )
    context = cast(DaemonContext, Context(config, lambda: NOW))
    return Schedule(context, check=no_check)


def mondays_at_nine(weeks: int) -> list[datetime]:
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=PARIS)
    return [monday - timedelta(weeks=week, minutes=3 * (week % 3)) for week in range(weeks)]


async def test_an_adaptive_target_with_a_pattern_is_aimed_at_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schedule = schedule_with(monkeypatch, mondays_at_nine(8))
    target = schedule.context.config.targets[0]
    plan = await schedule.plan(target)
    assert plan.aimed is not None
    assert (plan.aimed.windows, plan.aimed.every) == ((Window.parse("Mon 08:50-09:00"),), FLOOR)
    assert plan.adaptive is None


async def test_without_a_pattern_an_adaptive_target_is_shaped_by_hours_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chance = random.Random(2)
    scattered = [NOW - timedelta(minutes=chance.uniform(0, 8 * 7 * 24 * 60)) for _ in range(20)]
    schedule = schedule_with(monkeypatch, sorted(scattered))
    plan = await schedule.plan(schedule.context.config.targets[0])
    assert plan.aimed is None
    assert plan.adaptive is not None


async def test_a_store_failure_leaves_an_adaptive_target_on_its_every(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schedule = schedule_with(monkeypatch, [])

    def fails(_store: object, _name: str) -> list[datetime]:
        raise OSError("the database is gone")  # one of STORE_FAILURES

    monkeypatch.setattr(schedule_module.history, "release_times", fails)
    plan = await schedule.plan(schedule.context.config.targets[0])
    assert (plan.aimed, plan.adaptive, plan.every) == (None, None, timedelta(minutes=5))


def test_a_burst_s_checks_are_paid_back_outside_the_learned_windows() -> None:
    monday_nine = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    aimed = aimed_checks([learned(monday_nine, 10)], EVERY, FLOOR, PARIS)
    assert aimed is not None
    account = BurstAccount()
    account.owe("t")
    trigger = PoliteTrigger("t", aimed_plan(aimed), Spacing(), account)
    inside = monday_nine - timedelta(minutes=5)
    assert trigger.get_next_fire_time(inside, inside) == inside + FLOOR
    assert account.owed["t"] == 1
    outside = monday_nine + timedelta(hours=2)
    later = trigger.get_next_fire_time(outside, outside)
    assert later - outside >= 2 * (aimed.rest - JITTER / 2)  # one interval counted twice
    assert account.owed["t"] == 0
