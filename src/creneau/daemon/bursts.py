"""The checks placed at a release a target's site announced (`expected.burst_instants`): one
shortly before the announced instant T, then one every BURST_EVERY up to T + BURST_SPAN,
stopped once the release is seen; regular checks keep out of that window and pay its
checks back afterwards (`schedule.BurstAccount`). Only a site's own announcement opens such
a window: the polite client lowers the target's floor for it alone, and its host's budget
still paces every request."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.triggers.date import DateTrigger

from creneau.check.record import Recorded
from creneau.daemon.context import DaemonContext
from creneau.daemon.schedule import Schedule
from creneau.expected import BURST_SPAN, NEVER_BEFORE, burst_instants, in_window
from creneau.results import Status
from creneau.targets import TargetBase

log = logging.getLogger("creneau")

Watch = Callable[[TargetBase], Awaitable[Recorded | None]]
CLEAR = (Status.AVAILABLE, Status.NONE)


@dataclass
class Burst:
    """The burst planned at one announced instant for one target."""

    target: str
    at: datetime
    job_ids: list[str] = field(default_factory=list)
    made: int = 0
    seen: bool = False  # the release was seen: the checks left are dropped

    @property
    def end(self) -> datetime:
        return self.at + BURST_SPAN


class Bursts:
    """Each target's burst, planned from what its last check read of the site's
    announcement and followed by every check recorded."""

    def __init__(self, context: DaemonContext, schedule: Schedule, watch: Watch) -> None:
        self.context = context
        self.schedule = schedule
        self.watch = watch
        self.planned: dict[str, Burst] = {}

    def reset(self) -> None:
        """A new term: its scheduler has no burst job yet."""
        self.planned = {}

    def follow(self, recorded: Recorded) -> None:
        """After each check: a release seen ends the burst in progress; an announcement
        (new, moved or gone) plans, moves or drops the target's burst."""
        result, now = recorded.result, self.context.now()
        burst = self.planned.get(result.target)
        if burst is not None and not burst.seen and self._release_seen(burst, recorded):
            burst.seen = True
            self._finish(burst, result.checked_at)
        announced = result.releases.next_at if result.releases else None
        if burst is not None and burst.at - NEVER_BEFORE <= now <= burst.end:
            return  # under way: it runs to its end (the announcement goes once published)
        if burst is not None and now > burst.end:
            self._cancel(burst)
            burst = None
        if announced is None:
            if burst is not None and result.status in CLEAR:
                log.info("%s: the site no longer announces its release", result.target)
                self._cancel(burst)
            return
        if burst is not None and burst.at == announced:
            return
        target = self._target(result.target)
        if target is not None and announced + BURST_SPAN > now:
            if burst is not None:
                self._cancel(burst)
            self._plan(target, announced, now)

    def _release_seen(self, burst: Burst, recorded: Recorded) -> bool:
        result = recorded.result
        if not in_window(burst.at, result.checked_at):
            return False
        published = result.releases is not None and result.releases.last_at == burst.at
        return bool(recorded.appeared) or published

    def _plan(self, target: TargetBase, at: datetime, now: datetime) -> None:
        scheduler = self.schedule.scheduler
        if scheduler is None:
            return
        burst = Burst(target.name, at)
        self.planned[target.name] = burst
        self.context.runtime.client.follow_announcement(target.name, at)
        self.schedule.hold(target, at - NEVER_BEFORE, burst.end)
        instants = burst_instants(at)
        for index, instant in enumerate(instants):
            if instant <= now:
                continue
            job_id = f"{target.name}#burst{index}"
            scheduler.add_job(
                self._check,
                DateTrigger(instant),
                args=[burst, target.name, index == len(instants) - 1],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=5,
            )
            burst.job_ids.append(job_id)
        log.info(
            "%s: the site announces a release at %s; %d checks placed around it",
            target.name,
            at.astimezone(self.context.config.creneau.zone).strftime("%Y-%m-%d %H:%M"),
            len(burst.job_ids),
        )

    async def _check(self, burst: Burst, name: str, last: bool) -> None:
        target = self._target(name)
        if burst.seen or target is None or self.planned.get(name) is not burst:
            return
        recorded = await self.watch(target)
        if recorded is not None:
            burst.made += 1
            self.schedule.bursts.owe(name)
        if last and not burst.seen:
            self._finish(burst, self.context.now())

    def _finish(self, burst: Burst, last_check: datetime) -> None:
        """The release seen, or the window over: the checks left are dropped and the
        regular ones go on from the last check."""
        self._drop_jobs(burst)
        target = self._target(burst.target)
        if target is not None:
            self.schedule.after_burst(target, last_check)

    def _cancel(self, burst: Burst) -> None:
        self._drop_jobs(burst)
        self.schedule.bursts.release(burst.target)
        if self.planned.get(burst.target) is burst:
            del self.planned[burst.target]

    def _drop_jobs(self, burst: Burst) -> None:
        scheduler = self.schedule.scheduler
        for job_id in burst.job_ids:
            if scheduler is not None and scheduler.get_job(job_id) is not None:
                scheduler.remove_job(job_id)
        burst.job_ids = []

    def _target(self, name: str) -> TargetBase | None:
        """The target as the config in force has it (None: removed or paused since)."""
        for target in self.context.config.targets:
            if target.name == name and not target.paused:
                return target
        return None
