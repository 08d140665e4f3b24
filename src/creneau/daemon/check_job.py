"""The scheduled check of one target, as the daemon runs it: recorded (or kept for later
while the store fails, `daemon.outage`), logged, the next check moved when the host asked
to wait; a check in flight at a clean stop is recorded as interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from creneau.alerts import outbox
from creneau.check.record import NotRecorded, Recorded, record
from creneau.daemon.context import DaemonContext
from creneau.daemon.schedule import Schedule
from creneau.details import Detail, Said, render
from creneau.fetch.client import MayNotFetch, TooSoon
from creneau.results import CheckResult, Status
from creneau.store import STORE_FAILURES, Superseded
from creneau.targets import TargetBase
from creneau.usecases.check_once import check_once

log = logging.getLogger("creneau")

STOP_GRACE_SECONDS = 10.0
INTERRUPTED = Detail("interrupted")


class CheckJob:
    def __init__(
        self,
        context: DaemonContext,
        schedule: Schedule,
        on_recorded: Callable[[Recorded], None] | None = None,
    ) -> None:
        self.context = context
        self.schedule = schedule
        self.on_recorded = on_recorded
        self.in_flight: set[asyncio.Task[Any]] = set()

    def track(self, task: asyncio.Task[Any]) -> None:
        """A task a clean stop waits for (a grace period) and a lost term cancels."""
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def watch(self, target: TargetBase) -> Recorded | None:
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        started = self.context.now()
        try:
            return await self._watch(target)
        except asyncio.CancelledError:
            # The daemon is stopping (APScheduler would log it as a failure): the check is
            # recorded as interrupted, so that the history shows it was attempted; not when
            # its term is lost (it writes nothing more).
            if not self.context.guard.abrupt:
                await self._record_interrupted(target, started)
            return None
        except Superseded as superseded:
            self.context.guard.lose(str(superseded))
            return None
        except MayNotFetch as refused:
            if self.context.guard.may_act():
                log.warning("%s: check stopped before a request: %s", target.name, refused)
            return None
        finally:
            if task is not None:
                self.in_flight.discard(task)

    async def check_once(self, target: TargetBase) -> Recorded:
        """The check itself: fetched, read, recorded, its alerts queued."""
        return await check_once(self.context.runtime, target)

    async def _watch(self, target: TargetBase) -> Recorded | None:
        context = self.context
        if context.outage.since is not None:
            await self._catch_up()
        try:
            recorded = await self.check_once(target)
        except TooSoon as early:
            log.info("%s: skipped, %s", target.name, self._english(early.detail))
            return None
        except NotRecorded as missed:
            context.last_done[target.name] = missed.result.checked_at
            routing = context.runtime.routes[target.name]
            await context.outage.not_recorded(missed, routing, context.now())
            return None
        result = recorded.result
        context.last_done[target.name] = result.checked_at
        context.outage.remember(result)
        self._log(recorded)
        if result.next_attempt_at:
            self.schedule.postpone(target, result.next_attempt_at)
        await self.schedule.save_next_check(target.name, self.schedule.next_run(target.name))
        if recorded.queued:
            context.wake_sender.set()
        if self.on_recorded:
            self.on_recorded(recorded)
        return recorded

    async def _record_interrupted(self, target: TargetBase, started: datetime) -> None:
        result = CheckResult(
            target=target.name,
            system=target.system,
            url=target.url,
            status=Status.ERROR,
            checked_at=started,
            detail=INTERRUPTED,
        )
        quiet = outbox.Routing(self.context.config.creneau.zone)
        with contextlib.suppress(Superseded, *STORE_FAILURES):
            await self.context.db(record, self.context.store, result, quiet)

    async def _catch_up(self) -> None:
        """Before a check is recorded, those made while the database failed (their alerts
        went directly): oldest first, so that the new check's diff knows their slots."""
        context = self.context
        backlog = context.outage.backlog
        quiet = outbox.Routing(context.config.creneau.zone)
        caught = 0
        while backlog:
            missed = backlog[0]
            try:
                await context.db(record, context.store, missed.result, quiet, missed.host)
            except STORE_FAILURES:
                return  # still failing: the next check will say so
            backlog.popleft()
            caught += 1
        context.outage.recovered()
        if caught:
            log.info("caught up: %d checks made meanwhile are recorded", caught)

    async def stop(self, *, abrupt: bool) -> None:
        """A lost term cancels the checks in flight now; a clean stop lets them finish
        within a grace period."""
        if abrupt:
            for task in set(self.in_flight):
                task.cancel()
            if self.in_flight:
                await asyncio.wait(set(self.in_flight))
            return
        if not self.in_flight:
            return
        _done, pending = await asyncio.wait(set(self.in_flight), timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    def _log(self, recorded: Recorded) -> None:
        result = recorded.result
        parts = [f"{result.target}: {result.status.value}"]
        if result.status is Status.AVAILABLE:
            parts.append(f"{len(result.slots)} slot(s), {len(recorded.appeared)} new")
        if result.detail and result.status is not Status.AVAILABLE:
            parts.append(self._english(result.detail))
        parts.append(f"{result.requests} requests, {result.duration_ms} ms")
        level = logging.WARNING if result.status in (Status.UNKNOWN, Status.ERROR) else logging.INFO
        log.log(level, " · ".join(parts))

    def _english(self, detail: Said) -> str:
        """A detail as the log says it: in English, its instants in the configured zone
        (as the log's own times)."""
        return render(detail, "en", self.context.config.creneau.zone)
