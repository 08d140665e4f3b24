"""Delivers the outbox through Apprise, one channel URL at a time, and records each outcome.
When anything is due for a URL, everything that waits for it goes as one message, oldest
first, rendered in the channel's own format (Apprise tells it per URL) and capped to what it
accepts. What no longer holds is not sent late: slots already gone are left out, an alert
whose trouble has cleared is withdrawn, and so is one of a release whose time has passed. A
failing URL is retried with backoff and never holds back the others. Apprise runs in a child
process for each round that has something to send (creneau.alerts.channels): the daemon never
holds it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from creneau.alert_kinds import Destination, OutboxEvent
from creneau.alerts.channels import AppriseSession, Channel, channel_of
from creneau.alerts.outbox import quiet_until
from creneau.config import Config
from creneau.details import Detail
from creneau.redact import redact
from creneau.store import PendingNotification, Store, StoreCall, inline
from creneau.url_keys import url_key

if TYPE_CHECKING:
    from creneau.alerts.messages import Messages

log = logging.getLogger(__name__)

SLOT_ALERT_EXPIRY = timedelta(hours=6)
OTHER_ALERT_EXPIRY = timedelta(hours=24)
# Rows of a URL that wait for a later retry (or for quiet hours to end) go along when another
# row of that URL is due: one message, oldest first, instead of one per backoff schedule.
WAITING_LOOKAHEAD = timedelta(days=2)
WAITING_LIMIT = 500
PERSON_STATES = ("captcha", "page_changed", "failing")  # outbox.trouble_state's states
Send = Callable[[str, str, str, str], Awaitable[tuple[bool, str]]]  # url, title, body, format


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


class CurrentState(Protocol):
    """What creneau knows now, to send only what still holds."""

    def open_slots(self, target: str) -> set[tuple[str, datetime]]:
        """(guichet id, start) of the slots the target offers now."""
        ...

    def alert_state(self, target: str) -> str | None:
        """The trouble the target is in as last alerted (None: a clear answer since)."""
        ...

    def host_is_up(self, host: str) -> bool:
        """The host's breaker closed again after a probe."""
        ...


