"""The daemon's watchdog: every minute, outside APScheduler (whose loop may be what broke),
a target whose check is overdue by its own plan means a daemon in trouble; people are told,
at most once per ALERT_AT_MOST_EVERY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from creneau.alert_kinds import OutboxEvent
from creneau.alerts.outbox import ALERT_AT_MOST_EVERY
from creneau.daemon.context import DaemonContext
from creneau.daemon.health import overdue
from creneau.daemon.schedule import Schedule
from creneau.fetch.client import MayNotFetch
from creneau.store import Superseded

log = logging.getLogger("creneau")

WATCHDOG_EVERY = timedelta(minutes=1)


class Watchdog:
    def __init__(self, context: DaemonContext, schedule: Schedule) -> None:
        self.context = context
        self.schedule = schedule
        self._told_at: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCHDOG_EVERY.total_seconds())
            if stop.is_set():
                return
            try:
                await self.look_for_stalls()
            except Superseded as superseded:
                self.context.guard.lose(str(superseded))
            except MayNotFetch:
                pass  # the term is over

    async def look_for_stalls(self) -> None:
        context = self.context
        now = context.now()
        planned = {name: self.schedule.next_run(name) for name in self.schedule.first_checks()}
        zone = context.config.creneau.zone
        late = overdue(context.config.targets, zone, planned, context.last_done, now)
        if not late:
            self._told_at = None
            return
        lines = [item.describe(now, zone) for item in late]
        log.error("checks are not made as planned: %s", "; ".join(lines))
        if self._told_at is not None and now - self._told_at < ALERT_AT_MOST_EVERY:
            return
        self._told_at = now
        await context.tell(OutboxEvent("", "trouble", {"event": "stalled", "late": lines}))
