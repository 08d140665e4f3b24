"""The releases a site announced, followed in the store (issue 26), on SQLite and PostgreSQL:
one row per target and instant, written in the check's transaction, read back as
`expected.Announcement`; one message per announcement, and the alerts of one that changed or
went withdrawn before they were sent; kept when old checks are rolled up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.details import from_text, render
from creneau.expected import FOLLOWED_FOR, SAID_LIMIT, Announcement
from creneau.results import CheckResult, GuichetResult, ReleaseAnnouncement, Slot, Status
from creneau.store import Store
from postgres import DATABASES, each_database

PARIS = ZoneInfo("Europe/Paris")
T = datetime(2025, 12, 9, 9, 0, tzinfo=UTC)  # mardi 9 décembre 2025, 10:00 à Paris
WEEK = date(2025, 12, 15)
MINUTE = timedelta(minutes=1)
RELEASES = Destination("phone", "json://127.0.0.1:9/", frozenset({"slots", "release_announced"}))
SLOTS_ONLY = Destination("sms", "json://127.0.0.1:9/sms", frozenset({"slots", "trouble"}))
ROUTING = Routing(PARIS, [RELEASES, SLOTS_ONLY])


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every test here runs on SQLite and on a real PostgreSQL server."""
    yield from each_database(request, tmp_path)


def check(
    at: datetime,
    next_at: datetime | None = None,
    *slots: Slot,
    status: Status | None = None,
    last_at: datetime | None = None,
    said: str = "",
) -> CheckResult:
    status = status or (Status.AVAILABLE if slots else Status.NONE)
    releases = ReleaseAnnouncement(
        last_at=last_at, next_at=next_at, next_week=WEEK if next_at else None, next_said=said
    )
    return CheckResult(
        "prefecture",
        "rdvpref",
        "https://pref.example/rdv",
        status,
        at,
        guichets=(GuichetResult("1", "Guichet 1", status, tuple(slots)),),
        releases=releases,
    )


def a_slot(day: int) -> Slot:
    start = datetime(2025, 12, day, 9, 0, tzinfo=PARIS)
    return Slot(start, "1", "Guichet 1", str(int(start.timestamp())))


def release_rows(store: Store) -> list[tuple[str, str, str]]:
    """(event, channel, state) of every release alert, in order."""
    return [
        (row.payload["event"], row.channel, row.state)
        for row in store.notifications()
        if row.kind == "release_announced"
    ]


def test_an_announcement_is_kept_and_read_back(store: Store) -> None:
    first, second = T - timedelta(hours=3), T - timedelta(hours=2)
    record(store, check(first, T), ROUTING)
    record(store, check(second, T), ROUTING)
    expected = Announcement("prefecture", T, WEEK, first, second)
    assert store.announcement("prefecture") == expected
    assert store.announcements() == [expected]
    assert store.announcements("other") == []
    assert store.announcements(since=second + MINUTE) == []
    assert store.announcement("other") is None


def test_one_message_per_announcement_seen_at_every_check(store: Store) -> None:
    for minutes in range(0, 60, 5):
        record(store, check(T - timedelta(hours=2) + minutes * MINUTE, T), ROUTING)
    rows = [row for row in store.notifications() if row.kind == "release_announced"]
    assert [(row.payload["event"], row.channel) for row in rows] == [("release_announced", "phone")]
    payload: dict[str, Any] = rows[0].payload
    assert payload == {
        "event": "release_announced",
        "target": "prefecture",
        "system": "rdvpref",
        "url": "https://pref.example/rdv",
        "at": T.isoformat(),
        "week": "2025-12-15",
    }


def test_a_changed_announcement_withdraws_what_waits_and_tells_the_change(store: Store) -> None:
    later = T + timedelta(days=1)
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    record(store, check(T - timedelta(hours=1), later), ROUTING)
    # The first never went: withdrawn, and the channel hears of the new instant as new.
    assert release_rows(store) == [
        ("release_announced", "phone", "expired"),
        ("release_announced", "phone", "pending"),
    ]
    withdrawn = store.notifications("expired")[0]
    assert "prefecture" in render(from_text(withdrawn.last_error), "en", PARIS)
    assert [(a.at, a.outcome) for a in store.announcements()] == [
        (T, "changed"),
        (later, "pending"),
    ]


def test_a_change_of_what_was_sent_is_told_as_a_change(store: Store) -> None:
    later = T + timedelta(days=1)
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    store.outbox.mark_sent([store.notifications()[0].id], T - timedelta(hours=2))
    record(store, check(T - timedelta(hours=1), later), ROUTING)
    assert release_rows(store) == [
        ("release_announced", "phone", "sent"),
        ("release_changed", "phone", "pending"),
    ]
    assert store.notifications("pending")[0].payload["before"] == T.isoformat()


