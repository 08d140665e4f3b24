"""Retry an alert, as `creneau outbox retry` and the dashboard's button both do: due now, the
sender of a daemon running in the same process woken; an alert already sent is not retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.store import Store
from creneau.usecases.outbox import NotRetriable, retry_alert

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def one_alert(store: Store) -> int:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
    slot = Slot(start, "1", "Guichet 1", str(int(start.timestamp())))
    result = CheckResult(
        "nanterre",
        "ezbooking",
        "https://example.org/booking/create/1",
        Status.AVAILABLE,
        T0,
        guichets=(GuichetResult("1", "Guichet 1", Status.AVAILABLE, (slot,)),),
    )
    record(store, result, Routing(PARIS, [Destination("phone", "json://127.0.0.1:9/")]))
    [row] = store.notifications()
    return row.id


async def test_a_failed_alert_is_due_now_and_the_sender_here_is_woken(store: Store) -> None:
    number = one_alert(store)
    store.outbox.mark_failed([number], "HTTP 503 from ntfy", None)
    woken: list[bool] = []
    await retry_alert(
        store, number, T0 + timedelta(hours=1), wake_sender=lambda: woken.append(True)
    )
    assert store.notifications()[0].state == "pending"
    assert woken == [True]


async def test_an_alert_sent_already_is_not_retried_and_nobody_is_woken(store: Store) -> None:
    number = one_alert(store)
    store.outbox.mark_sent([number], T0)
    woken: list[bool] = []
    with pytest.raises(NotRetriable, match=f"no alert {number} waiting, failed or expired"):
        await retry_alert(store, number, T0, wake_sender=lambda: woken.append(True))
    assert woken == []
