"""Which of several `creneau run` on one PostgreSQL database checks and sends: the daemon
stands by until the lease (`store.leadership`) is free, then leads a term and renews the
lease; it stops at once when it cannot prove it still leads: a renewal refused (a newer term
exists), or none made for `stop_after` seconds (its database connection is gone, or the
machine paused it). Standbys take a lease only once it has lapsed by the database's clock,
which is later than the moment the last leader stopped (see LeaseTiming).

On SQLite the lock file beside the database keeps other daemons off: the daemon takes the
lease at once, whatever it says (the daemon before it died), and keeps it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from creneau.store import STORE_FAILURES, Store, StoreCall
from creneau.store.leadership import Leader, Leases, Look, Term

log = logging.getLogger("creneau")

T = TypeVar("T")
LEASE_VARIABLE = "CRENEAU_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 30.0
LEASE_RANGE = (2.0, 600.0)
# SQLite: nobody takes over (the lock file), the lease only says the daemon is alive.
EXCLUSIVE_HEARTBEAT_SECONDS = 30.0


@dataclass(frozen=True)
class LeaseTiming:
    """How long a term lasts without a renewal, and everything that follows from it. With
    the default 30 s lease: a renewal every 5 s; the active daemon fetches only while its
    last successful renewal began less than 25 s ago (a database that does not answer for
    that long stops it); a standby looks every 5 s. The lease ends in the database at least
    30 s after the start of the renewal that set it, so the old daemon has stopped 5 s
    before any other may begin; a standby takes over 25 to 35 s after the active daemon
    died (plus the time to read the store)."""

    lease: float = DEFAULT_LEASE_SECONDS

    @property
    def renew_every(self) -> float:
        return self.lease / 6

    @property
    def look_every(self) -> float:
        return self.lease / 6

    @property
    def stop_after(self) -> float:
        """Since the start of the last successful renewal; the margin to the lease's end is
        one renewal interval."""
        return self.lease - self.renew_every

    @property
    def seen_for(self) -> timedelta:
        """How long a daemon counts as seen after it last said it was alive."""
        return timedelta(seconds=3 * self.look_every)


def lease_timing(environ: Mapping[str, str] = os.environ) -> LeaseTiming:
    """The lease from CRENEAU_LEASE_SECONDS (30 when unset); ValueError, one line, when the
    value is not a number of seconds in LEASE_RANGE."""
    given = environ.get(LEASE_VARIABLE, "").strip()
    if not given:
        return LeaseTiming()
    low, high = LEASE_RANGE
    try:
        seconds = float(given)
    except ValueError:
        seconds = math.nan
    if not low <= seconds <= high:
        raise ValueError(
            f"{LEASE_VARIABLE}: must be a number of seconds from {low:g} to {high:g} "
            f"(got {given!r})"
        )
    return LeaseTiming(seconds)


@dataclass
class ActiveTerm:
    """A term this daemon leads. It may act (fetch, write, send) while `may_act()`: until
    `valid_until` on its monotonic clock (moved on by each renewal) and until it is lost."""

    epoch: int
    since: datetime
    took_over_from: str | None
    valid_until: float
    monotonic: Callable[[], float]
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""

    def may_act(self) -> bool:
        return not self.lost.is_set() and self.monotonic() < self.valid_until

    def lose(self, reason: str) -> None:
        if not self.lost.is_set():
            self.reason = reason
            self.lost.set()


class Leadership:
    """One daemon's side of the lease. On PostgreSQL the lease calls run on threads of their
    own (never behind a check's transaction on the database thread); on SQLite on the
    daemon's database callable (so that virtual-time runs stay virtual)."""

    def __init__(
        self,
        store: Store,
        timing: LeaseTiming,
        *,
        db: StoreCall,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exclusive = not store.shared
        if self.exclusive:
            timing = LeaseTiming(max(timing.lease, 6 * EXCLUSIVE_HEARTBEAT_SECONDS))
        self.timing = timing
        self.me = store.me
        self.monotonic = monotonic
        self.leases = Leases(
            store.url, store.me, timedelta(seconds=timing.lease), timing.seen_for, now=now
        )
        self._db = db
        self._threads = (
            None
            if self.exclusive
            else ThreadPoolExecutor(max_workers=4, thread_name_prefix="creneau-lease")
        )
        self._said: tuple[Any, ...] = ()
        self.leader: Leader | None = None  # as last seen

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        if self._threads is None:
            result: T = await self._db(function, *args)
            return result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, partial(function, *args))

    def close(self) -> None:
        self.leases.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)

    # --- standing by --------------------------------------------------------------------------

    async def wait_for_term(self, stop: asyncio.Event) -> ActiveTerm | None:
        """Stand by until this daemon leads a term (None: stopped first)."""
        while not stop.is_set():
            started = self.monotonic()
            try:
                look = await _first(self._call(self.leases.look, self.exclusive), stop)
            except STORE_FAILURES as failure:
                self._say(
                    ("failure", type(failure).__name__),
                    logging.WARNING,
                    "leadership: cannot reach the database (%s); trying again",
                    _reason(failure),
                )
                look = None
            if look is not None:
                self.leader = look.leader
            if look is not None and look.term is not None:
                self._said = ()
                return self._begin(look.term, started)
            if look is not None:
                self._say_standing_by(look)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.timing.look_every)
        return None

    def _begin(self, term: Term, started: float) -> ActiveTerm:
        # The lease runs in the database from a moment after `started`: acting until
        # `started + stop_after` leaves one renewal interval before it ends there.
        until = math.inf if self.exclusive else started + self.timing.stop_after
        return ActiveTerm(term.epoch, term.since, term.took_over_from, until, self.monotonic)

    def _say_standing_by(self, look: Look) -> None:
        leader = look.leader
        self._say(
            ("standby", leader.token, leader.epoch),
            logging.INFO,
            "standing by: %s is active (term %d, since %s); this daemon (%s) takes over "
            "if its lease of %gs lapses",
            leader.instance,
            leader.epoch,
            _when(leader),
            self.me.instance,
            self.timing.lease,
        )

    def _say(self, key: tuple[Any, ...], level: int, message: str, *args: Any) -> None:
        """Once per state: a standby looks every few seconds."""
        if key != self._said:
            self._said = key
            log.log(level, message, *args)

    # --- leading ------------------------------------------------------------------------------

    async def hold(self, term: ActiveTerm) -> None:
        """Renew the lease until the term is lost (or this task is cancelled at a clean
        stop). A renewal refused loses the term; so does none made in time, at the very
        moment `valid_until` passes, even while a renewal hangs."""
        every = self.timing.renew_every if not self.exclusive else EXCLUSIVE_HEARTBEAT_SECONDS
        renewal: asyncio.Future[bool] | None = None
        started = self.monotonic()
        next_at = started + every
        failures = 0
        lost = asyncio.ensure_future(term.lost.wait())
        try:
            while not term.lost.is_set():
                now = self.monotonic()
                if now >= term.valid_until:
                    term.lose(
                        f"no lease renewal for {self.timing.stop_after:g}s (the database does "
                        "not answer)"
                    )
                    break
                if renewal is None and now >= next_at:
                    started = now
                    renewal = asyncio.ensure_future(self._call(self.leases.renew, term.epoch))
                waiting: set[asyncio.Future[Any]] = {lost}
                wake = term.valid_until
                if renewal is None:
                    wake = min(wake, next_at)
                else:
                    waiting.add(renewal)
                await asyncio.wait(
                    waiting, timeout=max(0.0, wake - now), return_when=asyncio.FIRST_COMPLETED
                )
                if renewal is None or not renewal.done():
                    continue
                finished, renewal = renewal, None
                next_at = started + every
                try:
                    renewed = finished.result()
                except STORE_FAILURES as failure:
                    failures += 1
                    if failures == 1 or self.exclusive:
                        log.warning("leadership: lease not renewed (%s)", _reason(failure))
                    continue
                if not renewed:
                    if not self.exclusive:
                        term.lose("its lease was taken by a newer term")
                    break
                if failures:
                    log.info("leadership: lease renewed again")
                failures = 0
                term.valid_until = max(term.valid_until, started + self.timing.stop_after)
                if self.exclusive:
                    term.valid_until = math.inf
        finally:
            lost.cancel()
            if renewal is not None:
                renewal.cancel()

    async def release(self, term: ActiveTerm | None) -> None:
        """A clean stop (or a term lost by its deadline): the lease is released, so that a
        standby takes over at its next look; this daemon leaves the list. Best effort."""
        epoch = term.epoch if term is not None else None
        try:
            await asyncio.wait_for(self._call(self.leases.release, epoch), self.timing.renew_every)
        except TimeoutError:
            log.debug("leadership: the lease's release did not answer in time")
        except STORE_FAILURES as failure:
            log.debug("leadership: could not release the lease (%s)", _reason(failure))


async def _first(call: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The call's result, or None as soon as `stop` is set (the call goes on, unheard)."""
    task = asyncio.ensure_future(call)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not task.done():
        task.cancel()
        return None
    return task.result()


def _when(leader: Leader) -> str:
    return leader.since.isoformat(timespec="seconds") if leader.since else "?"


def _reason(failure: BaseException) -> str:
    return str(getattr(failure, "orig", None) or failure or type(failure).__name__).strip()
