"""The sender: through Apprise to a loopback phone; failures stay queued and are retried;
what piled up for a URL goes as one message, oldest first, without the slots already gone;
trouble that cleared is withdrawn, not sent late; quiet hours hold delivery and end in one
digest; old slot alerts expire instead of arriving late; each channel gets its own format
(text, Markdown, HTML e-mail) within its length."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import english
from creneau import redact
from creneau.alert_kinds import Destination, OutboxEvent
from creneau.alerts.deliver import ChannelPlan, Sender, retry_delay
from creneau.alerts.messages import Messages
from creneau.changes import diff_slots
from creneau.check.record import HostReport
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.simulator.phone import Phone
from creneau.store import Store
from creneau.web.pages.outbox import alert_line

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


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


def sight(store: Store, target: str, starts: list[str], at: datetime) -> None:
    """A check of the target that lists these slots (and those still open): the store then
    knows them as open, as it does when a check queues the alert."""
    open_now = {start.isoformat() for _, start in store.open_slots(target)}
    slots = tuple(
        Slot(datetime.fromisoformat(start), "1", "Guichet 1", start)
        for start in sorted(open_now | set(starts))
    )
    result = CheckResult(
        target,
        "ezbooking",
        f"https://example.org/{target}",
        Status.AVAILABLE,
        at,
        guichets=(GuichetResult("1", "Guichet 1", Status.AVAILABLE, slots),),
    )
    with store.transaction() as tx:
        check_id = tx.add_check(result)
        tx.apply(target, check_id, at, diff_slots(tx.known_slots(target, result.slots), result))


def enqueue(store: Store, event: OutboxEvent, urls: list[str], at: datetime) -> None:
    if event.event["event"] == "new_slots":
        sight(store, event.target, [slot["start"] for slot in event.event["slots"]], at)
    with store.transaction() as tx:
        tx.enqueue(event, [Destination("phone", url) for url in urls], at)


class Recorder:
    """A channel that answers as told and remembers what it was sent."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, str]] = []
        self.formats: list[str] = []

    async def __call__(self, url: str, title: str, body: str, body_format: str) -> tuple[bool, str]:
        if not self.up:
            return False, "HTTP 503 from the channel"
        self.sent.append((title, body))
        self.formats.append(body_format)
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


async def test_an_hour_of_outage_then_everything_in_one_message_oldest_first(
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
    # Formerly one message per target; the README promises one message, oldest first.
    assert [title for title, _ in channel.sent] == ["2 alertes creneau"]
    body = channel.sent[0][1]
    nanterre = body.index("### 2 nouveaux créneaux — Guichet 1")  # three alerts, two slots
    bobigny = body.index("### 1 nouveau créneau — Guichet 1")
    assert nanterre < bobigny
    assert "mardi 1 décembre 2026 à 09:15" in body
    assert {n.state for n in store.notifications()} == {"sent"}


async def test_retries_back_off_and_slot_alerts_expire_after_six_hours(store: Store) -> None:
    clock = Clock()
    attempts: list[datetime] = []

    async def always_down(url: str, title: str, body: str, body_format: str) -> tuple[bool, str]:
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
    assert (row.state, english(row.said_error)) == ("expired", "not sent: older than 6:00:00")
    # The dashboard's outbox says why in its language.
    paris = ZoneInfo("Europe/Paris")
    line = alert_line(row, Messages("fr", paris), clock.now, paris, "fr")
    assert line.error == "non envoyée : plus ancienne que 6:00:00"


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


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

    async def leaky(url: str, title: str, body: str, body_format: str) -> tuple[bool, str]:
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
    assert store.outbox.retry_now(row.id, clock.now)
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["1 nouveau créneau — Guichet 1"]


def test_retry_delay_grows_then_caps() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 1800, 1800]


# --- what piled up goes as one message, without what no longer holds ------------------------

PHONE_URL = "json://127.0.0.1:9/"
PHONE = [Destination("phone", PHONE_URL)]
BOOKING = "https://pref.example/booking/create/1"  # rendered only, never fetched


