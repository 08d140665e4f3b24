"""Check windows, burst windows and spacing: pure date arithmetic, DST included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.daemon.schedule import RETRY_PLANNING_AFTER, BurstAccount, PoliteTrigger
from creneau.plan import (
    CheckPlan,
    Spacing,
    Window,
    adaptive_intervals,
    inside,
    next_opening,
)

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("Mon-Fri 07:30-18:30", {0, 1, 2, 3, 4}, "07:30", "18:30"),
        ("Sun 23:30-00:30", {6}, "23:30", "00:30"),
        ("Fri-Mon 08:00-09:00", {4, 5, 6, 0}, "08:00", "09:00"),
        ("mon,wed 9:00-10:00", {0, 2}, "09:00", "10:00"),
        ("lun-ven 08:45-09:15", {0, 1, 2, 3, 4}, "08:45", "09:15"),
        ("daily 00:00-24:00", set(range(7)), "00:00", "00:00"),
    ],
)
def test_window_forms(text: str, days: set[int], start: str, end: str) -> None:
    window = Window.parse(text)
    assert (set(window.days), f"{window.start:%H:%M}", f"{window.end:%H:%M}") == (days, start, end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weekdays", 'expected days and hours such as "Mon-Fri 07:30-18:30" (got "weekdays")'),
        (
            "Mon-Fry 07:00-08:00",
            'unknown day in "Mon-Fry 07:00-08:00" (use Mon Tue Wed Thu Fri Sat Sun)',
        ),
        ("Mon 25:00-26:00", 'invalid time "25:00" in "Mon 25:00-26:00"'),
        ("Mon 09:00-09:00", 'the window "Mon 09:00-09:00" is empty: start and end are equal'),
    ],
)
def test_window_mistakes(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Window.parse(text)


def test_a_window_past_midnight_belongs_to_its_first_day() -> None:
    window = [Window.parse("Sun 23:30-00:30")]
    assert inside(window, paris(2026, 11, 29, 23, 45), PARIS)  # Sunday night
    assert inside(window, paris(2026, 11, 30, 0, 15), PARIS)  # Monday, just after midnight
    assert not inside(window, paris(2026, 11, 30, 0, 30), PARIS)
    assert not inside(window, paris(2026, 11, 24, 0, 15), PARIS)  # Tuesday 00:15


def test_windows_follow_local_time_across_the_spring_change() -> None:
    windows = [Window.parse("Mon-Fri 07:30-18:30")]
    # Friday 27 March 2026 is CET (+01:00); Monday 30 March is CEST (+02:00).
    friday_close = paris(2026, 3, 27, 18, 30)
    opening = next_opening(windows, friday_close, PARIS)
    assert opening.astimezone(PARIS).isoformat() == "2026-03-30T07:30:00+02:00"
    assert opening.astimezone(UTC).isoformat() == "2026-03-30T05:30:00+00:00"


def test_windows_follow_local_time_across_the_autumn_change() -> None:
    windows = [Window.parse("Sun 23:30-00:30")]
    after = paris(2026, 10, 24, 12, 0)  # Saturday, CEST; the clocks go back that night
    opening = next_opening(windows, after, PARIS)
    assert opening.astimezone(PARIS).isoformat() == "2026-10-25T23:30:00+01:00"


def test_next_opening_inside_a_window_is_now() -> None:
    now = paris(2026, 11, 24, 10, 0)
    assert next_opening([Window.parse("Mon-Fri 07:30-18:30")], now, PARIS) == now


def plan(**fields: object) -> CheckPlan:
    defaults: dict[str, object] = {
        "every": timedelta(minutes=5),
        "jitter": timedelta(0),
        "zone": PARIS,
    }
    return CheckPlan(**{**defaults, **fields})  # type: ignore[arg-type]


def test_jitter_is_half_either_side_of_the_interval() -> None:
    rule = plan(jitter=timedelta(seconds=30))
    previous = paris(2026, 11, 24, 10, 0)
    assert [rule.next_check(previous, rand=lambda r=r: r) - previous for r in (0, 0.5, 1)] == [
        timedelta(minutes=4, seconds=45),
        timedelta(minutes=5),
        timedelta(minutes=5, seconds=15),
    ]


def test_jitter_never_brings_checks_closer_than_the_floor() -> None:
    rule = plan(
        every=timedelta(seconds=60), jitter=timedelta(seconds=30), floor=timedelta(seconds=60)
    )
    previous = paris(2026, 11, 24, 10, 0)
    assert rule.next_check(previous, rand=lambda: 0.0) - previous == timedelta(seconds=60)


def test_outside_the_windows_the_next_check_waits_for_the_opening() -> None:
    rule = plan(windows=(Window.parse("Mon-Fri 07:30-18:30"),), jitter=timedelta(seconds=20))
    friday_evening = paris(2026, 11, 27, 18, 28)
    assert rule.next_check(friday_evening, rand=lambda: 0.5) == paris(2026, 11, 30, 7, 30, 10)


def test_a_burst_window_pulls_the_next_check_to_its_start_and_shortens_the_interval() -> None:
    rule = plan(
        every=timedelta(hours=1),
        burst_windows=(Window.parse("Mon-Fri 08:50-09:10"),),
        burst_every=timedelta(minutes=1),
    )
    first = rule.next_check(paris(2026, 11, 24, 8, 10), rand=lambda: 0.0)
    assert first == paris(2026, 11, 24, 8, 50)
    checks = [first]
    while checks[-1] < paris(2026, 11, 24, 9, 10):
        checks.append(rule.next_check(checks[-1], rand=lambda: 0.0))
    assert len(checks) == 21  # every minute from 08:50 to 09:10
    assert checks[-1] == paris(2026, 11, 24, 9, 10)
    assert rule.next_check(checks[-1], rand=lambda: 0.0) == paris(2026, 11, 24, 10, 10)


def test_first_check_outside_windows_waits() -> None:
    rule = plan(windows=(Window.parse("Mon-Fri 07:30-18:30"),))
    assert rule.first_check(paris(2026, 11, 28, 12, 0), rand=lambda: 0.0) == paris(
        2026, 11, 30, 7, 30
    )


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=2, max_size=40))
def test_spacing_never_puts_two_targets_in_the_same_second(offsets: list[float]) -> None:
    spacing = Spacing()
    base = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    planned = [
        spacing.reserve(f"t{i}", base + timedelta(seconds=offset))
        for i, offset in enumerate(offsets)
    ]
    seconds = [int(when.timestamp()) for when in planned]
    assert len(set(seconds)) == len(seconds)
    for asked, got in zip(offsets, planned, strict=True):
        assert (
            timedelta(0)
            <= got - (base + timedelta(seconds=asked))
            <= timedelta(seconds=len(offsets))
        )


def test_spacing_frees_a_target_s_previous_second() -> None:
    spacing = Spacing()
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    spacing.reserve("a", at)
    spacing.reserve("a", at + timedelta(minutes=5))
    assert spacing.reserve("b", at) == at


def test_adaptive_intervals_spend_the_same_checks_where_releases_happened() -> None:
    every = timedelta(hours=2)  # few enough checks that no hour reaches the floor
    mondays_at_nine = [9] * 10  # hour of week 9: Monday 09:00-09:59
    intervals = adaptive_intervals(mondays_at_nine, every, timedelta(seconds=60))
    assert intervals is not None
    weekly = sum(timedelta(hours=1) / interval for interval in intervals)
    assert weekly == pytest.approx(timedelta(days=7) / every)  # the same budget
    assert intervals[9] < intervals[8] == intervals[10] < intervals[40]  # hot, warm, cold
    assert intervals[40] > every  # cold hours get fewer checks than the fixed interval


def test_the_floor_caps_an_hour_and_the_rest_goes_to_the_others() -> None:
    floor, every = timedelta(seconds=60), timedelta(seconds=90)
    intervals = adaptive_intervals([9] * 1000, every, floor)
    assert intervals is not None
    assert min(intervals) == floor
    weekly = sum(timedelta(hours=1) / interval for interval in intervals)
    assert weekly == pytest.approx(timedelta(days=7) / every)
    assert adaptive_intervals([], timedelta(minutes=5), floor) is None


def test_an_adaptive_plan_checks_more_often_in_the_hot_hour() -> None:
    intervals = adaptive_intervals([9] * 10, timedelta(minutes=5), timedelta(seconds=60))
    rule = plan(adaptive=intervals)
    hot = paris(2026, 11, 23, 9, 10)  # a Monday
    cold = paris(2026, 11, 25, 16, 10)  # a Wednesday afternoon
    assert rule.next_check(hot, rand=lambda: 0.0) - hot < timedelta(minutes=2)
    waited = rule.next_check(cold, rand=lambda: 0.0) - cold
    assert waited > timedelta(minutes=5)  # the cold hours lend their checks to the hot one


def test_a_plan_that_overflows_never_stops_the_scheduler(caplog: pytest.LogCaptureFixture) -> None:
    plan = CheckPlan(every=timedelta(days=999_999_999), jitter=timedelta(0), zone=PARIS)
    trigger = PoliteTrigger("huge", plan, Spacing(), BurstAccount())
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert trigger.get_next_fire_time(now, now) == now + RETRY_PLANNING_AFTER
    assert "huge: cannot plan its next check" in caplog.text
