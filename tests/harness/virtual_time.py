"""Run the real daemon for simulated hours in a few seconds: a looptime event loop (sleeps,
timeouts and timers take no real time) and a wall clock that follows it, which APScheduler
(its scheduler and executors), the HTTP client and the daemon all read. The real
clock is never read meanwhile, so a scenario gives the same requests whatever the date.
For tests and benchmarks; looptime is a test dependency, imported only here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TypeVar

T = TypeVar("T")
# A Tuesday morning: scenarios are about hours and weekdays, never about today's date, so
# the virtual day is the same on every run whatever the real date.
VIRTUAL_START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


class VirtualClock:
    """Wall-clock time that follows the (virtual) event-loop time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: datetime = VIRTUAL_START) -> None:
        self.loop = loop
        self.start = start
        self.origin = loop.time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.loop.time() - self.origin)

    def today(self, zone: tzinfo = UTC) -> date:
        return self.now().astimezone(zone).date()

    def monotonic(self) -> float:
        return self.loop.time()

    def elapsed(self) -> float:
        return self.loop.time() - self.origin


def _apscheduler_modules_reading_the_clock() -> list[object]:
    """The APScheduler modules that call datetime.now() while the daemon runs: the
    scheduler's loop and the executors' misfire check. (Its triggers read it only when given
    no start; the daemon always gives one.) Only these: elsewhere APScheduler checks
    `isinstance(x, datetime)`, which a replaced class would break."""
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    return [apscheduler.schedulers.base, apscheduler.executors.base]


@contextmanager
def scheduler_follows(clock: VirtualClock) -> Iterator[None]:
    """Point APScheduler 3's reads of datetime.now() at the virtual clock meanwhile."""

    class LoopDateTime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            moment = clock.now()
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    modules = _apscheduler_modules_reading_the_clock()
    for module in modules:
        module.datetime = LoopDateTime  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            module.datetime = datetime  # type: ignore[attr-defined]


def run_virtual(scenario: Callable[[VirtualClock], Awaitable[T]]) -> T:
    """Run `scenario(clock)` on a fresh virtual-time loop, the scheduler following it."""
    import looptime

    loop = looptime.new_event_loop(start=0)  # created with virtual time enabled
    try:

        async def main() -> T:
            clock = VirtualClock(asyncio.get_running_loop())
            with scheduler_follows(clock):
                return await scenario(clock)

        return loop.run_until_complete(main())
    finally:
        loop.close()