def offer(
    target: str, at: datetime, *starts: datetime, status: Status | None = None
) -> CheckResult:
    slots = tuple(Slot(start, "1", "Guichet 1", str(int(start.timestamp()))) for start in starts)
    status = status or (Status.AVAILABLE if slots else Status.NONE)
    return CheckResult(
        target,
        "ezbooking",
        BOOKING,
        status,
        at,
        guichets=(GuichetResult("1", "Guichet 1", status, slots),),
    )


async def test_piled_up_releases_go_as_one_message_oldest_first_without_the_gone_slots(
    store: Store,
) -> None:
    # The receiver is down; releases A, B, C at 13:30:15, :27, :39 (A's slot gone by :39);
    # the receiver is back at 13:31:07. Each row has its own backoff, so C was due first.
    from creneau.alerts.outbox import Routing
    from creneau.check.record import record

    start = paris(2026, 11, 23, 13, 30, 0)
    a, b, c = (paris(2026, 12, day, 9, 0) for day in (1, 2, 3))
    releases = {
        15: offer("nanterre", start + timedelta(seconds=15), a),
        27: offer("nanterre", start + timedelta(seconds=27), a, b),
        39: offer("nanterre", start + timedelta(seconds=39), b, c),
    }
    clock, channel = Clock(start), Recorder()
    send = sender(store, clock, channel)
    channel.up = False
    for second in range(150):
        clock.now = start + timedelta(seconds=second)
        if second in releases:
            record(store, releases[second], Routing(PARIS, PHONE))
        channel.up = second >= 67
        await send.deliver_due()
    assert len(channel.sent) == 1
    title, body = channel.sent[0]
    assert title == "2 nouveaux créneaux — Guichet 1"
    assert "mercredi 2 décembre 2026 à 09:00" in body
    assert body.index("mercredi 2 décembre") < body.index("jeudi 3 décembre")  # oldest first
    assert "mardi 1 décembre" not in body  # A's slot went at 13:30:39: not announced as new
    assert "1 autre créneau apparu entre-temps est déjà parti." in body
    assert [n.state for n in store.notifications()] == ["sent", "sent", "sent"]


async def test_an_alert_whose_slots_all_went_is_not_sent(store: Store) -> None:
    from creneau.alerts.outbox import Routing
    from creneau.check.record import record

    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    record(store, offer("nanterre", T0, paris(2026, 12, 1, 9, 0)), Routing(PARIS, PHONE))
    record(store, offer("nanterre", T0 + timedelta(seconds=30)), Routing(PARIS, PHONE))
    await send.deliver_due()
    assert channel.sent == []
    row = store.notifications()[0]
    assert (row.state, english(row.said_error)) == (
        "expired",
        "not sent: every slot it announced was gone before it could be delivered",
    )


@pytest.mark.parametrize(
    ("status", "alert"), [(Status.CAPTCHA, "captcha"), (Status.UNKNOWN, "page_changed")]
)
async def test_a_trouble_alert_is_withdrawn_once_the_target_answers_clearly(
    store: Store, status: Status, alert: str
) -> None:
    from creneau.alerts.outbox import Routing
    from creneau.check.record import record

    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    channel.up = False
    record(store, offer("allier", T0, status=status), Routing(PARIS, PHONE))
    await send.deliver_due()
    clock.now = T0 + timedelta(minutes=35)  # the person solved it; a clear answer came
    record(store, offer("allier", clock.now), Routing(PARIS, PHONE))
    channel.up = True
    await send.deliver_due()
    assert channel.sent == []
    row = store.notifications()[0]
    assert (row.payload["event"], row.state, english(row.said_error)) == (
        alert,
        "expired",
        "withdrawn: allier has given a clear answer since",
    )


async def test_a_trouble_alert_that_still_holds_is_sent_late(store: Store) -> None:
    from creneau.alerts.outbox import Routing
    from creneau.check.record import record

    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    channel.up = False
    record(store, offer("allier", T0, status=Status.CAPTCHA), Routing(PARIS, PHONE))
    await send.deliver_due()
    clock.now = T0 + timedelta(minutes=35)
    record(store, offer("allier", clock.now, status=Status.ERROR), Routing(PARIS, PHONE))
    channel.up = True
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["Action requise : allier"]