class StoreState:
    """CurrentState read from the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open_slots(self, target: str) -> set[tuple[str, datetime]]:
        return self.store.open_slots(target)

    def alert_state(self, target: str) -> str | None:
        with self.store.transaction() as tx:  # reads only
            return tx.alert_state(target)[0]

    def host_is_up(self, host: str) -> bool:
        state = self.store.host_states().get(host)
        return state is not None and state.open_until is None


def stale_alerts(rows: Sequence[PendingNotification], state: CurrentState) -> dict[int, Detail]:
    """Trouble alerts that no longer hold, with why: the target gave a clear answer (or is in
    another trouble, told by a newer alert), the host answers again. The "back up" alert of a
    host whose "down" alert is withdrawn goes with it: alone, it would mean nothing."""
    reasons: dict[int, Detail] = {}
    states: dict[str, str | None] = {}
    recovered: set[str] = set()
    for row in rows:
        name = row.event.get("event")
        if name in PERSON_STATES:
            if row.target not in states:
                states[row.target] = state.alert_state(row.target)
            now = states[row.target]
            if now != name:
                shown = redact(row.target)
                reasons[row.id] = (
                    Detail("outbox.withdrawn_clear", target=shown)
                    if now is None
                    else Detail("outbox.withdrawn_other_state", target=shown, state=now)
                )
        elif name == "host_down":
            host = str(row.event.get("host", ""))
            if state.host_is_up(host):
                reasons[row.id] = Detail("outbox.withdrawn_host_up", host=host)
                recovered.add(host)
        elif name == "host_up" and row.event.get("host") in recovered:
            reasons[row.id] = Detail("outbox.withdrawn_with_down")
    return reasons


# Events about an announced release: once its instant has passed they are no news (the
# slot alert tells what happened), so one still waiting then (quiet hours, a channel down)
# is not sent late.
RELEASE_EVENTS = ("release_announced", "release_changed", "release_withdrawn", "prepare_captcha")


def passed_releases(rows: Sequence[PendingNotification], now: datetime) -> dict[int, Detail]:
    reasons: dict[int, Detail] = {}
    for row in rows:
        if row.event.get("event") not in RELEASE_EVENTS:
            continue
        at = datetime.fromisoformat(str(row.event["at"]))
        if at <= now:
            shown = redact(row.target)
            reasons[row.id] = Detail("outbox.withdrawn_release_passed", target=shown, at=at)
    return reasons


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
        send: Send | None = None,
        slot_expiry: timedelta = SLOT_ALERT_EXPIRY,
        state: CurrentState | None = None,
        channel_of: Callable[[str], Channel] = channel_of,
    ) -> None:
        self.store = store
        self.plans = {plan.name: plan for plan in channels}
        self.urls = {(plan.name, url_key(url)): url for plan in channels for url in plan.urls}
        self.zone = zone or ZoneInfo("Europe/Paris")
        self._messages = messages
        self.db = db
        self.now = now
        self._apprise = AppriseSession()
        self.send: Send = send or self._apprise.send
        self.slot_expiry = slot_expiry
        self.state: CurrentState = state or StoreState(store)
        self._channel_of = channel_of
        self._channels: dict[str, Channel] = {}
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
        from creneau.alerts.messages import Messages, dashboard_address

        plans = [
            ChannelPlan(c.name, c.secret_urls, c.quiet_hours, c.wake_for_slots)
            for c in config.notify
        ]
        settings = config.creneau
        messages = Messages(
            settings.language,
            settings.zone,
            config.templates,
            dashboard_url=dashboard_address(config.web),
        )
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
            from creneau.alerts.messages import Messages

            self._messages = Messages(zone=self.zone)
        return self._messages

    async def send_now(self, destinations: Sequence[Destination], event: OutboxEvent) -> int:
        """Send at once, without the outbox: for when the database cannot be written. Each
        URL that takes the event's kind gets one message; how many went out."""
        try:
            return await self._send_now(destinations, event)
        finally:
            await self._apprise.close()

    async def _send_now(self, destinations: Sequence[Destination], event: OutboxEvent) -> int:
        sent = 0
        for destination in destinations:
            if event.kind not in destination.kinds:
                continue
            shows = self._channel(destination.url)
            rendered = self.messages.render([event.event], shows)
            try:
                ok, error = await self.send(
                    destination.url, rendered.title, rendered.body, rendered.format
                )
            except Exception as failure:  # a plugin bug must not stop the others
                ok, error = False, redact(f"{type(failure).__name__}: {failure}")
            if not ok:
                log.warning("channel %s: direct alert not sent (%s)", destination.channel, error)
            sent += ok
        return sent

    async def deliver_due(self) -> list[Delivery]:
        """Sends what is due, each URL's rows as one message; Apprise's process, started at
        the first send, ends with the round."""
        try:
            return await self._deliver_due()
        finally:
            await self._apprise.close()

    async def _deliver_due(self) -> list[Delivery]:
        now = self.now()
        due: list[PendingNotification] = await self.db(self.store.outbox.claim_due, now)
        if not due:
            return []
        waiting: list[PendingNotification] = await self.db(
            self.store.outbox.claim_due, now + WAITING_LOOKAHEAD, WAITING_LIMIT
        )
        urls = {(row.channel, row.url_key) for row in due}
        rows = {row.id: row for row in waiting if (row.channel, row.url_key) in urls}
        rows.update((row.id, row) for row in due)
        by_url: dict[tuple[str, str], list[PendingNotification]] = {}
        for row in sorted(rows.values(), key=lambda row: (row.created_at, row.id)):
            by_url.setdefault((row.channel, row.url_key), []).append(row)
        deliveries = []
        for (channel, key), url_rows in by_url.items():
            deliveries += await self._deliver_to(channel, key, url_rows)
        return deliveries

    async def _deliver_to(
        self, channel: str, key: str, rows: list[PendingNotification]
    ) -> list[Delivery]:
        url = self.urls.get((channel, key))
        if url is None:
            reason = Detail("outbox.channel_gone", channel=channel)
            await self.db(self.store.outbox.mark_failed, [row.id for row in rows], reason, None)
            return [Delivery(tuple(rows), False, error=str(reason))]
        rows = await self._drop_expired(rows)
        rows = await self._hold_for_quiet_hours(self.plans.get(channel), rows)
        rows = await self._withdraw_stale(rows)
        if not rows:
            return []
        events = await self.db(self._current_events, rows)
        from creneau.alerts.messages import merge

        if not merge(events):
            reason = Detail("outbox.slots_gone")
            await self.db(self.store.outbox.mark_expired, [row.id for row in rows], reason)
            return []
        return [await self._send(url, channel, rows, events)]

    async def _withdraw_stale(self, rows: list[PendingNotification]) -> list[PendingNotification]:
        reasons: dict[int, Detail] = await self.db(stale_alerts, rows, self.state)
        reasons.update(passed_releases(rows, self.now()))
        by_reason: dict[Detail, list[int]] = {}
        for row_id, reason in reasons.items():
            by_reason.setdefault(reason, []).append(row_id)
        for reason, ids in by_reason.items():
            await self.db(self.store.outbox.mark_expired, ids, reason)
        return [row for row in rows if row.id not in reasons]

    def _current_events(self, rows: list[PendingNotification]) -> list[Mapping[str, Any]]:
        """The rows' events as they hold now: new slots that are gone are left out."""
        from creneau.alerts.messages import still_open

        open_slots: dict[str, set[tuple[str, datetime]]] = {}
        events: list[Mapping[str, Any]] = []
        for row in rows:
            if row.event.get("event") == "new_slots":
                if row.target not in open_slots:
                    open_slots[row.target] = self.state.open_slots(row.target)
                events.append(still_open(row.event, open_slots[row.target]))
            else:
                events.append(row.event)
        return events

    def _channel(self, url: str) -> Channel:
        if url not in self._channels:
            self._channels[url] = self._channel_of(url)
        return self._channels[url]

    async def _drop_expired(self, rows: list[PendingNotification]) -> list[PendingNotification]:
        """A slot alert that could not go out in time is worth nothing late: expired, not
        sent. Alerts held for quiet hours are meant to go late, in the digest."""
        now = self.now()
        expired = [
            row for row in rows if not row.held and now - row.created_at > self._expiry(row.kind)
        ]
        if expired:
            reason = Detail("outbox.too_old", age=str(self._expiry(expired[0].kind)))
            await self.db(self.store.outbox.mark_expired, [row.id for row in expired], reason)
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
            await self.db(self.store.outbox.mark_held, [row.id for row in held], until)
        return [row for row in rows if row not in held]

    async def _send(
        self,
        url: str,
        channel: str,
        rows: list[PendingNotification],
        events: list[Mapping[str, Any]],
    ) -> Delivery:
        ids = [row.id for row in rows]
        shows = self._channel(url)
        try:
            rendered = self.messages.render(events, shows)
        except Exception as failure:  # a template from the config must not lose an alert
            from creneau.alerts.messages import Messages

            log.error("a message template failed (%s); sending the default text", failure)
            fallback = Messages(
                self.messages.language, self.zone, dashboard_url=self.messages.dashboard_url
            )
            rendered = fallback.render(events, shows)
        try:
            ok, error = await self.send(url, rendered.title, rendered.body, rendered.format)
        except Exception as failure:  # a plugin bug must not lose the alert
            ok, error = False, redact(f"{type(failure).__name__}: {failure}")
        url_id = (channel, rows[0].url_key)
        if ok:
            await self.db(self.store.outbox.mark_sent, ids, self.now())
            if url_id in self._failing:
                self._failing.discard(url_id)
                log.info("channel %s delivers again; the alerts that waited went out", channel)
            return Delivery(tuple(rows), True, rendered.title)
        # The freshest alert sets the pace: a new one is retried soon, whatever waited before.
        attempts = min(row.attempts for row in rows) + 1
        retry_at = self.now() + retry_delay(attempts)
        await self.db(self.store.outbox.mark_failed, ids, error, retry_at)
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
