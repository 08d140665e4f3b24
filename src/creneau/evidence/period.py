"""The period an export covers, from `--since` and `--until` as people write them, and the
one-line error of a request that cannot be exported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.dates import OutOfRange, moment_from_text
from creneau.evidence.times import iso_utc

# An export states every day of its period (the calendar, the days tried): a lawyer needs
# weeks or months, and a period of centuries would only exhaust the machine.
MAX_PERIOD_DAYS = 3 * 366


class EvidenceError(ValueError):
    """A request that cannot be exported (bad dates, an unusable folder): one line."""


@dataclass(frozen=True)
class Period:
    """[start, end): both tz-aware UTC."""

    start: datetime
    end: datetime


def parse_period(since: str, until: str | None, zone: ZoneInfo, now: datetime) -> Period:
    """`--since 2026-11-01` starts at local midnight; `--until 2026-11-30` ends at the end of
    that day (local); a time (`2026-11-01T08:00`, local unless it has an offset) is exact.
    Without `--until`, the period ends now."""
    start = _moment("--since", since, zone, end_of_day=False)
    end = _moment("--until", until, zone, end_of_day=True) if until else now.astimezone(UTC)
    if end <= start:
        raise EvidenceError(
            f"the period is empty: its end ({iso_utc(end)}) is not after its start "
            f"({iso_utc(start)})"
        )
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise EvidenceError(
            f"the period is {(end - start).days} days long: an export covers at most "
            f"{MAX_PERIOD_DAYS} days (about three years); choose a shorter one"
        )
    return Period(start, end)


def _moment(option: str, text: str, zone: ZoneInfo, end_of_day: bool) -> datetime:
    try:
        return moment_from_text(text, zone, end_of_day=end_of_day).astimezone(UTC)
    except OutOfRange as problem:
        raise EvidenceError(f"{option}: {problem}") from None
    except ValueError:
        example = "2026-11-01 or 2026-11-01T08:00"
        raise EvidenceError(
            f'{option}: expected a date such as {example} (got "{text.strip()}")'
        ) from None