def host_report(kind: str, at: datetime) -> HostReport:
    from creneau.fetch.politeness import HostState, HostTransition

    until = at + timedelta(minutes=5) if kind == "down" else None
    state = HostState(open_until=until, reason="HTTP 403" if until else "")
    transition = HostTransition("pref.example", kind, Status.BLOCKED, "HTTP 403", at, until)
    return HostReport("pref.example", state, (transition,))


@pytest.mark.parametrize("back_up", [True, False])
async def test_a_host_down_alert_is_withdrawn_when_the_host_is_back_up(
    store: Store, back_up: bool
) -> None:
    from creneau.alerts.outbox import Routing
    from creneau.check.record import record

    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    routing = Routing(PARIS, PHONE, PHONE)
    channel.up = False
    down = offer("nanterre", T0, status=Status.BLOCKED)
    record(store, down, routing, host_report("down", T0))
    await send.deliver_due()
    clock.now = T0 + timedelta(minutes=40)
    if back_up:
        record(store, offer("nanterre", clock.now), routing, host_report("up", clock.now))
    channel.up = True
    await send.deliver_due()
    rows = [(n.payload["event"], n.state, english(n.said_error)) for n in store.notifications()]
    if back_up:
        assert channel.sent == []
        assert rows == [
            ("host_down", "expired", "withdrawn: pref.example answers again"),
            ("host_up", "expired", "withdrawn: the alert that the site was down was withdrawn"),
        ]
    else:
        assert [title for title, _ in channel.sent] == ["Site bloqué : pref.example"]


# --- each channel in its own format, within its length -------------------------------------


def phone_url(phone: Phone, scheme: str, query: str = "") -> str:
    host, port = phone.apprise_url.split("://", 1)[1].rstrip("/").split(":")
    return f"{scheme}://{host}:{port}/{'creneau' if scheme == 'ntfy' else ''}{query}"


async def test_text_channels_get_plain_text_with_the_bare_link(store: Store, phone: Phone) -> None:
    # ntfy is text-only in Apprise: Markdown would reach the phone as asterisks and brackets.
    urls = [phone_url(phone, "ntfy"), phone.apprise_url, phone_url(phone, "json", "?format=text")]
    enqueue(store, slots_event("nanterre", "2026-12-01T08:00:00+00:00"), urls, datetime.now(UTC))
    deliveries = await Sender(store, [ChannelPlan("phone", urls)]).deliver_due()
    assert [d.ok for d in deliveries] == [True, True, True]
    plain = (
        "nanterre : 1 nouveau créneau\n\nGuichet 1\n- mardi 1 décembre 2026 à 09:00\n\n"
        "Réserver sur le site : https://example.org/nanterre\n\n"
        "creneau ne réserve jamais à votre place : réservez vous-même sur le site."
    )
    by_order = [m.body for m in phone.messages]
    assert sorted(by_order) == sorted(
        [
            plain,
            plain,
            "**nanterre** : 1 nouveau créneau\n\n**Guichet 1**\n- mardi 1 décembre 2026 à 09:00"
            "\n\n[Réserver sur le site](https://example.org/nanterre)\n\n"
            "_creneau ne réserve jamais à votre place : réservez vous-même sur le site._",
        ]
    )


