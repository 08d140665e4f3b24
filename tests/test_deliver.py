"""The sender: through Apprise to a loopback phone; failures stay queued and are retried;
old slot alerts expire instead of arriving late."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from creneau import redact
from creneau.deliver import Sender, retry_delay
from creneau.simulator.phone import Phone
from creneau.store import Destination, OutboxMessage, Store

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def enqueue(store: Store, urls: list[str], at: datetime | None = None) -> None:
    message = OutboxMessage("paris", "slots", "2 nouveaux créneaux — Guichet 1", "corps")
    with store.transaction() as tx:
        tx.enqueue(message, [Destination("phone", url) for url in urls], at or datetime.now(UTC))


async def test_delivers_through_apprise_to_the_phone(store: Store, phone: Phone) -> None:
    enqueue(store, [phone.apprise_url])
    deliveries = await Sender(store, [("phone", [phone.apprise_url])]).deliver_due()
    assert [d.ok for d in deliveries] == [True]
    assert [(m.title, m.body) for m in phone.messages] == [
        ("2 nouveaux créneaux — Guichet 1", "corps")
    ]
    assert [n.state for n in store.notifications()] == ["sent"]


async def test_a_failing_url_does_not_hold_back_the_others(store: Store, phone: Phone) -> None:
    dead = "json://127.0.0.1:9/"
    enqueue(store, [dead, phone.apprise_url])
    await Sender(store, [("phone", [dead, phone.apprise_url])]).deliver_due()
    assert [(n.state, n.attempts) for n in store.notifications()] == [("pending", 1), ("sent", 1)]
    assert len(phone.messages) == 1


async def test_an_outage_keeps_the_alert_and_it_goes_out_when_the_phone_is_back(
    store: Store, phone: Phone
) -> None:
    clock = Clock()
    sender = Sender(store, [("phone", [phone.apprise_url])], now=clock)
    enqueue(store, [phone.apprise_url], T0)
    phone.up = False
    await sender.deliver_due()
    row = store.notifications()[0]
    assert (row.state, row.attempts, row.next_attempt_at) == (
        "pending",
        1,
        T0 + timedelta(seconds=30),
    )
    assert "500" in row.last_error
    clock.now += timedelta(seconds=10)
    assert await sender.deliver_due() == []  # not due yet: no hammering a broken channel
    phone.up = True
    clock.now += timedelta(seconds=25)
    assert [d.ok for d in await sender.deliver_due()] == [True]
    assert [m.title for m in phone.messages] == ["2 nouveaux créneaux — Guichet 1"]


async def test_retries_back_off_and_slot_alerts_expire_after_six_hours(store: Store) -> None:
    clock = Clock()
    attempts: list[datetime] = []

    async def always_down(url: str, title: str, body: str) -> tuple[bool, str]:
        attempts.append(clock.now)
        return False, "HTTP 503"

    sender = Sender(store, [("phone", ["json://127.0.0.1:9/"])], now=clock, send=always_down)
    enqueue(store, ["json://127.0.0.1:9/"], T0)
    while clock.now < T0 + timedelta(hours=7):
        await sender.deliver_due()
        clock.now += timedelta(seconds=15)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[:5] == [30, 60, 120, 240, 480]
    assert max(gaps) == 1800
    assert attempts[-1] <= T0 + timedelta(hours=6)
    row = store.notifications()[0]
    assert (row.state, row.last_error) == ("expired", "not sent: older than 6:00:00")


async def test_a_url_removed_from_the_config_is_failed_not_retried_forever(store: Store) -> None:
    enqueue(store, ["json://127.0.0.1:9/old"])
    deliveries = await Sender(store, [("phone", ["json://127.0.0.1:9/new"])]).deliver_due()
    assert [(d.ok, d.error) for d in deliveries] == [
        (False, 'channel "phone" no longer has this URL in the config')
    ]
    assert store.notifications()[0].state == "failed"


async def test_errors_stored_in_the_outbox_hold_no_secret(store: Store) -> None:
    secret_url = "json://127.0.0.1:9/hook?token=VERY-SECRET-TOKEN"
    redact.register("VERY-SECRET-TOKEN")

    async def leaky(url: str, title: str, body: str) -> tuple[bool, str]:
        raise ConnectionError(f"cannot reach {url}")

    enqueue(store, [secret_url])
    await Sender(store, [("phone", [secret_url])], send=leaky).deliver_due()
    error = store.notifications()[0].last_error
    assert "VERY-SECRET-TOKEN" not in error
    assert error == "ConnectionError: cannot reach json://127.0.0.1:9/hook?token=***"


def test_retry_delay_grows_then_caps() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 1800, 1800]
