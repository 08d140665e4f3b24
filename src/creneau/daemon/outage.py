"""When the database cannot be written (deleted, corrupted, a full disk): the checks go on,
a person is told directly (not through the outbox, which lives in that database) at most once
an hour, new slots are still announced directly, and what was seen is recorded once writing
works again. The daemon drives it; the decisions here are plain."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from creneau.alert_kinds import Destination, OutboxEvent
from creneau.alerts import outbox
from creneau.alerts.outbox import Routing
from creneau.changes import SETTLED
from creneau.check.record import NotRecorded
from creneau.results import CheckResult, Slot, Status

log = logging.getLogger("creneau")

TELL_AT_MOST_EVERY = timedelta(hours=1)
BACKLOG_LIMIT = 2000  # checks kept in memory to record later (the oldest go first)
SendNow = Callable[[Sequence[Destination], OutboxEvent], Awaitable[int]]
SlotKey = tuple[str, datetime]


class StoreOutage:
    def __init__(self, send_now: SendNow, everyone: Sequence[Destination]) -> None:
        self.send_now = send_now
        self.everyone = everyone  # every channel URL: the outage concerns every target
        self.since: datetime | None = None
        self.reason = ""
        self.told_at: datetime | None = None
        self.backlog: deque[NotRecorded] = deque(maxlen=BACKLOG_LIMIT)
        self.open: dict[str, set[SlotKey]] = {}  # what the store last knew to be open

    def seed(self, target: str, open_slots: set[SlotKey]) -> None:
        self.open[target] = set(open_slots)

    def remember(self, result: CheckResult) -> None:
        """After a check was recorded: what is open now, for the next outage."""
        self.open[result.target] = _open_after(self.open.get(result.target, set()), result)

    async def not_recorded(self, missed: NotRecorded, routing: Routing, now: datetime) -> None:
        """A check made and not recorded: keep it, tell people, announce its new slots."""
        if self.since is None:
            self.since = now
            self.reason = _reason(missed.failure)
            log.error(
                "cannot write to the database (%s): checks go on but are not recorded "
                "until it works again",
                self.reason,
            )
        else:
            log.debug("database still unavailable: %s", missed.failure)
        self.backlog.append(missed)
        if self.told_at is None or now - self.told_at >= TELL_AT_MOST_EVERY:
            self.told_at = now
            await self.send_now(self.everyone, _outage_event(self.since, self.reason))
        await self._announce_new_slots(missed.result, routing)

    def recovered(self) -> None:
        """Writing works again (the backlog is recorded)."""
        if self.since is not None:
            log.info("the database works again; checks are recorded")
        self.since, self.reason, self.told_at = None, "", None

    async def _announce_new_slots(self, result: CheckResult, routing: Routing) -> None:
        known = self.open.get(result.target, set())
        new = [
            slot
            for slot in result.slots
            if _key(slot) not in known and routing.worth_alerting(slot, result.checked_at)
        ]
        self.open[result.target] = _open_after(known, result)
        if new:
            await self.send_now(routing.destinations, outbox.new_slots(result, new))


def _open_after(known: set[SlotKey], result: CheckResult) -> set[SlotKey]:
    settled = {
        guichet.id
        for guichet in result.guichets
        if guichet.status is Status.NONE or (guichet.status is Status.AVAILABLE and guichet.slots)
    }
    if result.status not in SETTLED:
        return known | {_key(slot) for slot in result.slots}
    return {key for key in known if key[0] not in settled} | {_key(s) for s in result.slots}


def _key(slot: Slot) -> SlotKey:
    return (slot.guichet_id, slot.start)


def _reason(failure: Exception) -> str:
    return str(getattr(failure, "orig", None) or failure or type(failure).__name__)


def _outage_event(since: datetime, reason: str) -> OutboxEvent:
    return OutboxEvent(
        "",
        "trouble",
        {"event": "store_failing", "since": since.isoformat(), "reason": reason},
    )
