"""How well a record covers its period, in the terms the decisions on « référés mesures utiles »
use (creneau.evidence.references): attempts per day and per ISO week, the distinct weeks and
days tried, the hours of the day tried, whether a slot was ever offered, and the ways the
record is thinner than those decisions. Every recorded check is an attempt, whatever the site
answered: a refusal is also a failed attempt to book. Pure: computed from the export's Facts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from creneau.evidence.facts import Facts, saw_slots
from creneau.results import Status

# CE 10 juin 2020, n° 435594 asks for attempts "n'ayant pas été effectuées la même semaine"
# (and refused a record of 13–18 September 2019: six days, yet two ISO weeks); the tribunals
# that granted (TA Cergy n° 2010725, TA Paris n° 2016798/9) had attempts over at least three
# weeks. So a record is thin below three ISO weeks, and also below three weeks of span.
MIN_WEEKS = 3
# Practitioners advise a try every day or every other day: three weeks every other day.
MIN_DAYS = math.ceil(MIN_WEEKS * 7 / 2)
MIN_SPAN_DAYS = MIN_WEEKS * 7  # from the first day tried to the last, both counted


class DayOutcome(StrEnum):
    """What a day of the period saw, for the calendar's colour: the first that applies."""

    SLOTS = "slots"  # a slot was offered at least once
    NO_SLOT = "no_slot"  # the site said there was no slot
    NO_ANSWER = "no_answer"  # tried, but the site never showed its availability
    NOT_TRIED = "not_tried"  # no attempt that day


class Thinness(StrEnum):
    """A way the record is thinner than the decisions cited."""

    FEW_WEEKS = "few_weeks"  # attempts in fewer than MIN_WEEKS distinct ISO weeks
    FEW_DAYS = "few_days"  # attempts on fewer than MIN_DAYS distinct days
    SHORT_SPAN = "short_span"  # first and last attempts less than MIN_SPAN_DAYS apart


@dataclass(frozen=True)
class DayCoverage:
    """One local day of the period."""

    day: date
    attempts: int
    no_slot: int  # the site said there was no slot
    slots: int  # a slot was offered
    no_answer: int  # refused, overloaded, closed, CAPTCHA, error, page not recognised
    first: datetime | None  # the first and last detailed attempt (None: hourly counts only)
    last: datetime | None

    @property
    def outcome(self) -> DayOutcome:
        if self.slots:
            return DayOutcome.SLOTS
        if self.no_slot:
            return DayOutcome.NO_SLOT
        return DayOutcome.NO_ANSWER if self.attempts else DayOutcome.NOT_TRIED

    @property
    def iso_week(self) -> tuple[int, int]:
        year, week, _ = self.day.isocalendar()
        return year, week


