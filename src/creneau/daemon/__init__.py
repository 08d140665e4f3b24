"""`creneau run`: schedules every target with APScheduler, records each check, and keeps the
outbox moving. Stops cleanly on SIGINT/SIGTERM; resumes from the store after a restart.

Several daemons may share a PostgreSQL database: each stands by until it leads a term
(`daemon.leader`), then resumes from the store as after a restart (host states, breakers,
Retry-After deadlines, token buckets, floors, site sessions, the outbox) and stops at once
when the term is lost: its checks are cancelled, its requests and messages refused before
they leave, its writes refused by the store's fence."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from creneau import history
from creneau.alerts import events as outbox
from creneau.alerts.deliver import Send
from creneau.alerts.events import ALERT_AT_MOST_EVERY
from creneau.check.record import NotRecorded, Recorded, enqueue_now, record, watch_once
from creneau.config import Config
from creneau.daemon.health import overdue
from creneau.daemon.heartbeat import heartbeat
from creneau.daemon.leader import ActiveTerm, Leadership, LeaseTiming
from creneau.daemon.outage import StoreOutage
from creneau.daemon.reload import compare, digest, not_taken
from creneau.daemon.schedule import PoliteTrigger
from creneau.details import Detail, Said, render
from creneau.fetch.client import MayNotFetch, PoliteClient, TooSoon
from creneau.fetch.politeness import Spend
from creneau.plan import CheckPlan, Spacing, adaptive_intervals, hour_of_week
from creneau.redact import redact
from creneau.results import CheckResult, Status
from creneau.runtime import Runtime
from creneau.store import STORE_FAILURES, DatabaseThread, OutboxEvent, Store, Superseded
from creneau.store import pages as archive
from creneau.targets import INTERVAL_FLOOR, TargetBase, is_loopback

log = logging.getLogger("creneau")

STOP_GRACE_SECONDS = 10.0
CONFIG_POLL = timedelta(milliseconds=500)
WATCHDOG_EVERY = timedelta(minutes=1)
INTERRUPTED = Detail("interrupted")
FIRST_CHECKS_SPREAD = timedelta(seconds=60)
FIRST_CHECKS_PER_TARGET = timedelta(seconds=0.3)


class Daemon:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        client: PoliteClient | None = None,
        on_recorded: Callable[[Recorded], None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        db: DatabaseThread | None = None,
        config_path: Path | None = None,
        timing: LeaseTiming | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path  # watched: a valid change is taken without a restart
        self._reload_wanted = asyncio.Event()
        self._config_text = config_path.read_bytes() if config_path else b""
        self._refused_config = b""  # the text last refused
        self._refusal_said: list[str] = []  # the mistakes last said (once per change)
        self.store = store
        # Virtual-time runs pass a DatabaseThread(inline=True): a worker thread runs in real
        # time, and the virtual clock would not wait for it.
        self.db = db or DatabaseThread()
        self.now = now
        self.on_recorded = on_recorded
        self.runtime = Runtime(config, store, client=client, db=self.db, now=now)
        self.client = self.runtime.client
        self.sender = self.runtime.sender
        self.sender.send = self._only_while_active(self.sender.send)
        self.routes = self.runtime.routes
        self.spacing: defaultdict[str, Spacing] = defaultdict(Spacing)  # one per host
        self._wake_sender = asyncio.Event()
        self._in_flight: set[asyncio.Task[Any]] = set()
        everyone = outbox.destinations([(c.name, c.secret_urls) for c in config.notify])
        self.outage = StoreOutage(self.sender.send_now, everyone)
        self._last_done: dict[str, datetime] = {}  # each target's last completed check
        self._stalled_told_at: datetime | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.timing = timing or LeaseTiming()
        self.leadership: Leadership | None = None
        self.term: ActiveTerm | None = None  # the term this daemon leads; None: standing by
        self.on_active: Callable[[], None] | None = None  # soon after each term begins
        self._term_over = asyncio.Event()
        self._abrupt = False  # the term was lost: nothing more is written, even "interrupted"
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by until this daemon leads, lead until the term is lost or `stop` is set,
        and so on until `stop`."""
        self.store.serve_daemon()
        if self.store.shared:
            self.client.before_request = self._before_request
        await self.db(self.store.upgrade)
        loop = asyncio.get_running_loop()
        self.leadership = Leadership(
            self.store, self.timing, db=self.db, now=self.now, monotonic=loop.time
        )
        reloader = asyncio.create_task(self._reload_when_asked(stop))
        try:
            while not stop.is_set():
                term = await self.leadership.wait_for_term(stop)
                if term is None:
                    break
                await self._lead(term, stop)
        finally:
            if not stop.is_set():
                reloader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reloader
            await self.leadership.release(None)
            self.leadership.close()
            self.store.serve_daemon(False)
            self.db.close()

    # --- a term: from the store, as after a restart; stopped at once when lost --------------

    async def _lead(self, term: ActiveTerm, stop: asyncio.Event) -> None:
        assert self.leadership is not None
        self.term, self._term_over = term, asyncio.Event()
        self.store.fence(term.epoch)
        me = self.store.me.instance
        if term.took_over_from:
            log.warning(
                "active: this daemon (%s) leads term %d, taking over from %s, which did not "
                "step down (its lease lapsed)",
                me,
                term.epoch,
                term.took_over_from,
            )
        else:
            log.info("active: this daemon (%s) leads term %d", me, term.epoch)
        holder = asyncio.create_task(self.leadership.hold(term))
        started = False
        try:
            started = await self._start_term(term)
            if started:
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(term.lost.wait()),
                ]
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            if started:
                await self._end_term(abrupt=term.lost.is_set())
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
            self.store.fence(None)
            self.term = None
            if term.lost.is_set():
                log.error("stopped checking at once: %s; standing by", term.reason)
            await self.leadership.release(term)

    async def _start_term(self, term: ActiveTerm) -> bool:
        """What a restart does: the store's state into the client, the outage watch and the
        scheduler, then the sender and the watchdog. False (the term lost) when the store
        cannot be read."""
        try:
            floors = await self.db(self.store.floors)
            open_slots = {
                target.name: await self.db(self.store.open_slots, target.name)
                for target in self.config.targets
            }
            host_states = await self.db(self.store.host_states)
        except Superseded as superseded:
            term.lose(str(superseded))
            return False
        except STORE_FAILURES as failure:
            term.lose(f"cannot read the database ({type(failure).__name__})")
            return False
        self._last_done.update(floors)
        self.outage = StoreOutage(self.sender.send_now, self.outage.everyone)
        for name, slots in open_slots.items():
            self.outage.seed(name, slots)
        self.runtime.seed(host_states, floors)
        self.spacing = defaultdict(Spacing)
        last_checks = floors
        self.scheduler = AsyncIOScheduler(timezone=self.config.creneau.zone)
        targets = [target for target in self.config.targets if not target.paused]
        for index, target in enumerate(targets):
            try:
                await self._schedule(target, last_checks.get(target.name), index, len(targets))
            except (ArithmeticError, ValueError) as failure:  # one target, not all of them
                log.error("%s: not scheduled (%s); the other targets are", target.name, failure)
        if self.config.creneau.heartbeat:
            hour, minute = self.config.creneau.heartbeat.split(":")
            self.scheduler.add_job(
                self.heartbeat,
                CronTrigger(hour=int(hour), minute=int(minute), timezone=self.config.creneau.zone),
                id="#heartbeat",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        if any(target.adaptive for target in targets):
            self.scheduler.add_job(
                self.adapt,
                IntervalTrigger(days=1, start_date=self.now() + timedelta(days=1)),
                id="#adaptive",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.add_job(
            self.roll_up,
            IntervalTrigger(hours=6, start_date=self.now() + timedelta(hours=6)),
            id="#retention",
            max_instances=1,
            coalesce=True,
            next_run_time=self.now() + timedelta(minutes=5),
        )
        self.scheduler.start()
        await self._say_config_loaded()
        self._tasks = [
            asyncio.create_task(self._deliver_until(self._term_over)),
            asyncio.create_task(self._watch_the_plan(self._term_over)),
        ]
        if self.on_active is not None:
            asyncio.get_running_loop().call_later(0.5, self.on_active)
        return True

    async def _end_term(self, *, abrupt: bool) -> None:
        """A clean stop lets checks in flight finish (a grace period) and the sender finish
        its round; a lost term cancels both now, and writes nothing more."""
        self._term_over.set()
        self._abrupt = abrupt
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if abrupt:
            for task in set(self._in_flight):
                task.cancel()
            if self._in_flight:
                await asyncio.wait(set(self._in_flight))
        else:
            await self._finish_in_flight()
        self._wake_sender.set()
        if abrupt:  # the sender and the watchdog, even while waiting on a silent database
            for task in self._tasks:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.scheduler = None
        self._abrupt = False

    def _lose(self, reason: str) -> None:
        if self.term is not None:
            self.term.lose(reason)

    def _may_act(self) -> bool:
        return self.term is not None and self.term.may_act()

    async def _before_request(self, spend: Spend) -> None:
        """PostgreSQL: a request leaves only while this daemon leads, and once what it
        spends (the host's bucket, the target's floor) is written under the term's fence:
        a daemon that was paused, or whose term is over, sends nothing."""
        if not self._may_act():
            raise MayNotFetch("this daemon is not the active one")
        try:
            await self.db(self.store.save_spend, spend)
        except Superseded as superseded:
            self._lose(str(superseded))
            raise MayNotFetch(str(superseded)) from None
        except STORE_FAILURES as failure:
            raise MayNotFetch(
                f"what the request spends cannot be written ({type(failure).__name__})"
            ) from None
        if not self._may_act():
            raise MayNotFetch("this daemon's term ended while the request waited")

    def _only_while_active(self, send: Send) -> Send:
        """The sender's channel call: nothing goes out unless this daemon leads (the
        outbox row stays claimed until a daemon that takes over drops the claim)."""

        async def send_while_active(url: str, title: str, body: str, form: str) -> tuple[bool, str]:
            if not self._may_act():
                raise MayNotFetch("this daemon is not the active one: not sent")
            return await send(url, title, body, form)

        return send_while_active

    def read_only_reason(self) -> str | None:
        """None while this daemon leads; else why its dashboard changes nothing."""
        if self._may_act():
            return None
        me = self.store.me.instance
        leader = self.leadership.leader if self.leadership is not None else None
        active = f"{leader.instance} is active" if leader and leader.instance else "none is active"
        return (
            f"this creneau ({me}) stands by and changes nothing: {active}; make changes on "
            "the active daemon's dashboard"
        )

    # --- the config, taken again without a restart ------------------------------------------

    def request_reload(self) -> None:
        """SIGHUP: read the config file again."""
        self._reload_wanted.set()

    async def _reload_when_asked(self, stop: asyncio.Event) -> None:
        """On SIGHUP, and when the file's content changes (looked at twice a second)."""
        if self.config_path is None:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_wanted.wait(), CONFIG_POLL.total_seconds())
            asked = self._reload_wanted.is_set()
            self._reload_wanted.clear()
            if stop.is_set():
                return
            try:
                text = await asyncio.to_thread(self.config_path.read_bytes)
            except OSError as failure:
                log.warning(
                    "config: cannot read %s (%s); the running config stays",
                    self.config_path,
                    failure,
                )
                continue
            if asked or (text != self._config_text and text != self._refused_config):
                try:
                    await self.reload(text)
                except Superseded as superseded:
                    self._lose(str(superseded))
                except Exception as failure:  # the reloader outlives whatever a reload meets
                    log.debug("reloading %s failed", self.config_path, exc_info=True)
                    self._config_refused(text, [not_taken(self.config_path, failure)])

    async def reload(self, text: bytes) -> None:
        """Take the new config if it is valid; otherwise go on with the running one and say
        why, once (log and a trouble alert)."""
        from creneau.config import ConfigError, load_config

        assert self.config_path is not None
        try:
            new = load_config(self.config_path)
        except ConfigError as failure:
            self._config_refused(text, failure.lines)
            return
        change = compare(self.config, new)
        # What may still fail (the database, the new runtime) fails before anything is taken.
        standing_by = self.scheduler is None
        last_checks = {} if standing_by else await self.db(self.store.last_checks)
        self._take(new)
        if standing_by:  # the next term starts with it
            self._config_text, self._refused_config, self._refusal_said = text, b"", []
            log.info("config reloaded (standing by): %s", change.summary())
            return
        for name in change.removed:
            self._unschedule(name)
        for target in change.changed:
            self._unschedule(target.name)
        again = (*change.changed, *change.added)
        for index, target in enumerate(again):
            try:
                await self._schedule(target, last_checks.get(target.name), index, len(again))
            except Superseded:
                raise
            except Exception as failure:  # one target's plan never stops the others'
                log.error("%s: not scheduled (%s)", target.name, failure)
        self._config_text, self._refused_config, self._refusal_said = text, b"", []
        await self._say_config_loaded()
        log.info("config reloaded: %s", change.summary())

    def _take(self, new: Config) -> None:
        """The new config's routes, channels and budgets; the client (host states, breakers,
        floors) and the outbox go on as they are."""
        runtime = Runtime(new, self.store, client=self.client, db=self.db, now=self.now)
        self.config, self.runtime = new, runtime
        self.routes = self.runtime.routes
        self.sender = self.runtime.sender
        self.sender.send = self._only_while_active(self.sender.send)
        self.client.use_budgets(new.budget_for)
        everyone = outbox.destinations([(c.name, c.secret_urls) for c in new.notify])
        self.outage.everyone = everyone

    def _unschedule(self, name: str) -> None:
        if self.scheduler is not None and self.scheduler.get_job(name) is not None:
            self.scheduler.remove_job(name)
        for spacing in self.spacing.values():
            spacing.release(name)

    def _config_refused(self, text: bytes, lines: Sequence[str]) -> None:
        """Said once while the file stays wrong the same way (an edit that leaves the same
        mistake is not news); a valid config in between makes the next mistake news again."""
        if text == self._refused_config:
            return
        self._refused_config = text
        if list(lines) == self._refusal_said:
            return
        self._refusal_said = list(lines)
        said = "; ".join(redact(line) for line in lines)
        log.error("config not reloaded, the running one stays: %s", said)
        if self.term is None:
            return  # standing by: the active daemon tells people
        event = OutboxEvent("", "trouble", {"event": "config_refused", "problems": list(lines)})
        task = asyncio.ensure_future(self._tell(event))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _tell(self, event: OutboxEvent) -> None:
        try:
            await self.db(enqueue_now, self.store, event, self.outage.everyone, self.now())
            self._wake_sender.set()
        except Superseded as superseded:
            self._lose(str(superseded))
        except STORE_FAILURES:
            with contextlib.suppress(MayNotFetch):
                await self.sender.send_now(self.outage.everyone, event)

    async def _say_config_loaded(self) -> None:
        facts = {
            "config_digest": digest(self._config_text),
            "config_loaded_at": self.now().isoformat(),
        }
        try:
            await self.db(self.store.save_facts, facts, self.now())
        except Superseded as superseded:
            self._lose(str(superseded))
        except STORE_FAILURES:
            pass

    async def _schedule(
        self, target: TargetBase, last: datetime | None, index: int, count: int
    ) -> None:
        assert self.scheduler is not None
        first = self._first_run(target, last, index, count)
        plan = await self._plan(target)
        self.scheduler.add_job(
            self.watch,
            PoliteTrigger(target.name, plan, self.spacing[target.host]),
            args=[target],
            id=target.name,
            name=target.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(target.every.total_seconds())),
            next_run_time=first,
        )
        await self._save_next_check(target.name, first)

    def next_checks(self) -> dict[str, datetime | None]:
        """When each target is checked next, as the scheduler has it now (the dashboard)."""
        return {target.name: self._next_run(target.name) for target in self.config.targets}

    def scheduler_lag_seconds(self) -> float:
        """How late the most overdue check is (0 when none is): a busy host or a stuck
        scheduler shows here first."""
        now = self.now()
        due = [at for at in self.next_checks().values() if at is not None and at < now]
        return max(((now - at).total_seconds() for at in due), default=0.0)

    def wake_sender(self) -> None:
        """An alert was made due now (the dashboard's retry): the sender looks at once."""
        self._wake_sender.set()

    def first_checks(self) -> dict[str, datetime]:
        """When each target will first be checked (after `run` has started)."""
        if self.scheduler is None:
            return {}
        # The daemon's own jobs have ids starting with "#", which target names cannot have.
        return {
            job.id: job.next_run_time
            for job in self.scheduler.get_jobs()
            if not job.id.startswith("#")
        }

    def _first_run(
        self, target: TargetBase, last: datetime | None, index: int, count: int
    ) -> datetime:
        """Spread first checks over a minute, or more with many targets (never longer than
        the interval); never earlier than the interval allows after the last check recorded
        before a restart; inside the target's windows."""
        spread = min(target.every, max(FIRST_CHECKS_SPREAD, FIRST_CHECKS_PER_TARGET * count))
        first = self.now() + spread * (index / max(count, 1))
        if last is not None:
            first = max(first, last + target.every)
        first = target.plan(self.config.creneau.zone).first_check(first)
        return self.spacing[target.host].reserve(target.name, first)

    async def watch(self, target: TargetBase) -> Recorded | None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        started = self.now()
        try:
            return await self._watch(target)
        except asyncio.CancelledError:
            # The daemon is stopping (APScheduler would log it as a failure): the check is
            # recorded as interrupted, so that the history shows it was attempted; not when
            # its term is lost (it writes nothing more).
            if not self._abrupt:
                await self._record_interrupted(target, started)
            return None
        except Superseded as superseded:
            self._lose(str(superseded))
            return None
        except MayNotFetch as refused:
            if self._may_act():
                log.warning("%s: check stopped before a request: %s", target.name, refused)
            return None
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _record_interrupted(self, target: TargetBase, started: datetime) -> None:
        result = CheckResult(
            target=target.name,
            system=target.system,
            url=target.url,
            status=Status.ERROR,
            checked_at=started,
            detail=INTERRUPTED,
        )
        with contextlib.suppress(Superseded, *STORE_FAILURES):
            await self.db(record, self.store, result, outbox.Routing(self.config.creneau.zone))

    async def _watch(self, target: TargetBase) -> Recorded | None:
        if self.outage.since is not None:
            await self._catch_up()
        try:
            recorded = await watch_once(
                target,
                self.client,
                self.store,
                self.routes[target.name],
                db=self.db,
                pages_dir=self.config.creneau.pages_dir,
                keep_pages=self.config.creneau.keep_pages,
                now=self.now,
                guard=self.runtime.guard(target),
            )
        except TooSoon as early:
            log.info("%s: skipped, %s", target.name, self._english(early.detail))
            return None
        except NotRecorded as missed:
            self._last_done[target.name] = missed.result.checked_at
            await self.outage.not_recorded(missed, self.routes[target.name], self.now())
            return None
        self._last_done[target.name] = recorded.result.checked_at
        self.outage.remember(recorded.result)
        result = recorded.result
        self._log(recorded)
        if result.next_attempt_at:
            self._postpone(target, result.next_attempt_at)
        await self._save_next_check(target.name, self._next_run(target.name))
        if recorded.queued:
            self._wake_sender.set()
        if self.on_recorded:
            self.on_recorded(recorded)
        return recorded

    async def heartbeat(self) -> None:
        """The daily "still watching" message, so that silence can be trusted."""
        now = self.now()
        since = now - timedelta(days=1)
        try:
            await self.db(heartbeat, self.store, self.config, since, now)
        except Superseded as superseded:
            self._lose(str(superseded))
            return
        except STORE_FAILURES as failure:
            log.error("heartbeat: database unavailable (%s)", type(failure).__name__)
            return
        self._wake_sender.set()

    async def _plan(self, target: TargetBase) -> CheckPlan:
        """The target's timing; for an adaptive one, shaped by its past releases."""
        zone = self.config.creneau.zone
        if not target.adaptive:
            return target.plan(zone)
        try:
            times = await self.db(history.release_times, self.store, target.name)
        except STORE_FAILURES:
            times = []
        floor = timedelta(seconds=1) if is_loopback(target.url) else INTERVAL_FLOOR
        hours = [hour_of_week(at, zone) for at in times]
        return target.plan(zone, adaptive_intervals(hours, target.every, floor))

    async def adapt(self) -> None:
        """Once a day, adaptive targets learn from the releases seen since."""
        for target in self.config.targets:
            job = self.scheduler.get_job(target.name) if self.scheduler else None
            if target.adaptive and job is not None:
                job.trigger.plan = await self._plan(target)

    async def roll_up(self) -> None:
        """Keep raw checks for the retention period; older ones become hourly counts."""
        cutoff = self.now() - self.config.creneau.retention
        try:
            rolled = await self.db(self.store.roll_up, cutoff)
            pruned = 0
            if self.config.creneau.keep_pages:
                pruned = await self.db(archive.prune_kept, self.config.creneau.pages_dir, cutoff)
        except Superseded as superseded:
            self._lose(str(superseded))
            return
        except STORE_FAILURES as failure:
            log.error("retention: could not roll up old checks (%s)", type(failure).__name__)
            return
        if rolled or pruned:
            log.info(
                "retention: %d checks before %s rolled into hourly counts, %d pages forgotten",
                rolled,
                cutoff.date(),
                pruned,
            )

    async def _catch_up(self) -> None:
        """Before a check is recorded, those made while the database failed (their alerts
        went directly): oldest first, so that the new check's diff knows their slots."""
        backlog = self.outage.backlog
        quiet = outbox.Routing(self.config.creneau.zone)
        caught = 0
        while backlog:
            missed = backlog[0]
            try:
                await self.db(record, self.store, missed.result, quiet, missed.host)
            except STORE_FAILURES:
                return  # still failing: the next check will say so
            backlog.popleft()
            caught += 1
        self.outage.recovered()
        if caught:
            log.info("caught up: %d checks made meanwhile are recorded", caught)

    async def _watch_the_plan(self, stop: asyncio.Event) -> None:
        """Every minute, outside APScheduler (whose loop may be what broke): a target whose
        check is overdue by its own plan means a daemon in trouble; people are told."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCHDOG_EVERY.total_seconds())
            if stop.is_set():
                return
            try:
                await self._look_for_stalls()
            except Superseded as superseded:
                self._lose(str(superseded))
            except MayNotFetch:
                pass  # the term is over

    async def _look_for_stalls(self) -> None:
        now = self.now()
        planned = {name: self._next_run(name) for name in self.first_checks()}
        zone = self.config.creneau.zone
        late = overdue(self.config.targets, zone, planned, self._last_done, now)
        if not late:
            self._stalled_told_at = None
            return
        lines = [item.describe(now, zone) for item in late]
        log.error("checks are not made as planned: %s", "; ".join(lines))
        told = self._stalled_told_at
        if told is not None and now - told < ALERT_AT_MOST_EVERY:
            return
        self._stalled_told_at = now
        event = OutboxEvent("", "trouble", {"event": "stalled", "late": lines})
        everyone = self.outage.everyone
        try:
            await self.db(enqueue_now, self.store, event, everyone, now)
            self._wake_sender.set()
        except STORE_FAILURES:
            await self.sender.send_now(everyone, event)

    def _next_run(self, name: str) -> datetime | None:
        job = self.scheduler.get_job(name) if self.scheduler else None
        return job.next_run_time if job else None

    async def _save_next_check(self, name: str, at: datetime | None) -> None:
        # Only `creneau status` reads it, and the next check writes it again.
        try:
            await self.db(self.store.save_next_check, name, at, self.now())
        except Superseded as superseded:
            self._lose(str(superseded))
        except STORE_FAILURES:
            pass

    def _postpone(self, target: TargetBase, until: datetime) -> None:
        """The host asked us to wait (Retry-After, cool-down): no check of it before then."""
        job = self.scheduler.get_job(target.name) if self.scheduler else None
        if job is not None and job.next_run_time and job.next_run_time < until:
            job.modify(next_run_time=self.spacing[target.host].reserve(target.name, until))

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
        return render(detail, "en", self.config.creneau.zone)

    async def _finish_in_flight(self) -> None:
        if not self._in_flight:
            return
        _done, pending = await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _deliver_until(self, stop: asyncio.Event) -> None:
        while True:
            try:
                await self.sender.deliver_due()
            except Superseded as superseded:
                self._lose(str(superseded))
                return
            except MayNotFetch:
                return  # the term is over: what was claimed is sent by the next daemon
            except STORE_FAILURES as failure:
                log.error("outbox: database unavailable (%s); retrying", type(failure).__name__)
            except Exception:
                log.exception("outbox: delivery round failed; retrying")
            if stop.is_set():
                return
            await self._sleep_until_due(stop)

    async def _sleep_until_due(self, stop: asyncio.Event) -> None:
        self._wake_sender.clear()  # before reading the outbox, so no wake-up is lost
        try:
            next_due = await self.db(self.store.next_due)
        except STORE_FAILURES:
            next_due = None
        wait = 30.0
        if next_due is not None:
            wait = min(wait, max(0.5, (next_due - self.now()).total_seconds()))
        waiters = [asyncio.create_task(self._wake_sender.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()


Companion = Callable[[asyncio.Event], Awaitable[None]]


async def run_until_signal(
    daemon: Daemon,
    on_started: Callable[[], None] | None = None,
    companions: Sequence[Companion] = (),
) -> None:
    """The daemon, and what runs beside it in its loop (the dashboard), until a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.request_reload)
    daemon.on_active = on_started  # at each term's start (a standby prints its plan then)
    await asyncio.gather(daemon.run(stop), *(companion(stop) for companion in companions))
