"""Delivers the outbox through Apprise, one channel URL at a time, and records each outcome.
Due events for one URL are merged: one message per target, or one digest when quiet hours
end. A failing URL is retried with backoff and never holds back the others. Apprise is
imported here only, when there is something to send: it is the heaviest import."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from creneau.outbox import quiet_until
from creneau.redact import redact
from creneau.store import PendingNotification, Store, StoreCall, inline, url_key

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.messages import Messages

log = logging.getLogger(__name__)

SLOT_ALERT_EXPIRY = timedelta(hours=6)
OTHER_ALERT_EXPIRY = timedelta(hours=24)
SEND_TIMEOUT_SECONDS = 30
Send = Callable[[str, str, str], Awaitable[tuple[bool, str]]]


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most 30 min."""
    backoff: timedelta = timedelta(seconds=30) * 2 ** max(0, attempts - 1)
    return min(timedelta(minutes=30), backoff)


@dataclass(frozen=True)
class ChannelPlan:
    name: str
    urls: Sequence[str]
    quiet: tuple[time, time] | None = None
    wake_for_slots: bool = False


@dataclass(frozen=True)
class Delivery:
    """One message sent (or not) to one URL, for one or more outbox rows."""

    notifications: tuple[PendingNotification, ...]
    ok: bool
    title: str = ""
    error: str = ""


