"""The overview's and the target pages' store reads are kept until a check is recorded or
the strip moves on: a page refreshed every 20 s costs one small query, and never shows a
stale check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.alerts.events import Routing
from creneau.check.record import record
from creneau.results import CheckResult, Status
from creneau.store import Store
from creneau.web.pages.overview import RecordsMemo, read_records
from creneau.web.pages.strips import DAY, WEEK, Period
from creneau.web.pages.target import HistoryMemo

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
