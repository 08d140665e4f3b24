"""Run the real daemon for simulated hours in a few seconds: a looptime event loop (sleeps,
timeouts and timers take no real time) and a wall clock that follows it, which APScheduler,
the HTTP client and the daemon all read. For tests and benchmarks; looptime is a test
dependency, imported only here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import apscheduler.schedulers.base

T = TypeVar("T")
DEFAULT_START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


class VirtualClock:
    """Wall-clock time that follows the (virtual) event-loop time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: datetime = DEFAULT_START) -> None:
        self.loop = loop
        self.start = start
        self.origin = loop.time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.loop.time() - self.origin)

    def monotonic(self) -> float:
        return self.loop.time()

    def elapsed(self) -> float:
        return self.loop.time() - self.origin


@contextmanager
def scheduler_follows(clock: VirtualClock) -> Iterator[None]:
    """APScheduler 3 reads datetime.now(); point it at the virtual clock meanwhile."""

    class LoopDateTime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            moment = clock.now()
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    module = apscheduler.schedulers.base
    original = module.datetime  # type: ignore[attr-defined]
    module.datetime = LoopDateTime  # type: ignore[attr-defined, misc]
    try:
        yield
    finally:
        module.datetime = original  # type: ignore[attr-defined, misc]


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
