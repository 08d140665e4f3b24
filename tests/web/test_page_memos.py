"""The overview's and the target pages' store reads are kept until a check is recorded or
the strip moves on: a page refreshed every 20 s costs one small query, and never shows a
stale check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.store import Store
from creneau.web.pages.overview import RecordsMemo, read_records
from creneau.web.pages.strips import DAY, WEEK, Period
from creneau.web.pages.target import HistoryMemo, read_history

NOW = datetime(2030, 3, 6, 8, 0, tzinfo=UTC)  # the test's clock
URL = "https://pref.example/booking/create/1"


def checked(store: Store, status: Status, at: datetime) -> None:
    result = CheckResult("nanterre", "ezbooking", URL, status, at)
    record(store, result, Routing(ZoneInfo("Europe/Paris")))


def test_the_records_are_read_again_once_a_check_is_recorded(store: Store) -> None:
    memo = RecordsMemo()
    period = Period.ending_at(NOW, *DAY)
    checked(store, Status.NONE, NOW - timedelta(minutes=10))
    first = read_records(store, ["nanterre"], period, memo)
    assert first.latest["nanterre"].status == "none"
    assert read_records(store, ["nanterre"], period, memo) is first  # nothing new: kept

    checked(store, Status.BLOCKED, NOW - timedelta(minutes=5))
    second = read_records(store, ["nanterre"], period, memo)
    assert second is not first
    assert second.latest["nanterre"].status == "blocked"

    later = Period.ending_at(NOW + timedelta(hours=1), *DAY)  # the strip moved on
    assert read_records(store, ["nanterre"], later, memo) is not second
    assert read_records(store, ["nanterre", "lyon"], later, memo).latest.keys() == {"nanterre"}


def test_a_targets_history_is_read_again_once_a_check_is_recorded(store: Store) -> None:
    memo = HistoryMemo()
    zone = ZoneInfo("Europe/Paris")
    week = Period.ending_at(NOW, *WEEK)
    checked(store, Status.NONE, NOW - timedelta(minutes=10))
    first = memo.read(store, "nanterre", zone, NOW, week)
    assert [check.status for check in first.recent] == ["none"]
    assert memo.read(store, "nanterre", zone, NOW, week) is first

    checked(store, Status.BLOCKED, NOW - timedelta(minutes=5))
    second = memo.read(store, "nanterre", zone, NOW, week)
    assert [check.status for check in second.recent] == ["blocked", "none"]
    assert memo.read(store, "lyon", zone, NOW, week).recent == []


def test_a_target_page_reads_the_same_on_postgresql(store: Store, postgres_store: Store) -> None:
    """The page's statements built once and run with values (the strips' counts, the day
    grid of the uptime, the check before a release) read the same on both databases."""
    zone = ZoneInfo("Europe/Paris")
    week = Period.ending_at(NOW, *WEEK)
    slot = Slot(NOW + timedelta(days=9), "1", "Guichet 1", "k1")
    for database in (store, postgres_store):
        for minutes in range(600, 0, -20):  # ten hours, every 20 minutes
            at = NOW - timedelta(minutes=minutes)
            status = Status.AVAILABLE if 120 >= minutes > 40 else Status.NONE
            status = Status.BLOCKED if minutes == 300 else status
            slots = (slot,) if status is Status.AVAILABLE else ()
            guichets = (GuichetResult("1", "Guichet 1", status, slots),)
            result = CheckResult("nanterre", "ezbooking", URL, status, at, guichets=guichets)
            record(database, result, Routing(zone))
    read = [
        read_history(database, "nanterre", zone, NOW, week) for database in (store, postgres_store)
    ]
    assert read[0] == read[1]
    assert [release.seen_at for release in read[0].releases] == [NOW - timedelta(minutes=120)]
    # From 23:00 the day before in Paris: 3 checks that day, 27 on the test's day.
    assert [day.counts for day in read[0].uptime] == [
        {"none": 3},
        {"none": 22, "blocked": 1, "available": 4},
    ]
    assert sum(count.checks for count in read[0].week) == 30
    assert sum(count.checks for count in read[0].records.counts) == 30
