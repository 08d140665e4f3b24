"""The daemon's schedule during a term: APScheduler 3 with one job per target on its plan
(first checks spread, adaptive timing learnt from past releases), spaced per host, and the
daemon's own jobs; its trigger never lets one target's arithmetic stop the scheduler."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from creneau import history, sources
from creneau.daemon.context import DaemonContext
from creneau.daemon.reload import ConfigChange
from creneau.expected import session_keeps_for
from creneau.learned import learned_patterns
from creneau.plan import CheckPlan, Spacing, adaptive_intervals, aimed_checks, hour_of_week
from creneau.store import STORE_FAILURES, Superseded
from creneau.targets import INTERVAL_FLOOR, TargetBase, is_loopback

RETRY_PLANNING_AFTER = timedelta(hours=1)
FIRST_CHECKS_SPREAD = timedelta(seconds=60)
FIRST_CHECKS_PER_TARGET = timedelta(seconds=0.3)
log = logging.getLogger(__name__)
daemon_log = logging.getLogger("creneau")
Job = Callable[[], Awaitable[None]]
CheckJob = Callable[[TargetBase], Awaitable[object]]


class PoliteTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """APScheduler 3 trigger applying a CheckPlan and the shared Spacing, keeping out of the
    target's burst windows (`daemon.bursts`) and paying back the checks they made."""

    def __init__(
        self, key: str, plan: CheckPlan, spacing: Spacing, burst_account: BurstAccount
    ) -> None:
        self.key = key
        self.plan = plan
        self.spacing = spacing
        self.burst_account = burst_account
        self._paid: tuple[datetime, timedelta] | None = None

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # An exception here would stop APScheduler's loop, and every target with it.
        try:
            if previous_fire_time is None:
                candidate = self.plan.first_check(now)
            else:
                candidate = self.plan.next_check(previous_fire_time)
                # Longer, to pay back the bursts' checks; never an interval in a learned
                # release window, checked at the floor on purpose: a later one pays instead.
                if not self.plan.aimed_at(previous_fire_time):
                    candidate += self._pay_back(previous_fire_time, candidate)
            candidate = self.burst_account.outside_windows(self.key, candidate)
            return self.spacing.reserve(self.key, candidate)
        except (ArithmeticError, ValueError) as failure:
            log.error(
                "%s: cannot plan its next check (%s); trying again in %s",
                self.key,
                failure,
                RETRY_PLANNING_AFTER,
            )
            return now + RETRY_PLANNING_AFTER

    def _pay_back(self, previous: datetime, candidate: datetime) -> timedelta:
        """What the interval after `previous` pays back of the bursts' checks. APScheduler
        asks for the same next time more than once after a run: it is paid once."""
        if self._paid is None or self._paid[0] != previous:
            self._paid = (previous, self.burst_account.pay_back(self.key, candidate - previous))
        return self._paid[1]

    def __str__(self) -> str:
        return f"polite[every={self.plan.every}]"


class BurstAccount:
    """Per target, the windows of its bursts (regular checks keep out of them) and the checks
    its bursts made that regular checks still owe: each owed check lengthens the intervals
    after it by one interval in all, so that a week with bursts makes no more checks than
    `every` alone. An interval is never lengthened past what keeps the target's site session
    alive (`expected.session_keeps_for`). Kept across reloads, not restarts."""

    def __init__(self) -> None:
        self.owed: defaultdict[str, float] = defaultdict(float)
        self.longest: dict[str, timedelta] = {}  # per target whose site session may end
        self.windows: dict[str, tuple[datetime, datetime]] = {}

    def owe(self, name: str, checks: float = 1) -> None:
        self.owed[name] += checks

    def pay_back(self, name: str, interval: timedelta) -> timedelta:
        """How much longer the interval of `interval` is made, paying back that share of
        a check."""
        if self.owed[name] <= 0 or interval <= timedelta(0):
            return timedelta(0)
        room = interval
        if (longest := self.longest.get(name)) is not None:
            room = max(timedelta(0), min(room, longest - interval))
        longer = min(room, interval * self.owed[name])
        self.owed[name] -= longer / interval
        return longer

    def hold(self, name: str, start: datetime, end: datetime) -> None:
        self.windows[name] = (start, end)

    def release(self, name: str) -> None:
        self.windows.pop(name, None)

    def outside_windows(self, name: str, at: datetime) -> datetime:
        """`at`, or the end of the target's burst window when `at` falls inside it."""
        window = self.windows.get(name)
        return window[1] if window and window[0] <= at < window[1] else at


