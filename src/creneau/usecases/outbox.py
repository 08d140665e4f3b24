"""Retry an alert: due now, whatever made it wait, fail or expire (`creneau outbox retry ID`
and the dashboard's outbox button)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from creneau.store import StoreCall, inline

if TYPE_CHECKING:
    from creneau.store import Store


class NotRetriable(LookupError):
    """No alert by that number waits, failed or expired (sent already, or never was)."""

    def __init__(self, number: int) -> None:
        super().__init__(f"no alert {number} waiting, failed or expired")
        self.number = number


async def retry_alert(
    store: Store,
    number: int,
    now: datetime,
    *,
    db: StoreCall = inline,
    wake_sender: Callable[[], None] | None = None,
) -> None:
    """Make alert `number` due now. `wake_sender`: the sender of a daemon running in this
    process, woken so that it goes now, not at its next automatic resend (a daemon
    elsewhere picks it up within seconds). Raises NotRetriable."""
    if not await db(store.outbox.retry_now, number, now):
        raise NotRetriable(number)
    if wake_sender is not None:
        wake_sender()
