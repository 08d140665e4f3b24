"""The daily "still watching" message, so that silence can be trusted: the checks of the last
day and each target's last release, to every channel that takes heartbeats; the daemon's
job that queues it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from creneau.alerts import outbox
from creneau.daemon.context import DaemonContext
from creneau.history import activity
from creneau.store import STORE_FAILURES, Store, Superseded

if TYPE_CHECKING:
    from creneau.config import Config

log = logging.getLogger("creneau")


def heartbeat(store: Store, config: Config, since: datetime, now: datetime) -> int:
    """Queue the message; how many channel URLs it goes to."""
    lines = [line.to_event() for line in activity(store, since)]
    kinds = {channel.name: frozenset(channel.kinds) for channel in config.notify}
    everywhere = outbox.destinations(
        [(channel.name, channel.secret_urls) for channel in config.notify], kinds
    )
    with store.transaction() as tx:
        return tx.enqueue(outbox.heartbeat_event(since, lines), everywhere, now)


async def heartbeat_job(context: DaemonContext) -> None:
    """The daemon's daily job: the message of the last day, sent at once."""
    now = context.now()
    since = now - timedelta(days=1)
    try:
        await context.db(heartbeat, context.store, context.config, since, now)
    except Superseded as superseded:
        context.guard.lose(str(superseded))
        return
    except STORE_FAILURES as failure:
        log.error("heartbeat: database unavailable (%s)", type(failure).__name__)
        return
    context.wake_sender.set()