class MailServer:
    """A minimal SMTP receiver on 127.0.0.1: enough of RFC 5321 for smtplib, no TLS, no
    authentication; keeps each message's bytes."""

    def __init__(self) -> None:
        import socketserver
        import threading

        self.received: list[bytes] = []
        server = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 127.0.0.1 test SMTP")
                while line := self.rfile.readline():
                    verb = line.decode("ascii", "replace").strip().upper()[:4]
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 127.0.0.1")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        server.received.append(self.data())
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

            def data(self) -> bytes:
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                return b"".join(lines)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def apprise_url(self) -> str:
        port = self._server.server_address[1]
        return (
            f"mailto://127.0.0.1:{port}/?mode=insecure&from=creneau@example.org&to=me@example.org"
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


async def test_an_email_shows_the_link_in_both_its_parts(store: Store) -> None:
    import email
    from email import policy
    from email.message import EmailMessage

    mail = MailServer()
    try:
        enqueue(
            store,
            slots_event("nanterre", "2026-12-01T08:00:00+00:00"),
            [mail.apprise_url],
            datetime.now(UTC),
        )
        deliveries = await Sender(store, [ChannelPlan("phone", [mail.apprise_url])]).deliver_due()
    finally:
        mail.close()
    assert [d.ok for d in deliveries] == [True]
    message = email.message_from_bytes(mail.received[0], policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "1 nouveau créneau — Guichet 1"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Réserver sur le site : https://example.org/nanterre" in text.get_content()
    assert (
        'Réserver sur le site : <a href="https://example.org/nanterre">'
        "https://example.org/nanterre</a>" in html.get_content()
    )


async def test_a_release_of_1200_slots_fits_what_each_channel_accepts(store: Store) -> None:
    first = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    starts = [(first + timedelta(minutes=10 * n)).isoformat() for n in range(1200)]
    discord = "discord://123456/abcdefghijklmnop"  # Apprise: 2000 characters; never reached
    clock, channel = Clock(), Recorder()
    enqueue(store, slots_event("nanterre", *reversed(starts)), [discord, PHONE_URL], T0)
    send = Sender(
        store,
        [ChannelPlan("phone", [discord, PHONE_URL])],
        zone=PARIS,
        now=clock,
        send=channel,
    )
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["1200 nouveaux créneaux — Guichet 1"] * 2
    for (_, body), most in zip(channel.sent, (2000, 32768), strict=True):
        assert len(body) <= most
        listed = [line for line in body.splitlines() if line.startswith("- ")]
        assert listed[0] == "- mardi 1 décembre 2026 à 08:00"  # the first by time
        assert listed[1] == "- mardi 1 décembre 2026 à 08:10"
        assert f"… et {1200 - len(listed)} autres" in body
        assert "[Réserver sur le site](https://example.org/nanterre)" in body
    assert len(channel.sent[0][1]) > 1500  # Discord's room is used, not wasted
    assert len([line for line in channel.sent[1][1].splitlines() if line.startswith("- ")]) == 50


async def test_a_prepare_alert_waiting_past_the_release_is_not_sent_late(store: Store) -> None:
    from creneau.alerts.outbox import prepare_event

    at = T0 + timedelta(minutes=10)
    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    channel.up = False
    prepared = prepare_event("allier", "rdvpref", "https://pref.example/rdv", at, at - 5 * MINUTE)
    enqueue(store, prepared, ["json://127.0.0.1:9/"], T0)
    await send.deliver_due()
    channel.up = True
    clock.now = at - MINUTE  # still before: it goes
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == ["CAPTCHA à résoudre avant 11:05 — allier"]
    enqueue(store, prepared, ["json://127.0.0.1:9/"], clock.now)
    channel.up = False
    await send.deliver_due()
    clock.now, channel.up = at + MINUTE, True
    await send.deliver_due()
    assert len(channel.sent) == 1
    row = store.notifications()[-1]
    assert (row.state, english(row.said_error)) == (
        "expired",
        "not sent: the release announced at 2026-11-23 10:10:00 for allier has passed",
    )


async def test_an_announcement_changed_before_it_went_is_never_sent(store: Store) -> None:
    """Seen at every check, told once; changed while the channel was down: only the new
    instant goes, as new (the first was never told)."""
    from dataclasses import replace

    from creneau.alerts.outbox import Routing
    from creneau.check.record import record
    from creneau.results import ReleaseAnnouncement

    wants = Destination("phone", PHONE_URL, frozenset({"slots", "release_announced"}))
    routing = Routing(PARIS, [wants])
    first, moved = T0 + timedelta(hours=3), T0 + timedelta(days=1, hours=3)
    clock, channel = Clock(), Recorder()
    send = sender(store, clock, channel)
    channel.up = False
    for minutes, at in ((0, first), (5, first), (10, moved), (15, moved)):
        clock.now = T0 + minutes * MINUTE
        result = replace(offer("allier", clock.now), releases=ReleaseAnnouncement(next_at=at))
        record(store, result, routing)
        await send.deliver_due()
    channel.up, clock.now = True, T0 + timedelta(hours=1)
    await send.deliver_due()
    assert [title for title, _ in channel.sent] == [
        "Mise en ligne annoncée mardi 24 novembre à 14:00 — allier"
    ]
    assert [(row.payload["at"], row.state) for row in store.notifications()] == [
        (first.isoformat(), "expired"),
        (moved.isoformat(), "sent"),
    ]