async def send_one(url: str, title: str, body: str) -> tuple[bool, str]:
    """Send through Apprise; (True, "") or (False, a reason without secrets)."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return False, "Apprise does not understand this URL (check its scheme and fields)"
    result = await sender.async_notify(
        body=body,
        title=title,
        body_format=apprise.NotifyFormat.MARKDOWN,
        timeout=SEND_TIMEOUT_SECONDS,
    )
    if result:
        return True, ""
    reasons = [entry.message for entry in result.logs() if entry.level in ("ERROR", "WARNING")]
    return False, redact("; ".join(reasons[-3:]) or f"delivery failed ({result.status.name})")


class Sender:
    """Drains due outbox rows: merges, renders, sends, marks sent or schedules a retry."""

    def __init__(
        self,
        store: Store,
        channels: Sequence[ChannelPlan],
        *,
        messages: Messages | None = None,
        zone: ZoneInfo | None = None,
        db: StoreCall = inline,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        send: Send = send_one,
        slot_expiry: timedelta = SLOT_ALERT_EXPIRY,
    ) -> None:
        self.store = store
        self.plans = {plan.name: plan for plan in channels}
        self.urls = {(plan.name, url_key(url)): url for plan in channels for url in plan.urls}
        self.zone = zone or ZoneInfo("Europe/Paris")
        self._messages = messages
        self.db = db
        self.now = now
        self.send = send
        self.slot_expiry = slot_expiry
        self._failing: set[tuple[str, str]] = set()  # URLs whose trouble was already logged

    @classmethod
    def from_config(
        cls,
        store: Store,
        config: Config,
        *,
        db: StoreCall = inline,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Sender:
        from creneau.messages import Messages

        plans = [
            ChannelPlan(c.name, c.secret_urls, c.quiet_hours, c.wake_for_slots)
            for c in config.notify
        ]
        settings = config.creneau
        messages = Messages(settings.language, settings.zone, config.templates)
        return cls(
            store,
            plans,
            messages=messages,
            zone=settings.zone,
            slot_expiry=settings.alert_expiry,
            db=db,
            now=now,
        )

    @property
    def messages(self) -> Messages:
        if self._messages is None:  # Jinja2, like Apprise, only once there is something to say
            from creneau.messages import Messages

            self._messages = Messages(zone=self.zone)
        return self._messages

    async def deliver_due(self) -> list[Delivery]:
        due: list[PendingNotification] = await self.db(self.store.due_notifications, self.now())
        by_url: dict[tuple[str, str], list[PendingNotification]] = {}
        for row in due:  # oldest first, as the store returns them
            by_url.setdefault((row.channel, row.url_key), []).append(row)
        deliveries = []
        for (channel, key), rows in by_url.items():
            deliveries += await self._deliver_to(channel, key, rows)
        return deliveries

    async def _deliver_to(
        self, channel: str, key: str, rows: list[PendingNotification]
    ) -> list[Delivery]:
        url = self.urls.get((channel, key))
        if url is None:
            reason = f'channel "{channel}" no longer has this URL in the config'
            await self.db(self.store.mark_failed, [row.id for row in rows], reason, None)
            return [Delivery(tuple(rows), False, error=reason)]
        rows = await self._drop_expired(rows)
        rows = await self._hold_for_quiet_hours(self.plans.get(channel), rows)
        return [await self._send(url, channel, group) for group in self._groups(rows)]

    async def _drop_expired(self, rows: list[PendingNotification]) -> list[PendingNotification]:
        """A slot alert that could not go out in time is worth nothing late: expired, not
        sent. Alerts held for quiet hours are meant to go late, in the digest."""
        now = self.now()
        expired = [
            row for row in rows if not row.held and now - row.created_at > self._expiry(row.kind)
        ]
        if expired:
            reason = f"not sent: older than {self._expiry(expired[0].kind)}"
            await self.db(self.store.mark_expired, [row.id for row in expired], reason)
        return [row for row in rows if row not in expired]

    def _expiry(self, kind: str) -> timedelta:
        return self.slot_expiry if kind == "slots" else OTHER_ALERT_EXPIRY

    async def _hold_for_quiet_hours(
        self, plan: ChannelPlan | None, rows: list[PendingNotification]
    ) -> list[PendingNotification]:
        if plan is None or plan.quiet is None or not rows:
            return rows
        until = quiet_until(self.now(), *plan.quiet, self.zone)
        if until is None:
            return rows
        held = [row for row in rows if not (plan.wake_for_slots and row.kind == "slots")]
        if held:
            await self.db(self.store.mark_held, [row.id for row in held], until)
        return [row for row in rows if row not in held]

    @staticmethod
    def _groups(rows: list[PendingNotification]) -> list[list[PendingNotification]]:
        """After quiet hours, one digest; otherwise one message per target."""
        if not rows:
            return []
        if any(row.held for row in rows):
            return [rows]
        groups: dict[str, list[PendingNotification]] = {}
        for row in rows:
            groups.setdefault(row.target or f"#{row.id}", []).append(row)
        return list(groups.values())

    async def _send(self, url: str, channel: str, rows: list[PendingNotification]) -> Delivery:
        ids = [row.id for row in rows]
        events = [row.event for row in rows]
        try:
            rendered = self.messages.render(events)
        except Exception as failure:  # a template from the config must not lose an alert
            from creneau.messages import Messages

            log.error("a message template failed (%s); sending the default text", failure)
            rendered = Messages(self.messages.language, self.zone).render(events)
        try:
            ok, error = await self.send(url, rendered.title, rendered.body)
        except Exception as failure:  # a plugin bug must not lose the alert
            ok, error = False, redact(f"{type(failure).__name__}: {failure}")
        url_id = (channel, rows[0].url_key)
        if ok:
            await self.db(self.store.mark_sent, ids, self.now())
            if url_id in self._failing:
                self._failing.discard(url_id)
                log.info("channel %s delivers again; the alerts that waited went out", channel)
            return Delivery(tuple(rows), True, rendered.title)
        attempts = max(row.attempts for row in rows) + 1
        retry_at = self.now() + retry_delay(attempts)
        await self.db(self.store.mark_failed, ids, error, retry_at)
        # Said once per outage; the outbox (creneau outbox) keeps every attempt's error.
        level = logging.DEBUG if url_id in self._failing else logging.WARNING
        self._failing.add(url_id)
        log.log(
            level,
            "channel %s does not take alerts (%s); they wait in the outbox and "
            "are retried (next at %s)",
            channel,
            error,
            retry_at.astimezone(self.zone).strftime("%H:%M:%S"),
        )
        return Delivery(tuple(rows), False, rendered.title, error)
