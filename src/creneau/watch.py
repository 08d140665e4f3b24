"""After a check: record it, diff its slots against what the store knew, remember the host's
politeness state, and queue the alerts — all in one transaction, before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creneau import outbox
from creneau.diff import diff_slots
from creneau.outbox import Routing
from creneau.politeness import HostState, HostTransition
from creneau.results import CheckResult, Slot
from creneau.store import Store


@dataclass(frozen=True)
class HostReport:
    """The host's politeness state after the check, and whether its breaker changed."""

    name: str
    state: HostState
    transitions: Sequence[HostTransition] = ()


@dataclass(frozen=True)
class Recorded:
    result: CheckResult
    check_id: int
    appeared: list[Slot]
    gone: int
    queued: int


def record(
    store: Store, result: CheckResult, routing: Routing, host: HostReport | None = None
) -> Recorded:
    with store.transaction() as tx:
        check_id = tx.add_check(result)
        changes = diff_slots(tx.known_slots(result.target, result.slots), result)
        tx.apply(result.target, check_id, result.checked_at, changes)
        queued = 0
        if changes.appeared and routing.destinations:
            message = outbox.new_slots_message(
                result.target, result.url, changes.appeared, routing.zone
            )
            queued += tx.enqueue(message, routing.destinations, result.checked_at, check_id)
        if host is not None:
            tx.save_host_state(host.name, host.state, result.checked_at)
            for transition in host.transitions:
                message = outbox.host_message(transition, routing.zone)
                queued += tx.enqueue(
                    message, routing.host_destinations, result.checked_at, check_id
                )
    return Recorded(result, check_id, changes.appeared, len(changes.gone), queued)
