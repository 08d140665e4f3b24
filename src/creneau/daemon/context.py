"""What the parts of a running daemon share: its store and database thread, its clock, the
config in force and the runtime built from it (both replaced at each reload), its term's
guard, the store outage watch, each target's last completed check, the sender's wake-up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from creneau.alert_kinds import Destination, OutboxEvent
from creneau.alerts import outbox
from creneau.check.record import enqueue_now
from creneau.config import Config
from creneau.daemon.outage import StoreOutage
from creneau.daemon.term import TermGuard
from creneau.fetch.client import MayNotFetch
from creneau.runtime import Runtime
from creneau.store import STORE_FAILURES, Store, StoreCall, Superseded


@dataclass
class DaemonContext:
    config: Config
    runtime: Runtime
    store: Store
    db: StoreCall
    now: Callable[[], datetime]
    guard: TermGuard
    outage: StoreOutage
    last_done: dict[str, datetime] = field(default_factory=dict)  # each target's last check
    wake_sender: asyncio.Event = field(default_factory=asyncio.Event)

    async def write(self, function: Callable[..., Any], *args: Any) -> bool:
        """A write whose failure costs only itself: False when the store failed, or refused
        it (a newer term exists: this one is lost)."""
        try:
            await self.db(function, *args)
        except Superseded as superseded:
            self.guard.lose(str(superseded))
            return False
        except STORE_FAILURES:
            return False
        return True

    async def tell(self, event: OutboxEvent) -> None:
        """A trouble alert to every channel: through the outbox, or directly when the
        store cannot take it."""
        everyone = self.outage.everyone
        try:
            await self.db(enqueue_now, self.store, event, everyone, self.now())
            self.wake_sender.set()
        except Superseded as superseded:
            self.guard.lose(str(superseded))
        except STORE_FAILURES:
            with contextlib.suppress(MayNotFetch):
                await self.runtime.sender.send_now(everyone, event)


def everyone(config: Config) -> list[Destination]:
    """Every channel URL: trouble concerns every target."""
    return outbox.destinations([(c.name, c.secret_urls) for c in config.notify])
