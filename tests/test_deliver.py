"""The sender: through Apprise to a loopback phone; failures stay queued and are retried;
piled-up alerts of one target merge; quiet hours hold delivery and end in one digest; old
slot alerts expire instead of arriving late."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from creneau import redact
from creneau.deliver import ChannelPlan, Sender, retry_delay
from creneau.simulator.phone import Phone
from creneau.store import Destination, OutboxEvent, Store

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def slots_event(target: str, *starts: str) -> OutboxEvent:
    slots = [
        {"guichet": "Guichet 1", "guichet_id": "1", "start": start, "key": start}
        for start in starts
    ]
    return OutboxEvent(
        target,
        "slots",
        {
            "event": "new_slots",
            "target": target,
            "url": f"https://example.org/{target}",
            "slots": slots,
        },
    )


def enqueue(store: Store, event: OutboxEvent, urls: list[str], at: datetime) -> None:
    with store.transaction() as tx:
        tx.enqueue(event, [Destination("phone", url) for url in urls], at)


class Recorder:
    """A channel that answers as told and remembers what it was sent."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, str]] = []

    async def __call__(self, url: str, title: str, body: str) -> tuple[bool, str]:
        if not self.up:
            return False, "HTTP 503 from the channel"
        self.sent.append((title, body))
        return True, ""


def sender(store: Store, clock: Clock, send: Recorder, **plan: object) -> Sender:
    return Sender(
        store,
        [ChannelPlan("phone", ["json://127.0.0.1:9/"], **plan)],  # type: ignore[arg-type]
        zone=PARIS,
        now=clock,
        send=send,
    )


async def test_delivers_through_apprise_to_the_phone(store: Store, phone: Phone) -> None:
    enqueue(
        store,
        slots_event("nanterre", "2026-12-01T08:00:00+00:00"),
        [phone.apprise_url],
        datetime.now(UTC),
    )
    deliveries = await Sender(store, [ChannelPlan("phone", [phone.apprise_url])]).deliver_due()
    assert [d.ok for d in deliveries] == [True]
    assert [(m.title, m.body) for m in phone.messages] == [
        (
            "1 nouveau créneau — Guichet 1",
            "**nanterre** : 1 nouveau créneau\n\n**Guichet 1**\n"
            "- mardi 1 décembre 2026 à 09:00\n\n"
            "[Réserver sur le site](https://example.org/nanterre)\n\n"
            "_creneau ne réserve jamais à votre place : réservez vous-même sur le site._",
        )
    ]
    assert [n.state for n in store.notifications()] == ["sent"]


async def test_a_failing_url_does_not_hold_back_the_others(store: Store, phone: Phone) -> None:
    dead = "json://127.0.0.1:9/"
    enqueue(
        store,
        slots_event("nanterre", "2026-12-01T08:00:00+00:00"),
        [dead, phone.apprise_url],
        datetime.now(UTC),
    )
    await Sender(store, [ChannelPlan("phone", [dead, phone.apprise_url])]).deliver_due()
    assert [(n.state, n.attempts) for n in store.notifications()] == [("pending", 1), ("sent", 1)]
    assert len(phone.messages) == 1


async def test_an_hour_of_outage_then_everything_oldest_first_merged_per_target(
    store: Store,
) -> None:
    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    channel.up = False
    for minute, (target, start) in enumerate(
        [
            ("nanterre", "2026-12-01T08:00:00+00:00"),
            ("bobigny", "2026-12-02T08:00:00+00:00"),
            ("nanterre", "2026-12-01T08:15:00+00:00"),
            ("nanterre", "2026-12-01T08:00:00+00:00"),
        ]
    ):
        enqueue(
            store,
            slots_event(target, start),
            ["json://127.0.0.1:9/"],
            T0 + timedelta(minutes=10 * minute),
        )
    while clock.now < T0 + timedelta(hours=1):
        await send.deliver_due()
        clock.now += timedelta(seconds=30)
    assert channel.sent == []
    channel.up = True
    clock.now += timedelta(minutes=30)  # the longest backoff
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == [
        "2 nouveaux créneaux — Guichet 1",  # nanterre: three alerts, two distinct slots
        "1 nouveau créneau — Guichet 1",  # bobigny
    ]
    assert "mardi 1 décembre 2026 à 09:15" in channel.sent[0][1]
    assert {n.state for n in store.notifications()} == {"sent"}