class Schedule:
    """The scheduler of the term in progress (None: standing by). The daemon's own jobs
    have ids starting with "#", which target names cannot have."""

    def __init__(self, context: DaemonContext, check: CheckJob) -> None:
        self.context = context
        self.check = check
        self.scheduler: AsyncIOScheduler | None = None
        self.spacing: defaultdict[str, Spacing] = defaultdict(Spacing)  # one per host
        self.bursts = BurstAccount()

    async def start(
        self, last_checks: Mapping[str, datetime], heartbeat: Job, roll_up: Job
    ) -> None:
        """Every target not paused, then the heartbeat, adaptive timing and retention."""
        config = self.context.config
        self.spacing = defaultdict(Spacing)
        self.scheduler = AsyncIOScheduler(timezone=config.creneau.zone)
        targets = [target for target in config.targets if not target.paused]
        for index, target in enumerate(targets):
            try:
                await self.add(target, last_checks.get(target.name), index, len(targets))
            except (ArithmeticError, ValueError) as failure:  # one target, not all of them
                daemon_log.error(
                    "%s: not scheduled (%s); the other targets are", target.name, failure
                )
        self._add_own_jobs(heartbeat, roll_up, adaptive=any(t.adaptive for t in targets))
        self.scheduler.start()

    def _add_own_jobs(self, heartbeat: Job, roll_up: Job, *, adaptive: bool) -> None:
        assert self.scheduler is not None
        settings, now = self.context.config.creneau, self.context.now()
        once = {"max_instances": 1, "coalesce": True}
        if settings.heartbeat:
            hour, minute = settings.heartbeat.split(":")
            at = CronTrigger(hour=int(hour), minute=int(minute), timezone=settings.zone)
            self.scheduler.add_job(heartbeat, at, id="#heartbeat", misfire_grace_time=3600, **once)
        if adaptive:
            daily = IntervalTrigger(days=1, start_date=now + timedelta(days=1))
            self.scheduler.add_job(self.adapt, daily, id="#adaptive", **once)
        self.scheduler.add_job(
            roll_up,
            IntervalTrigger(hours=6, start_date=now + timedelta(hours=6)),
            id="#retention",
            next_run_time=now + timedelta(minutes=5),
            **once,
        )

    def shutdown(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    async def add(self, target: TargetBase, last: datetime | None, index: int, count: int) -> None:
        assert self.scheduler is not None
        first = self.first_run(target, last, index, count)
        plan = await self.plan(target)
        if (lifetime := sources.get(target.system).session_lifetime) is not None:
            self.bursts.longest[target.name] = session_keeps_for(lifetime)
        self.scheduler.add_job(
            self.check,
            PoliteTrigger(target.name, plan, self.spacing[target.host], self.bursts),
            args=[target],
            id=target.name,
            name=target.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(target.every.total_seconds())),
            next_run_time=first,
        )
        await self.save_next_check(target.name, first)

    def remove(self, name: str) -> None:
        if self.scheduler is not None and self.scheduler.get_job(name) is not None:
            self.scheduler.remove_job(name)
        for spacing in self.spacing.values():
            spacing.release(name)

    async def apply(self, change: ConfigChange, last_checks: Mapping[str, datetime]) -> None:
        """A reloaded config: targets removed or changed stop, changed or added start."""
        for name in (*change.removed, *(target.name for target in change.changed)):
            self.remove(name)
        again = (*change.changed, *change.added)
        for index, target in enumerate(again):
            try:
                await self.add(target, last_checks.get(target.name), index, len(again))
            except Superseded:
                raise
            except Exception as failure:  # one target's plan never stops the others'
                daemon_log.error("%s: not scheduled (%s)", target.name, failure)

    def first_run(
        self, target: TargetBase, last: datetime | None, index: int, count: int
    ) -> datetime:
        """Spread first checks over a minute, or more with many targets (never longer than
        the interval); never earlier than the interval allows after the last check recorded
        before a restart; inside the target's windows."""
        spread = min(target.every, max(FIRST_CHECKS_SPREAD, FIRST_CHECKS_PER_TARGET * count))
        first = self.context.now() + spread * (index / max(count, 1))
        if last is not None:
            first = max(first, last + target.every)
        first = target.plan(self.context.config.creneau.zone).first_check(first)
        return self.spacing[target.host].reserve(target.name, first)

    async def plan(self, target: TargetBase) -> CheckPlan:
        """The target's timing; for an adaptive one, shaped by its past releases: aimed at
        the weekly patterns learned from them, or else by the hours they fell in."""
        zone = self.context.config.creneau.zone
        if not target.adaptive:
            return target.plan(zone)
        store = self.context.store
        try:
            times = await self.context.db(history.release_times, store, target.name)
            since = await self.context.db(history.first_check, store, target.name)
        except STORE_FAILURES:
            times, since = [], None
        floor = timedelta(seconds=1) if is_loopback(target.url) else INTERVAL_FLOOR
        patterns = learned_patterns(target.name, times, self.context.now(), zone, since=since)
        aimed = aimed_checks(patterns, target.every, floor, zone)
        if aimed is not None:
            return target.plan(zone, aimed=aimed)
        hours = [hour_of_week(at, zone) for at in times]
        return target.plan(zone, adaptive_intervals(hours, target.every, floor))

    async def adapt(self) -> None:
        """Once a day, adaptive targets learn from the releases seen since."""
        for target in self.context.config.targets:
            job = self.scheduler.get_job(target.name) if self.scheduler else None
            if target.adaptive and job is not None:
                job.trigger.plan = await self.plan(target)

    def postpone(self, target: TargetBase, until: datetime) -> None:
        """The host asked us to wait (Retry-After, cool-down): no check of it before then."""
        job = self.scheduler.get_job(target.name) if self.scheduler else None
        if job is not None and job.next_run_time and job.next_run_time < until:
            job.modify(next_run_time=self.spacing[target.host].reserve(target.name, until))

    def hold(self, target: TargetBase, start: datetime, end: datetime) -> None:
        """No regular check of the target in [start, end): a burst checks it then; one
        planned inside moves to the end."""
        self.bursts.hold(target.name, start, end)
        job = self.scheduler.get_job(target.name) if self.scheduler else None
        if job is not None and job.next_run_time and start <= job.next_run_time < end:
            job.modify(next_run_time=self.spacing[target.host].reserve(target.name, end))

    def after_burst(self, target: TargetBase, last: datetime) -> None:
        """A burst ended with a check at `last`: the regular checks go on from it, as after
        any check of theirs."""
        self.bursts.release(target.name)
        job = self.scheduler.get_job(target.name) if self.scheduler else None
        if job is not None:
            following = job.trigger.get_next_fire_time(last, self.context.now())
            job.modify(next_run_time=following)

    def next_run(self, name: str) -> datetime | None:
        job = self.scheduler.get_job(name) if self.scheduler else None
        return job.next_run_time if job else None

    def next_checks(self) -> dict[str, datetime | None]:
        return {target.name: self.next_run(target.name) for target in self.context.config.targets}

    def first_checks(self) -> dict[str, datetime]:
        """When each target is checked next by the scheduler's jobs ({}: standing by)."""
        if self.scheduler is None:
            return {}
        return {
            job.id: job.next_run_time
            for job in self.scheduler.get_jobs()
            if not job.id.startswith("#")
        }

    def lag_seconds(self) -> float:
        now = self.context.now()
        due = [at for at in self.next_checks().values() if at is not None and at < now]
        return max(((now - at).total_seconds() for at in due), default=0.0)

    async def save_next_check(self, name: str, at: datetime | None) -> None:
        # Only `creneau status` reads it, and the next check writes it again.
        await self.context.write(self.context.store.save_next_check, name, at, self.context.now())
