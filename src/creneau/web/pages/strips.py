"""The status strips: a target's checks over a period cut into equal buckets, each shown by
one status (`available` when any check saw slots, else the most frequent), drawn by the
templates as an SVG of runs of equal status. Pure: the store counts, this decides."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.store.dashboard import BucketCount
from creneau.web.pages.texts import STATUS_WORDS, short_moment

# Ties between statuses as frequent as each other go to the first in this order.
ORDER = ("available", "blocked", "overloaded", "captcha", "closed", "error", "unknown", "none")
NO_CHECK = "never"
NO_CHECK_WORDS = {"fr": "aucune vérification", "en": "no check"}


@dataclass(frozen=True)
class Period:
    """`buckets` buckets of `bucket` each, ending at the first bucket boundary after now."""

    start: datetime
    bucket: timedelta
    buckets: int

    @classmethod
    def ending_at(cls, now: datetime, bucket: timedelta, buckets: int) -> Period:
        size = int(bucket.total_seconds())
        end = -(-int(now.timestamp()) // size) * size  # the next boundary (now, on one)
        start = datetime.fromtimestamp(end, UTC) - bucket * buckets
        return cls(start, bucket, buckets)

    def bucket_start(self, index: int) -> datetime:
        return self.start + self.bucket * index


DAY = (timedelta(minutes=30), 48)
WEEK = (timedelta(hours=1), 168)


@dataclass(frozen=True)
class Run:
    """Consecutive buckets with the same status: from bucket `start`, `length` of them."""

    start: int
    length: int
    status: str
    title: str


@dataclass(frozen=True)
class Strip:
    buckets: int
    runs: tuple[Run, ...]
    label: str  # what the whole strip says, for a screen reader


def bucket_status(counts: Counter[str]) -> str:
    if not counts:
        return NO_CHECK
    if counts.get("available"):
        return "available"
    return min(counts, key=lambda status: (-counts[status], _rank(status)))


def _rank(status: str) -> int:
    return ORDER.index(status) if status in ORDER else len(ORDER)


def strips_of(
    counts: Iterable[BucketCount],
    targets: Iterable[str],
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    language: str,
) -> dict[str, Strip]:
    """One strip per target, every bucket present (those without a check as NO_CHECK)."""
    by_bucket: dict[str, dict[int, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for count in counts:
        if 0 <= count.bucket < period.buckets:
            by_bucket[count.target][count.bucket][count.status] += count.checks
    return {
        target: _strip(by_bucket.get(target, {}), period, zone, now, language) for target in targets
    }


def _strip(
    buckets: dict[int, Counter[str]], period: Period, zone: ZoneInfo, now: datetime, language: str
) -> Strip:
    statuses = [
        bucket_status(buckets[index]) if index in buckets else NO_CHECK
        for index in range(period.buckets)
    ]
    runs: list[Run] = []
    first = 0
    for index in range(1, period.buckets + 1):
        if index == period.buckets or statuses[index] != statuses[first]:
            checks: Counter[str] = Counter()
            for inside in range(first, index):
                if inside in buckets:
                    checks.update(buckets[inside])
            title = _title(period, first, index, checks, zone, now, language)
            runs.append(Run(first, index - first, statuses[first], title))
            first = index
    seen = Counter(statuses)
    label = ", ".join(
        f"{strip_word(status, language)} × {count}" for status, count in seen.most_common()
    )
    return Strip(period.buckets, tuple(runs), label)


def _title(
    period: Period,
    first: int,
    end: int,
    checks: Counter[str],
    zone: ZoneInfo,
    now: datetime,
    language: str,
) -> str:
    """'05:30 – 06:00 : bloqué × 1, aucun créneau × 1': the run's checks by status."""
    since = short_moment(period.bucket_start(first), now, zone, language)
    until = short_moment(period.bucket_start(end), now, zone, language)
    ranked = sorted(checks, key=lambda status: (-checks[status], _rank(status)))
    said = ", ".join(f"{strip_word(status, language)} × {checks[status]}" for status in ranked)
    return (
        f"{since} – {until}{' : ' if language == 'fr' else ': '}{said or NO_CHECK_WORDS[language]}"
    )


def strip_word(status: str, language: str) -> str:
    if status == NO_CHECK:
        return NO_CHECK_WORDS[language]
    return STATUS_WORDS[language][status]
