"""The daily "still watching" message, so that silence can be trusted: the checks of the last
day and each target's last release, to every channel that takes heartbeats."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from creneau.alerts import events
from creneau.history import activity
from creneau.store import Store

if TYPE_CHECKING:
    from creneau.config import Config


def heartbeat(store: Store, config: Config, since: datetime, now: datetime) -> int:
    """Queue the message; how many channel URLs it goes to."""
    lines = [line.to_event() for line in activity(store, since)]
    kinds = {channel.name: frozenset(channel.kinds) for channel in config.notify}
    everywhere = events.destinations(
        [(channel.name, channel.secret_urls) for channel in config.notify], kinds
    )
    with store.transaction() as tx:
        return tx.enqueue(events.heartbeat_event(since, lines), everywhere, now)
