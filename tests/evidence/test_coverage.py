"""How a record covers its period (issue 27): the local days with their outcome, the ISO weeks
(across a year boundary), the local hours of the day (across a change of time), the hourly
counts of the rolled-up past, and the ways the record is thinner than the decisions cited.
Every date derives from the instants the test sets, never from today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.evidence import Facts, Pages, Period, parse_period
from creneau.evidence.coverage import (
    MIN_DAYS,
    MIN_SPAN_DAYS,
    MIN_WEEKS,
    DayCoverage,
    DayOutcome,
    Thinness,
    WeekCoverage,
    build_coverage,
)
from creneau.results import Status
from creneau.store import CheckRecord
from creneau.store.evidence import TargetPeriod
from creneau.store.records import HourCount
from harness.records import check_record

PARIS = ZoneInfo("Europe/Paris")
# The test's clock: the export is made at this instant, after every period below.
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def a_check(at: datetime, status: Status, slots: int = 0) -> CheckRecord:
    return check_record(at, status, slot_count=slots)


def an_hour(hour: datetime, status: Status, checks: int) -> HourCount:
    return HourCount("nanterre", hour, status.value, checks, checks)


def facts_of(
    period: Period,
    checks: list[CheckRecord],
    hours: list[HourCount] | None = None,
    zone: ZoneInfo = PARIS,
) -> Facts:
    return Facts(
        target="nanterre",
        system="ezbooking",
        url="https://pref.example/booking/create/989",
        zone=zone,
        period=period,
        records=TargetPeriod(
            tuple(sorted(checks, key=lambda c: c.started_at)), tuple(hours or ()), ()
        ),
        pages=Pages({}, max_pages=10, left_out=0),
        keep_pages=True,
        retention=timedelta(days=90),
        generated_at=NOW,
    )


def period(since: str, until: str, zone: ZoneInfo = PARIS) -> Period:
    return parse_period(since, until, zone, NOW)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def test_every_local_day_of_the_period_with_its_counts_and_outcome() -> None:
    monday = paris(2026, 11, 2, 9, 0)
    checks = [
        a_check(monday, Status.NONE),
        a_check(monday + timedelta(hours=1), Status.BLOCKED),
        a_check(paris(2026, 11, 4, 8, 0), Status.AVAILABLE, slots=2),
        a_check(paris(2026, 11, 4, 8, 5), Status.NONE),
        a_check(paris(2026, 11, 5, 23, 30), Status.OVERLOADED),  # 22:30 UTC: still Thursday
    ]
    coverage = build_coverage(facts_of(period("2026-11-02", "2026-11-08"), checks))

    def tried(day: int, attempts: int, no_slot: int, slots: int, no_answer: int,
              first: datetime, last: datetime) -> DayCoverage:  # fmt: skip
        return DayCoverage(date(2026, 11, day), attempts, no_slot, slots, no_answer, first, last)

    def untried(day: int) -> DayCoverage:
        return DayCoverage(date(2026, 11, day), 0, 0, 0, 0, None, None)

    assert coverage.days == (
        tried(2, 2, 1, 0, 1, monday, monday + timedelta(hours=1)),
        untried(3),
        tried(4, 2, 1, 1, 0, paris(2026, 11, 4, 8, 0), paris(2026, 11, 4, 8, 5)),
        tried(5, 1, 0, 0, 1, paris(2026, 11, 5, 23, 30), paris(2026, 11, 5, 23, 30)),
        untried(6),
        untried(7),
        untried(8),
    )
    assert [day.outcome for day in coverage.days] == [
        DayOutcome.NO_SLOT,
        DayOutcome.NOT_TRIED,
        DayOutcome.SLOTS,
        DayOutcome.NO_ANSWER,
        DayOutcome.NOT_TRIED,
        DayOutcome.NOT_TRIED,
        DayOutcome.NOT_TRIED,
    ]
    assert (coverage.attempts, coverage.days_tried, coverage.weeks_tried) == (5, 3, 1)
    assert coverage.weeks == (WeekCoverage(2026, 45, date(2026, 11, 2), 5, 3),)
    assert coverage.weeks[0].label == "2026-W45"
    assert coverage.slots_offered


def test_iso_weeks_across_the_year_boundary() -> None:
    checks = [
        a_check(paris(2026, 12, 24, 10, 0), Status.NONE),
        a_check(paris(2026, 12, 31, 10, 0), Status.NONE),
        a_check(paris(2027, 1, 1, 10, 0), Status.NONE),  # a Friday of 2026-W53
        a_check(paris(2027, 1, 1, 11, 0), Status.CLOSED),
        a_check(paris(2027, 1, 5, 10, 0), Status.NONE),
    ]
    coverage = build_coverage(facts_of(period("2026-12-24", "2027-01-06"), checks))
    assert coverage.weeks == (
        WeekCoverage(2026, 52, date(2026, 12, 21), 1, 1),
        WeekCoverage(2026, 53, date(2026, 12, 28), 3, 2),
        WeekCoverage(2027, 1, date(2027, 1, 4), 1, 1),
    )
    assert [week.label for week in coverage.weeks] == ["2026-W52", "2026-W53", "2027-W01"]
    assert coverage.weeks_tried == 3
    rows = coverage.calendar()
    assert len(rows) == 3
    assert rows[0][:3] == [None, None, None]  # 21–23 December: before the period
    assert [cell.day if cell else None for cell in rows[0][3:]] == [
        date(2026, 12, day) for day in range(24, 28)
    ]
    assert [cell.day if cell else None for cell in rows[2]] == [
        date(2027, 1, 4),
        date(2027, 1, 5),
        date(2027, 1, 6),
        None,
        None,
        None,
        None,
    ]


def test_hours_of_the_day_are_local_across_the_change_of_time() -> None:
    # Sunday 25 October 2026, 03:00 CEST becomes 02:00 CET: 02:30 happens twice.
    checks = [
        a_check(datetime(2026, 10, 24, 6, 0, tzinfo=UTC), Status.NONE),  # 08:00 CEST
        a_check(datetime(2026, 10, 24, 22, 30, tzinfo=UTC), Status.NONE),  # 00:30 on the 25th
        a_check(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), Status.NONE),  # 02:30 CEST
        a_check(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), Status.NONE),  # 02:30 CET
        a_check(datetime(2026, 10, 26, 6, 0, tzinfo=UTC), Status.NONE),  # 07:00 CET
    ]
    coverage = build_coverage(facts_of(period("2026-10-24", "2026-10-26"), checks))
    expected = [0] * 24
    expected[0], expected[2], expected[7], expected[8] = 1, 2, 1, 1
    assert coverage.hours == tuple(expected)
    assert coverage.hours_tried == [0, 2, 7, 8]
    assert coverage.hour_ranges == [(0, 0), (2, 2), (7, 8)]
    assert [(day.day.day, day.attempts) for day in coverage.days] == [(24, 1), (25, 3), (26, 1)]


def test_hourly_counts_of_the_rolled_up_past_are_attempts() -> None:
    checks = [a_check(paris(2026, 11, 4, 9, 0), Status.NONE)]
    hours = [
        an_hour(paris(2026, 11, 2, 7, 0), Status.NONE, 12),
        an_hour(paris(2026, 11, 2, 7, 0), Status.BLOCKED, 3),
        an_hour(paris(2026, 11, 2, 22, 0), Status.NONE, 5),
        an_hour(paris(2026, 11, 3, 10, 0), Status.AVAILABLE, 1),
        an_hour(paris(2026, 11, 3, 10, 0), Status.NONE, 11),
    ]
    facts = facts_of(period("2026-11-02", "2026-11-04"), checks, hours)
    coverage = build_coverage(facts)
    assert coverage.days == (
        DayCoverage(date(2026, 11, 2), 20, 17, 0, 3, None, None),
        DayCoverage(date(2026, 11, 3), 12, 11, 1, 0, None, None),
        DayCoverage(date(2026, 11, 4), 1, 1, 0, 0, checks[0].started_at, checks[0].started_at),
    )
    assert [day.outcome for day in coverage.days] == [
        DayOutcome.NO_SLOT,
        DayOutcome.SLOTS,
        DayOutcome.NO_SLOT,
    ]
    assert coverage.attempts == facts.total == 33
    assert coverage.hour_ranges == [(7, 7), (9, 10), (22, 22)]
    assert coverage.hours[7] == 15
    assert coverage.slots_offered


def test_an_hour_overlapping_the_start_counts_on_the_first_day() -> None:
    # In Kolkata (UTC+05:30) the UTC hour 18:00–19:00 of 1 November holds the period's
    # first local half hour: it counts whole, on 2 November, as the summary's total does.
    kolkata = ZoneInfo("Asia/Kolkata")
    hours = [an_hour(datetime(2026, 11, 1, 18, 0, tzinfo=UTC), Status.NONE, 4)]
    facts = facts_of(period("2026-11-02", "2026-11-02", kolkata), [], hours, kolkata)
    coverage = build_coverage(facts)
    assert [(day.day, day.attempts) for day in coverage.days] == [(date(2026, 11, 2), 4)]
    assert coverage.attempts == facts.total
    assert coverage.hours_tried == [23]


def daily(first: date, days: int, hour: int = 10) -> list[CheckRecord]:
    return [
        a_check(paris(*(first + timedelta(days=n)).timetuple()[:3], hour, 0), Status.NONE)
        for n in range(days)
    ]


def test_thinness_against_the_decisions_thresholds() -> None:
    assert (MIN_WEEKS, MIN_DAYS, MIN_SPAN_DAYS) == (3, 11, 21)
    one_week = build_coverage(
        facts_of(period("2026-11-02", "2026-11-08"), daily(date(2026, 11, 2), 7))
    )
    assert one_week.thinness == (Thinness.FEW_WEEKS, Thinness.FEW_DAYS, Thinness.SHORT_SPAN)
    # As the record CE n° 435594 refused: Friday 13 to Wednesday 18, two ISO weeks.
    refused = build_coverage(
        facts_of(period("2019-09-13", "2019-09-18"), daily(date(2019, 9, 13), 6))
    )
    assert (refused.weeks_tried, refused.span_days) == (2, 6)
    assert refused.thinness == (Thinness.FEW_WEEKS, Thinness.FEW_DAYS, Thinness.SHORT_SPAN)
    # Three ISO weeks touched in nine days, every day: still less than three weeks long.
    nine_days = build_coverage(
        facts_of(period("2026-11-01", "2026-11-09"), daily(date(2026, 11, 1), 9))
    )
    assert (nine_days.weeks_tried, nine_days.span_days) == (3, 9)
    assert nine_days.thinness == (Thinness.FEW_DAYS, Thinness.SHORT_SPAN)
    four_weeks = build_coverage(
        facts_of(period("2026-11-02", "2026-11-29"), daily(date(2026, 11, 2), 28))
    )
    assert (four_weeks.weeks_tried, four_weeks.days_tried) == (4, 28)
    assert four_weeks.thinness == ()
    # Every other day for three weeks: 11 days, just enough.
    sparse = [c for n, c in enumerate(daily(date(2026, 11, 2), 21)) if n % 2 == 0]
    enough = build_coverage(facts_of(period("2026-11-02", "2026-11-22"), sparse))
    assert (enough.weeks_tried, enough.days_tried, enough.thinness) == (3, 11, ())
    fewer = build_coverage(facts_of(period("2026-11-02", "2026-11-22"), sparse[1:]))
    assert (fewer.weeks_tried, fewer.days_tried, fewer.span_days) == (3, 10, 19)
    assert fewer.thinness == (Thinness.FEW_DAYS, Thinness.SHORT_SPAN)
    nothing = build_coverage(facts_of(period("2026-11-02", "2026-11-29"), []))
    assert nothing.thinness == (Thinness.FEW_WEEKS, Thinness.FEW_DAYS, Thinness.SHORT_SPAN)
    assert not nothing.slots_offered


STATUSES = list(Status)
FIRST = datetime(2026, 12, 20, tzinfo=UTC)  # the period below spans the change of year


@settings(max_examples=60, deadline=None)
@given(
    checks=st.lists(
        st.tuples(st.integers(0, 24 * 60 * 40 - 1), st.sampled_from(STATUSES), st.integers(0, 3)),
        max_size=40,
    ),
    hours=st.lists(
        st.tuples(st.integers(0, 24 * 40 - 1), st.sampled_from(STATUSES), st.integers(1, 30)),
        max_size=20,
    ),
)
def test_attempts_are_the_total_and_weeks_add_up_to_days(
    checks: list[tuple[int, Status, int]], hours: list[tuple[int, Status, int]]
) -> None:
    span = Period(FIRST, FIRST + timedelta(days=40))
    records = [a_check(FIRST + timedelta(minutes=m), s, n) for m, s, n in checks]
    counts = [an_hour(FIRST + timedelta(hours=h), s, n) for h, s, n in hours]
    facts = facts_of(span, records, counts)
    coverage = build_coverage(facts)
    assert coverage.attempts == facts.total
    assert sum(week.attempts for week in coverage.weeks) == sum(d.attempts for d in coverage.days)
    assert sum(week.days_tried for week in coverage.weeks) == coverage.days_tried
    assert sum(coverage.hours) == facts.total
    assert all(d.attempts == d.no_slot + d.slots + d.no_answer for d in coverage.days)
    assert [cell for row in coverage.calendar() for cell in row if cell] == list(coverage.days)
    assert any(day.slots for day in coverage.days) == coverage.slots_offered
