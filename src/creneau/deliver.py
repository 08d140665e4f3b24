"""Delivers the outbox through Apprise, one channel URL at a time, and records each outcome.
Apprise is imported here only, when there is something to send: it is the heaviest import."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from creneau.redact import redact
from creneau.store import PendingNotification, Store, StoreCall, inline, url_key

log = logging.getLogger(__name__)


EXPIRY = {"slots": timedelta(hours=6)}
DEFAULT_EXPIRY = timedelta(hours=24)
SEND_TIMEOUT_SECONDS = 30


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most 30 min."""
    return min(timedelta(minutes=30), timedelta(seconds=30) * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Delivery:
    notification: PendingNotification
    ok: bool
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
        body_format=apprise.NotifyFormat.TEXT,
        timeout=SEND_TIMEOUT_SECONDS,
    )
    if result:
        return True, ""
    reasons = [entry.message for entry in result.logs() if entry.level in ("ERROR", "WARNING")]
    return False, redact("; ".join(reasons[-3:]) or f"delivery failed ({result.status.name})")


class Sender:
    """Drains due outbox rows: sends each to its URL, marks it sent or schedules a retry."""

    def __init__(
        self,
        store: Store,
        channels: Sequence[tuple[str, Sequence[str]]],
        *,
        db: StoreCall = inline,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        send: Callable[[str, str, str], Awaitable[tuple[bool, str]]] = send_one,
    ) -> None:
        self.store = store
        self.urls = {(name, url_key(url)): url for name, urls in channels for url in urls}
        self.db = db
        self.now = now
        self.send = send

    async def deliver_due(self) -> list[Delivery]:
        due: list[PendingNotification] = await self.db(self.store.due_notifications, self.now())
        return [await self._deliver(notification) for notification in due]

    async def _deliver(self, notification: PendingNotification) -> Delivery:
        now = self.now()
        age = now - notification.created_at
        if age > EXPIRY.get(notification.kind, DEFAULT_EXPIRY):
            reason = f"not sent: older than {EXPIRY.get(notification.kind, DEFAULT_EXPIRY)}"
            await self.db(self.store.mark_expired, notification.id, reason)
            return Delivery(notification, False, reason)
        url = self.urls.get((notification.channel, notification.url_key))
        if url is None:
            reason = f'channel "{notification.channel}" no longer has this URL in the config'
            await self.db(self.store.mark_failed, notification.id, reason, None)
            return Delivery(notification, False, reason)
        try:
            ok, error = await self.send(url, notification.title, notification.body)
        except Exception as failure:  # a plugin bug must not lose the alert
            ok, error = False, redact(f"{type(failure).__name__}: {failure}")
        if ok:
            await self.db(self.store.mark_sent, notification.id, self.now())
            return Delivery(notification, True)
        retry_at = self.now() + retry_delay(notification.attempts + 1)
        await self.db(self.store.mark_failed, notification.id, error, retry_at)
        log.warning(
            "%s: alert %d to %s not delivered (%s); retry at %s",
            notification.target,
            notification.id,
            notification.channel,
            error,
            retry_at.astimezone().strftime("%H:%M:%S"),
        )
        return Delivery(notification, False, error)
