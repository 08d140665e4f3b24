"""`creneau run`: schedules every target with APScheduler, records each check, and keeps the
outbox moving. Stops cleanly on SIGINT/SIGTERM; resumes from the store after a restart.

Several daemons may share a PostgreSQL database: each stands by until it leads a term
(`daemon.leader`), then resumes from the store as after a restart (host states, breakers,
Retry-After deadlines, token buckets, floors, site sessions, the outbox) and stops at once
when the term is lost: its checks are cancelled, its requests and messages refused before
they leave, its writes refused by the store's fence.

The Daemon composes its parts: `term` (the term it leads), `schedule`, `bursts` (checks at
the releases sites announce), `check_job`, `outage`, `delivery`, `watchdog`, `heartbeat`,
`retention`, `config_watch` and `reload`; they share a `context.DaemonContext`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from creneau.alerts.deliver import Sender
from creneau.check.record import Recorded
from creneau.config import Config
from creneau.daemon.bursts import Bursts
from creneau.daemon.check_job import CheckJob
from creneau.daemon.config_watch import ConfigWatch, Reloader
from creneau.daemon.context import DaemonContext, everyone
from creneau.daemon.delivery import deliver_until
from creneau.daemon.heartbeat import heartbeat_job
from creneau.daemon.leader import ActiveTerm, Leadership, LeaseTiming
from creneau.daemon.outage import StoreOutage
from creneau.daemon.retention import roll_up
from creneau.daemon.schedule import Schedule
from creneau.daemon.term import TermGuard
from creneau.daemon.watchdog import Watchdog
from creneau.fetch.client import PoliteClient
from creneau.fetch.politeness import HostState
from creneau.runtime import Runtime
from creneau.store import STORE_FAILURES, DatabaseThread, Store, Superseded
from creneau.targets import TargetBase

log = logging.getLogger("creneau")

StoreAtStart = tuple[
    dict[str, datetime], dict[str, set[tuple[str, datetime]]], dict[str, HostState]
]


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
        self.config_path = config_path  # watched: a valid change is taken without a restart
        self.config_file = ConfigWatch(config_path)
        self.store = store
        # Virtual-time runs pass a DatabaseThread(inline=True): a worker thread runs in real
        # time, and the virtual clock would not wait for it.
        self.db = db or DatabaseThread()
        self.now = now
        self.timing = timing or LeaseTiming()
        self.guard = TermGuard(store, self.db)
        runtime = self._runtime(config, client)
        outage = StoreOutage(runtime.sender.send_now, everyone(config))
        self.context = DaemonContext(config, runtime, store, self.db, now, self.guard, outage)
        self.schedule = Schedule(self.context, self.watch)
        self.bursts = Bursts(self.context, self.schedule, self.watch)
        self.checks = CheckJob(self.context, self.schedule, self._recorded(on_recorded))
        self.reloader = Reloader(
            self.config_file, self.context, self.schedule, self.checks, self._runtime
        )
        self.watchdog = Watchdog(self.context, self.schedule)
        self.on_active: Callable[[], None] | None = None  # soon after each term begins
        self._term_over = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _recorded(self, also: Callable[[Recorded], None] | None) -> Callable[[Recorded], None]:
        """After each recorded check: the bursts follow the site's announcement."""

        def recorded(check: Recorded) -> None:
            self.bursts.follow(check)
            if also is not None:
                also(check)

        return recorded

    def _runtime(self, config: Config, client: PoliteClient | None) -> Runtime:
        runtime = Runtime(config, self.store, client=client, db=self.db, now=self.now)
        runtime.sender.send = self.guard.only_while_active(runtime.sender.send)
        return runtime

    # --- what the parts hold ------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self.context.config

    @property
    def runtime(self) -> Runtime:
        return self.context.runtime

    @property
    def client(self) -> PoliteClient:
        return self.context.runtime.client

    @property
    def sender(self) -> Sender:
        return self.context.runtime.sender

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        """APScheduler's, while this daemon leads a term (None: standing by)."""
        return self.schedule.scheduler

    # --- standing by and leading ----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by until this daemon leads, lead until the term is lost or `stop` is set,
        and so on until `stop`."""
        self.store.serve_daemon()
        if self.store.shared:
            self.client.before_request = self.guard.before_request
        await self.db(self.store.upgrade)
        loop = asyncio.get_running_loop()
        leadership = Leadership(
            self.store, self.timing, db=self.db, now=self.now, monotonic=loop.time
        )
        self.guard.leadership = leadership
        reloader = asyncio.create_task(self.reloader.follow(stop))
        try:
            while not stop.is_set():
                term = await leadership.wait_for_term(stop)
                if term is None:
                    break
                await self.guard.lead(term, stop, self._begin_term, self._end_term)
        finally:
            if not stop.is_set():
                reloader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reloader
            await leadership.release(None)
            leadership.close()
            self.store.serve_daemon(False)
            self.db.close()

    async def _begin_term(self, term: ActiveTerm) -> bool:
        """What a restart does: the store's state into the client, the outage watch and the
        scheduler, then the sender and the watchdog. False (the term lost) when the store
        cannot be read."""
        self._term_over = asyncio.Event()
        read = await self._read_store(term)
        if read is None:
            return False
        floors, open_slots, host_states = read
        context = self.context
        context.last_done.update(floors)
        context.outage = StoreOutage(self.sender.send_now, context.outage.everyone)
        for name, slots in open_slots.items():
            context.outage.seed(name, slots)
        self.runtime.seed(host_states, floors)
        await self.schedule.start(floors, self.heartbeat, self.roll_up)
        self.bursts.start()
        await self.reloader.say_loaded()
        self._tasks = [
            asyncio.create_task(deliver_until(context, self._term_over)),
            asyncio.create_task(self.watchdog.run(self._term_over)),
        ]
        if self.on_active is not None:
            asyncio.get_running_loop().call_later(0.5, self.on_active)
        return True

    async def _read_store(self, term: ActiveTerm) -> StoreAtStart | None:
        """Each target's floor and open slots, each host's state (None: the term is lost)."""
        try:
            floors = await self.db(self.store.floors)
            open_slots = {
                target.name: await self.db(self.store.open_slots, target.name)
                for target in self.config.targets
            }
            host_states = await self.db(self.store.host_states)
        except Superseded as superseded:
            term.lose(str(superseded))
            return None
        except STORE_FAILURES as failure:
            term.lose(f"cannot read the database ({type(failure).__name__})")
            return None
        return floors, open_slots, host_states

    async def _end_term(self, abrupt: bool) -> None:
        """A clean stop lets checks in flight finish (a grace period) and the sender finish
        its round; a lost term cancels both now, and writes nothing more."""
        self._term_over.set()
        self.guard.abrupt = abrupt
        self.schedule.shutdown()
        await self.checks.stop(abrupt=abrupt)
        self.context.wake_sender.set()
        if abrupt:  # the sender and the watchdog, even while waiting on a silent database
            for task in self._tasks:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.guard.abrupt = False

    # --- the jobs -------------------------------------------------------------------------------

    async def watch(self, target: TargetBase) -> Recorded | None:
        """A check of `target`, recorded and logged (its scheduled job, or one on demand)."""
        return await self.checks.watch(target)

    async def heartbeat(self) -> None:
        """The daily "still watching" message, so that silence can be trusted."""
        await heartbeat_job(self.context)

    async def roll_up(self) -> None:
        await roll_up(self.context)

    async def adapt(self) -> None:
        await self.schedule.adapt()

    # --- what the dashboard asks (creneau.live) -------------------------------------------------

    def next_checks(self) -> Mapping[str, datetime | None]:
        """When each target is checked next, as the scheduler has it now."""
        return self.schedule.next_checks()

    def scheduler_lag_seconds(self) -> float:
        """How late the most overdue check is (0 when none is): a busy host or a stuck
        scheduler shows here first."""
        return self.schedule.lag_seconds()

    def first_checks(self) -> dict[str, datetime]:
        """When each target will first be checked (after `run` has started)."""
        return self.schedule.first_checks()

    def wake_sender(self) -> None:
        """An alert was made due now (the dashboard's retry): the sender looks at once."""
        self.context.wake_sender.set()

    def read_only_reason(self) -> str | None:
        """None while this daemon leads; else why its dashboard changes nothing."""
        return self.guard.read_only_reason()

    # --- the config, taken again without a restart (daemon.config_watch) ----------------------

    def request_reload(self) -> None:
        """SIGHUP: read the config file again."""
        self.config_file.wanted.set()


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