def test_a_withdrawn_announcement_is_told_only_where_it_was(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    record(store, check(T - timedelta(hours=1)), ROUTING)  # a clear page, no announcement
    assert release_rows(store) == [("release_announced", "phone", "expired")]
    assert store.announcement("prefecture") == Announcement(
        "prefecture", T, WEEK, T - timedelta(hours=2), T - timedelta(hours=2), "withdrawn"
    )
    record(store, check(T - timedelta(hours=3) + timedelta(days=1), T + timedelta(days=1)), ROUTING)
    store.outbox.mark_sent([store.notifications("pending")[0].id], T)
    record(store, check(T + timedelta(hours=22)), ROUTING)
    assert release_rows(store)[-1] == ("release_withdrawn", "phone", "pending")


def test_a_blocked_check_withdraws_nothing(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    record(store, check(T - timedelta(hours=1), status=Status.BLOCKED), ROUTING)
    assert release_rows(store) == [("release_announced", "phone", "pending")]
    assert store.announcement("prefecture").outcome == "pending"  # type: ignore[union-attr]


def test_a_release_is_recorded_and_what_still_waits_of_it_is_not_sent_late(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    record(store, check(T + 10 * timedelta(seconds=1), T), ROUTING)  # not yet
    assert store.announcement("prefecture").outcome == "pending"  # type: ignore[union-attr]
    seen = T + 30 * timedelta(seconds=1)
    record(store, check(seen, None, a_slot(16), last_at=T), ROUTING)
    latest = store.announcement("prefecture")
    assert latest is not None
    assert (latest.outcome, latest.released_seen_at) == ("released", seen)
    assert release_rows(store) == [("release_announced", "phone", "expired")]
    assert [row.kind for row in store.notifications("pending")] == ["slots", "slots"]


def test_the_site_saying_it_published_is_a_release_without_slots_seen(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    record(store, check(T + 20 * timedelta(seconds=1), last_at=T), ROUTING)
    latest = store.announcement("prefecture")
    assert latest is not None
    assert (latest.outcome, latest.released_seen_at) == ("released", None)


def test_a_passed_announcement_without_slots_is_recorded_as_such(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    record(store, check(T + FOLLOWED_FOR + MINUTE, status=Status.BLOCKED), ROUTING)
    assert store.announcement("prefecture").outcome == "no_slots"  # type: ignore[union-attr]


def test_whether_a_session_was_ready_is_kept(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    assert store.mark_session_ready("prefecture", T, True)
    assert store.announcement("prefecture").session_ready is True  # type: ignore[union-attr]
    assert not store.mark_session_ready("prefecture", T + MINUTE, False)


def test_announcements_outlive_the_checks_rolled_up(store: Store) -> None:
    record(store, check(T - timedelta(hours=2), T), ROUTING)
    store.roll_up(T + timedelta(days=400))
    assert store.checks() == []
    assert [a.at for a in store.announcements("prefecture")] == [T]


SAID = (
    "Prochaine mise en ligne de nouveaux rendez-vous : le 09/12/2025 à 10:00 pour des créneaux "
    "de la semaine du 15/12/2025"
)


def test_the_site_sentence_is_kept_the_latest_one_seen_for_its_instant(store: Store) -> None:
    record(store, check(T - timedelta(hours=3), T, said=SAID), ROUTING)
    assert store.announcement("prefecture").said == SAID  # type: ignore[union-attr]
    record(store, check(T - timedelta(hours=2), T), ROUTING)  # the page state alone: no words
    assert store.announcement("prefecture").said == SAID  # type: ignore[union-attr]
    reworded = SAID.replace("Prochaine", "PROCHAINE")
    record(store, check(T - timedelta(hours=1), T, said=reworded), ROUTING)
    assert [a.said for a in store.announcements()] == [reworded]
    [row] = [row for row in store.notifications() if row.kind == "release_announced"]
    assert row.payload["said"] == SAID  # told once, in the words first seen


def test_a_sentence_too_long_for_its_column_is_kept_cut(store: Store) -> None:
    long = "Prochaine mise en ligne " + "é" * (3 * SAID_LIMIT)
    record(store, check(T - timedelta(hours=1), T, said=long), ROUTING)
    said = store.announcement("prefecture").said  # type: ignore[union-attr]
    assert len(said) == SAID_LIMIT
    assert said.startswith("Prochaine mise en ligne éé")
    assert said.endswith("…")


def test_an_announcement_without_words_keeps_none(store: Store) -> None:
    record(store, check(T - timedelta(hours=1), T), ROUTING)
    assert store.announcement("prefecture").said == ""  # type: ignore[union-attr]
    [row] = [row for row in store.notifications() if row.kind == "release_announced"]
    assert "said" not in row.payload
