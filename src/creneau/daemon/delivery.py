"""The daemon's delivery loop: the sender sends what is due, then sleeps until the next row
is due (30 s at most) or it is woken (a check queued alerts, a person retried one)."""

from __future__ import annotations

import asyncio
import logging

from creneau.daemon.context import DaemonContext
from creneau.fetch.client import MayNotFetch
from creneau.store import STORE_FAILURES, Superseded

log = logging.getLogger("creneau")

LONGEST_SLEEP_SECONDS = 30.0


async def deliver_until(context: DaemonContext, stop: asyncio.Event) -> None:
    while True:
        try:
            await context.runtime.sender.deliver_due()
        except Superseded as superseded:
            context.guard.lose(str(superseded))
            return
        except MayNotFetch:
            return  # the term is over: what was claimed is sent by the next daemon
        except STORE_FAILURES as failure:
            log.error("outbox: database unavailable (%s); retrying", type(failure).__name__)
        except Exception:
            log.exception("outbox: delivery round failed; retrying")
        if stop.is_set():
            return
        await _sleep_until_due(context, stop)


async def _sleep_until_due(context: DaemonContext, stop: asyncio.Event) -> None:
    context.wake_sender.clear()  # before reading the outbox, so no wake-up is lost
    try:
        next_due = await context.db(context.store.outbox.next_due)
    except STORE_FAILURES:
        next_due = None
    wait = LONGEST_SLEEP_SECONDS
    if next_due is not None:
        wait = min(wait, max(0.5, (next_due - context.now()).total_seconds()))
    waiters = [asyncio.create_task(context.wake_sender.wait()), asyncio.create_task(stop.wait())]
    await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
