"""After a check: record it, diff its slots against what the store knew, and queue the
alert — all in one transaction, before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from creneau import outbox
from creneau.diff import diff_slots
from creneau.results import CheckResult, Slot
from creneau.store import Destination, Store


@dataclass(frozen=True)
class Recorded:
    result: CheckResult
    check_id: int
    appeared: list[Slot]
    gone: int
    queued: int


def record(
    store: Store,
    result: CheckResult,
    destinations: Sequence[Destination],
    zone: ZoneInfo,
) -> Recorded:
    with store.transaction() as tx:
        check_id = tx.add_check(result)
        changes = diff_slots(tx.known_slots(result.target, result.slots), result)
        tx.apply(result.target, check_id, result.checked_at, changes)
        queued = 0
        if changes.appeared and destinations:
            message = outbox.new_slots_message(result.target, result.url, changes.appeared, zone)
            queued = tx.enqueue(message, destinations, result.checked_at, check_id)
    return Recorded(result, check_id, changes.appeared, len(changes.gone), queued)
