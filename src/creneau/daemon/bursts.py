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
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from creneau import sources
from creneau.alerts import outbox
from creneau.check.record import Recorded, enqueue_now
from creneau.daemon.context import DaemonContext
from creneau.daemon.schedule import Schedule
from creneau.expected import (
    BURST_EVERY,
    BURST_LEAD,
    BURST_SPAN,
    NEVER_BEFORE,
    burst_instants,
    in_window,
    session_keeps_for,
    solve_captcha_before,
)
from creneau.results import Status
from creneau.store import STORE_FAILURES
from creneau.targets import TargetBase

log = logging.getLogger("creneau")

Watch = Callable[[TargetBase], Awaitable[Recorded | None]]
CLEAR = (Status.AVAILABLE, Status.NONE)
CLEAR_STATUSES = {status.value for status in CLEAR}
REFRESH = timedelta(seconds=15)


@dataclass
class Burst:
    """The burst planned at one announced instant for one target."""

    target: str
    at: datetime
    job_ids: list[str] = field(default_factory=list)
    prepared: bool = False  # a person was asked to solve the CAPTCHA before it
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
        self.session_live: dict[str, bool] = {}  # whether its last check read the site
        self.unpaid: dict[str, datetime] = {}  # an announcement left unplanned, said once

    def start(self) -> None:
        """A new term: its scheduler has no burst job yet; what the store knows is read
        now and every REFRESH."""
        self.planned = {}
        scheduler = self.schedule.scheduler
        if scheduler is not None:
            every = IntervalTrigger(seconds=REFRESH.total_seconds())
            scheduler.add_job(
                self.refresh,
                every,
                id="#announced",
                next_run_time=self.context.now(),
                max_instances=1,
                coalesce=True,
            )

    def follow(self, recorded: Recorded) -> None:
        """After each check: a release seen ends the burst in progress; an announcement
        (new, moved or gone) plans, moves or drops the target's burst."""
        result = recorded.result
        self.session_live[result.target] = result.status in CLEAR
        burst = self.planned.get(result.target)
        if burst is not None and not burst.seen and self._release_seen(burst, recorded):
            burst.seen = True
            self._finish(burst, result.checked_at)
        announced = result.releases.next_at if result.releases else None
        self._follow(result.target, announced, result.status in CLEAR, result.checked_at)
        if (planned := self.planned.get(result.target)) is not None:
            self._prepare_if_lost(planned, result.status, result.checked_at)

    def _prepare_if_lost(self, burst: Burst, status: Status, checked_at: datetime) -> None:
        """A site session lost after the prepare alert's time (a check met the CAPTCHA
        again): a person is asked now, once."""
        target = self._target(burst.target)
        if target is None or burst.prepared or status is not Status.CAPTCHA:
            return
        if burst.at - target.prepare <= checked_at < burst.at:
            now = self.context.now()
            self._add_job(f"{target.name}#prepare", now, self._prepare, burst, target.name)

    async def refresh(self) -> None:
        """What checks the daemon did not make told (after a CAPTCHA, from the dashboard or
        another process): the announcements they recorded, whether a site session lives."""
        store, names = self.context.store, [t.name for t in self.context.config.targets]
        try:
            latest = await self.context.db(store.latest_checks)
            followed = (await self.context.db(store.latest_announcements, names)).values()
        except STORE_FAILURES:
            return
        for check in latest:
            self.session_live[check.target] = check.status in CLEAR_STATUSES
        last = {check.target: check.started_at for check in latest}
        for found in followed:
            if found is not None and found.outcome == "pending":
                self._follow(found.target, found.at, False, last.get(found.target))

    def _follow(
        self, name: str, announced: datetime | None, clear: bool, checked_at: datetime | None
    ) -> None:
        now, burst = self.context.now(), self.planned.get(name)
        if burst is not None and burst.at - NEVER_BEFORE <= now <= burst.end:
            return  # under way: it runs to its end (the announcement goes once published)
        if burst is not None and now > burst.end:
            self._cancel(burst)
            burst = None
        if announced is None:
            if burst is not None and clear:
                log.info("%s: the site no longer announces its release", name)
                self._cancel(burst)
            return
        target = self._target(name)
        if target is None or announced + BURST_SPAN <= now:
            return
        if burst is None or burst.at != announced:
            if burst is not None:
                self._cancel(burst)
            self._plan(target, announced, now)
        if (planned := self.planned.get(name)) is not None and checked_at is not None:
            self._keep_session(planned, checked_at)

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
        instants = burst_instants(at)
        if self.schedule.bursts.owed[target.name] >= len(instants):
            if self.unpaid.get(target.name) != at:  # said once; tried again at each check
                self.unpaid[target.name] = at
                log.warning(
                    "%s: no checks placed yet at the release announced for %s: the last "
                    "burst's checks are not paid back (no more checks a week than `every`)",
                    target.name,
                    self._local(at),
                )
            return
        burst = Burst(target.name, at)
        self.planned[target.name] = burst
        self.context.runtime.client.follow_announcement(target.name, at)
        self.schedule.hold(target, at - NEVER_BEFORE, burst.end)
        for index, instant in enumerate(instants):
            if instant <= now:
                continue
            last = index == len(instants) - 1
            job_id = f"{target.name}#burst{index}"
            self._add_job(job_id, instant, self._check, burst, target.name, last)
        if sources.get(target.system).session_lifetime is not None:
            prepare_at = max(now + BURST_EVERY, at - target.prepare)
            if prepare_at < at:
                self._add_job(
                    f"{target.name}#prepare", prepare_at, self._prepare, burst, target.name
                )
        log.info(
            "%s: the site announces a release at %s; %d checks placed around it",
            target.name,
            self._local(at),
            sum(1 for instant in instants if instant > now),
        )

    def _keep_session(self, burst: Burst, checked_at: datetime) -> None:
        """A site session a person opened ends after its idle lifetime: when no check
        would use it in time before the burst, one check does (a single request when the
        session is live), as late as the session allows."""
        target = self._target(burst.target)
        lifetime = sources.get(target.system).session_lifetime if target else None
        if target is None or lifetime is None or not self.session_live.get(target.name):
            return
        due = checked_at + session_keeps_for(lifetime)
        following = self.schedule.next_run(target.name)
        if due >= burst.at - BURST_LEAD or (following is not None and following <= due):
            return
        self._add_job(f"{target.name}#keep", due, self._keep_alive, burst, target.name)

    async def _keep_alive(self, burst: Burst, name: str) -> None:
        target = self._target(name)
        if target is None or self.planned.get(name) is not burst:
            return
        if await self.watch(target) is not None:
            self.schedule.bursts.owe(name)

    async def _check(self, burst: Burst, name: str, last: bool) -> None:
        target = self._target(name)
        if burst.seen or target is None or self.planned.get(name) is not burst:
            return
        if self._first_in_window(burst):
            await self._say_if_ready(burst, target)
        if await self.watch(target) is not None:
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

    def _add_job(
        self,
        job_id: str,
        at: datetime,
        job: Callable[..., Awaitable[None]],
        burst: Burst,
        *args: Any,
    ) -> None:
        scheduler = self.schedule.scheduler
        if scheduler is None:
            return
        trigger = DateTrigger(at)
        scheduler.add_job(
            job,
            trigger,
            args=[burst, *args],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=5,
        )
        if job_id not in burst.job_ids:
            burst.job_ids.append(job_id)

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

    async def _say_if_ready(self, burst: Burst, target: TargetBase) -> None:
        """At T, whether a person's site session is ready: recorded with the announcement
        (the dashboard shows it), and logged when it is not."""
        if sources.get(target.system).session_lifetime is None:
            return
        ready = self._ready(target)
        await self.context.write(
            self.context.store.mark_session_ready, target.name, burst.at, ready
        )
        if not ready:
            log.warning(
                "%s: no site session is ready at the announced release (%s): nobody solved "
                "the CAPTCHA; checking anyway",
                target.name,
                self._local(burst.at),
            )

    async def _prepare(self, burst: Burst, name: str) -> None:
        """Before T, a person is asked to solve the CAPTCHA when no live site session
        would let the burst read the slots."""
        target = self._target(name)
        routing = self.context.runtime.routes.get(name)
        if target is None or routing is None or self.planned.get(name) is not burst:
            return
        if burst.prepared or self._ready(target):
            return
        burst.prepared = True
        solve_before = solve_captcha_before(burst.at, target.prepare)
        if solve_before <= self.context.now():  # asked late: the session was lost since
            solve_before = burst.at
        event = outbox.prepare_event(name, target.system, target.url, burst.at, solve_before)
        store, now = self.context.store, self.context.now()
        if await self.context.write(enqueue_now, store, event, routing.destinations, now):
            self.context.wake_sender.set()
            log.info(
                "%s: asked a person to solve the CAPTCHA before %s", name, self._local(solve_before)
            )

    def _first_in_window(self, burst: Burst) -> bool:
        return abs((self.context.now() - burst.at).total_seconds()) < BURST_EVERY.total_seconds()

    def _ready(self, target: TargetBase) -> bool:
        """Whether the target's checks can read its slots now: a system without a site
        session always can; one with a session, once a person opened one still alive."""
        if sources.get(target.system).session_lifetime is None:
            return True
        return self.session_live.get(target.name, False)

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.context.config.creneau.zone).strftime("%Y-%m-%d %H:%M")

    def _target(self, name: str) -> TargetBase | None:
        """The target as the config in force has it (None: removed or paused since)."""
        for target in self.context.config.targets:
            if target.name == name and not target.paused:
                return target
        return None