async def test_retries_back_off_and_slot_alerts_expire_after_six_hours(store: Store) -> None:
    clock = Clock()
    attempts: list[datetime] = []

    async def always_down(url: str, title: str, body: str) -> tuple[bool, str]:
        attempts.append(clock.now)
        return False, "HTTP 503"

    send = Sender(
        store, [ChannelPlan("phone", ["json://127.0.0.1:9/"])], now=clock, send=always_down
    )
    enqueue(
        store, slots_event("nanterre", "2026-12-01T08:00:00+00:00"), ["json://127.0.0.1:9/"], T0
    )
    while clock.now < T0 + timedelta(hours=7):
        await send.deliver_due()
        clock.now += timedelta(seconds=15)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[:5] == [30, 60, 120, 240, 480]
    assert max(gaps) == 1800
    assert attempts[-1] <= T0 + timedelta(hours=6)
    row = store.notifications()[0]
    assert (row.state, row.last_error) == ("expired", "not sent: older than 6:00:00")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("night", "morning"),
    [
        (paris(2026, 11, 23, 23, 30), paris(2026, 11, 24, 7, 0)),  # an ordinary night
        (paris(2026, 10, 24, 23, 30), paris(2026, 10, 25, 7, 0)),  # the clocks go back
        (paris(2026, 3, 28, 23, 30), paris(2026, 3, 29, 7, 0)),  # the clocks go forward
    ],
)
async def test_quiet_hours_hold_everything_and_end_in_one_digest(
    store: Store, night: datetime, morning: datetime
) -> None:
    clock, channel = Clock(night), Recorder()
    send = sender(store, clock, channel, quiet=(time(23, 0), time(7, 0)))
    enqueue(
        store, slots_event("nanterre", "2026-12-01T08:00:00+00:00"), ["json://127.0.0.1:9/"], night
    )
    enqueue(
        store,
        slots_event("bobigny", "2026-12-02T08:00:00+00:00"),
        ["json://127.0.0.1:9/"],
        night + timedelta(hours=3),
    )
    while clock.now < morning - timedelta(minutes=1):
        await send.deliver_due()
        clock.now += timedelta(minutes=10)
    assert channel.sent == []
    clock.now = morning
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["2 alertes creneau"]
    digest = channel.sent[0][1]
    assert "### 1 nouveau créneau — Guichet 1" in digest
    assert "**nanterre**" in digest
    assert "**bobigny**" in digest
    assert [n.next_attempt_at for n in store.notifications()] == [morning, morning]


async def test_a_channel_can_be_woken_for_slots_but_not_for_the_rest(store: Store) -> None:
    night = paris(2026, 11, 23, 23, 30)
    clock, channel = Clock(night), Recorder()
    send = sender(store, clock, channel, quiet=(time(23, 0), time(7, 0)), wake_for_slots=True)
    enqueue(
        store, slots_event("nanterre", "2026-12-01T08:00:00+00:00"), ["json://127.0.0.1:9/"], night
    )
    enqueue(
        store,
        OutboxEvent(
            "",
            "trouble",
            {
                "event": "host_up",
                "host": "prefecture.example",
                "status": "none",
                "reason": "",
                "until": None,
            },
        ),
        ["json://127.0.0.1:9/"],
        night,
    )
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["1 nouveau créneau — Guichet 1"]


async def test_a_slot_that_came_and_went_during_an_outage_is_not_announced(store: Store) -> None:
    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    enqueue(
        store,
        slots_event("nanterre", "2026-12-01T08:00:00+00:00", "2026-12-01T09:00:00+00:00"),
        ["json://127.0.0.1:9/"],
        T0,
    )
    gone = {
        "event": "slots_gone",
        "target": "nanterre",
        "url": "u",
        "slots": [
            {
                "guichet": "Guichet 1",
                "guichet_id": "1",
                "start": "2026-12-01T08:00:00+00:00",
                "key": "2026-12-01T08:00:00+00:00",
                "lasted": 300.0,
            }
        ],
    }
    enqueue(store, OutboxEvent("nanterre", "slots", gone), ["json://127.0.0.1:9/"], T0)
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["1 nouveau créneau — Guichet 1"]
    assert "10:00" in channel.sent[0][1]
    assert "09:00" not in channel.sent[0][1]


async def test_a_url_removed_from_the_config_is_failed_not_retried_forever(store: Store) -> None:
    enqueue(
        store,
        slots_event("nanterre", "2026-12-01T08:00:00+00:00"),
        ["json://127.0.0.1:9/old"],
        datetime.now(UTC),
    )
    deliveries = await Sender(
        store, [ChannelPlan("phone", ["json://127.0.0.1:9/new"])]
    ).deliver_due()
    assert [(d.ok, d.error) for d in deliveries] == [
        (False, 'channel "phone" no longer has this URL in the config')
    ]
    assert store.notifications()[0].state == "failed"


async def test_errors_stored_in_the_outbox_hold_no_secret(store: Store) -> None:
    secret_url = "json://127.0.0.1:9/hook?token=VERY-SECRET-TOKEN"
    redact.register("VERY-SECRET-TOKEN")

    async def leaky(url: str, title: str, body: str) -> tuple[bool, str]:
        raise ConnectionError(f"cannot reach {url}")

    enqueue(
        store, slots_event("nanterre", "2026-12-01T08:00:00+00:00"), [secret_url], datetime.now(UTC)
    )
    await Sender(store, [ChannelPlan("phone", [secret_url])], send=leaky).deliver_due()
    error = store.notifications()[0].last_error
    assert "VERY-SECRET-TOKEN" not in error
    assert error == "ConnectionError: cannot reach json://127.0.0.1:9/hook?token=***"


async def test_a_forced_retry_makes_an_expired_alert_due_again(store: Store) -> None:
    clock, channel = Clock(T0 + timedelta(hours=7)), Recorder()
    enqueue(
        store, slots_event("nanterre", "2026-12-01T08:00:00+00:00"), ["json://127.0.0.1:9/"], T0
    )
    send = sender(store, clock, channel)
    await send.deliver_due()
    row = store.notifications()[0]
    assert row.state == "expired"
    assert store.retry_now(row.id, clock.now)
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["1 nouveau créneau — Guichet 1"]


def test_retry_delay_grows_then_caps() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 1800, 1800]