@dataclass(frozen=True)
class WeekCoverage:
    """One ISO week (Monday to Sunday) that the period touches."""

    year: int
    week: int
    monday: date
    attempts: int
    days_tried: int

    @property
    def label(self) -> str:
        """'2026-W45'."""
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class Coverage:
    days: tuple[DayCoverage, ...]  # every local day of the period, in order
    weeks: tuple[WeekCoverage, ...]  # every ISO week the period touches, in order
    hours: tuple[int, ...]  # attempts per local hour of the day, 0 to 23
    slots_offered: bool

    @property
    def attempts(self) -> int:
        return sum(day.attempts for day in self.days)

    @property
    def weeks_tried(self) -> int:
        return sum(1 for week in self.weeks if week.attempts)

    @property
    def days_tried(self) -> int:
        return sum(1 for day in self.days if day.attempts)

    @property
    def hours_tried(self) -> list[int]:
        """The hours of the day (0–23, local) with at least one attempt."""
        return [hour for hour, attempts in enumerate(self.hours) if attempts]

    @property
    def hour_ranges(self) -> list[tuple[int, int]]:
        """The hours tried as runs of consecutive hours, first and last included:
        [(7, 9), (14, 22)]."""
        runs: list[tuple[int, int]] = []
        for hour in self.hours_tried:
            if runs and runs[-1][1] == hour - 1:
                runs[-1] = (runs[-1][0], hour)
            else:
                runs.append((hour, hour))
        return runs

    @property
    def span_days(self) -> int:
        """Days from the first day tried to the last, both counted (0: no attempt)."""
        tried = [day.day for day in self.days if day.attempts]
        return (tried[-1] - tried[0]).days + 1 if tried else 0

    @property
    def thinness(self) -> tuple[Thinness, ...]:
        found = []
        if self.weeks_tried < MIN_WEEKS:
            found.append(Thinness.FEW_WEEKS)
        if self.days_tried < MIN_DAYS:
            found.append(Thinness.FEW_DAYS)
        if self.span_days < MIN_SPAN_DAYS:
            found.append(Thinness.SHORT_SPAN)
        return tuple(found)

    def calendar(self) -> list[list[DayCoverage | None]]:
        """The period as calendar rows, one ISO week each, Monday first; a day outside the
        period is None."""
        by_day = {day.day: day for day in self.days}
        return [
            [by_day.get(week.monday + timedelta(days=offset)) for offset in range(7)]
            for week in self.weeks
        ]


def build_coverage(facts: Facts) -> Coverage:
    counts: dict[date, Counter[str]] = {}
    spans: dict[date, tuple[datetime, datetime]] = {}
    hours = [0] * 24

    def add(day: date, kind: str, attempts: int) -> None:
        counts.setdefault(day, Counter())[kind] += attempts

    for check in facts.checks:
        local = check.started_at.astimezone(facts.zone)
        add(local.date(), _kind(check.status, saw_slots(check)), 1)
        hours[local.hour] += 1
        first, last = spans.get(local.date(), (check.started_at, check.started_at))
        spans[local.date()] = (min(first, check.started_at), max(last, check.started_at))
    for hour in facts.records.hours:
        local = hour.hour.astimezone(facts.zone)
        # An hour that overlaps the period's start counts whole (as in the summary's total):
        # on the period's first day, not on a day before it.
        day = max(hour.hour, facts.period.start).astimezone(facts.zone).date()
        add(day, _kind(hour.status, hour.status == Status.AVAILABLE), hour.checks)
        hours[local.hour] += hour.checks
    days = tuple(_day(day, counts.get(day, Counter()), spans.get(day)) for day in _days_of(facts))
    return Coverage(days, _weeks(days), tuple(hours), facts.slots_offered)


def _kind(status: str, slots: bool) -> str:
    if slots:
        return "slots"
    return "no_slot" if status == Status.NONE else "no_answer"


def _day(day: date, counts: Counter[str], span: tuple[datetime, datetime] | None) -> DayCoverage:
    first, last = span if span else (None, None)
    return DayCoverage(
        day=day,
        attempts=sum(counts.values()),
        no_slot=counts["no_slot"],
        slots=counts["slots"],
        no_answer=counts["no_answer"],
        first=first,
        last=last,
    )


def _days_of(facts: Facts) -> Iterator[date]:
    """Every local day the period [start, end) touches."""
    first = facts.period.start.astimezone(facts.zone).date()
    last = (facts.period.end - timedelta(microseconds=1)).astimezone(facts.zone).date()
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _weeks(days: tuple[DayCoverage, ...]) -> tuple[WeekCoverage, ...]:
    weeks: dict[tuple[int, int], list[DayCoverage]] = {}
    for day in days:
        weeks.setdefault(day.iso_week, []).append(day)
    return tuple(
        WeekCoverage(
            year=year,
            week=week,
            monday=in_week[0].day - timedelta(days=in_week[0].day.weekday()),
            attempts=sum(day.attempts for day in in_week),
            days_tried=sum(1 for day in in_week if day.attempts),
        )
        for (year, week), in_week in weeks.items()
    )
