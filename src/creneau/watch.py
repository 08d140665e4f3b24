"""One watch of a target: check it (with the site session a person opened, if any), keep an
unrecognised page, then record the check, diff its slots against what the store knew,
remember the host's politeness state and queue the alerts — all in one transaction, before
anything is sent. The daemon and `creneau check` both go through `watch_once`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from creneau import archive, outbox, sources
from creneau.checker import run_check
from creneau.diff import diff_slots
from creneau.http import PoliteClient
from creneau.outbox import Routing
from creneau.politeness import HostState, HostTransition
from creneau.results import CheckResult, Slot, Status
from creneau.store import Store, StoreCall, Transaction, inline
from creneau.targets import TargetBase


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


async def watch_once(
    target: TargetBase,
    client: PoliteClient,
    store: Store,
    routing: Routing,
    *,
    db: StoreCall = inline,
    pages_dir: Path | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    name_in_store: str | None = None,
) -> Recorded:
    """Raises `http.TooSoon` when the target was checked too recently (nothing was done)."""
    keeps_session = getattr(sources.get(target.system), "KEEPS_SESSION", False)
    cookies = await db(store.site_session, target.name) if keeps_session else None
    result = await run_check(target, client, now=now, cookies=cookies)
    if name_in_store:
        result = dataclasses.replace(result, target=name_in_store)
    saved_page = None
    if result.status is Status.UNKNOWN and result.page is not None and pages_dir:
        saved = await db(
            archive.keep_page, pages_dir, result.target, result.page, result.checked_at
        )
        saved_page = str(saved)
    host = HostReport(
        target.host,
        dataclasses.replace(client.host_state(target.host)),
        client.take_transitions(target.host),
    )
    return await db(record, store, result, routing, host, saved_page)


def record(
    store: Store,
    result: CheckResult,
    routing: Routing,
    host: HostReport | None = None,
    saved_page: str | None = None,
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
        if result.site_session is not None:
            tx.replace_site_session(
                result.target,
                result.site_session_used or {},
                result.site_session,
                result.checked_at,
            )
        queued += _alert_if_a_person_is_needed(tx, result, routing, check_id, saved_page)
        if host is not None:
            tx.save_host_state(host.name, host.state, result.checked_at)
            for transition in host.transitions:
                message = outbox.host_message(transition, routing.zone)
                queued += tx.enqueue(
                    message, routing.host_destinations, result.checked_at, check_id
                )
    return Recorded(result, check_id, changes.appeared, len(changes.gone), queued)


def _alert_if_a_person_is_needed(
    tx: Transaction,
    result: CheckResult,
    routing: Routing,
    check_id: int,
    saved_page: str | None,
) -> int:
    previous, previous_at = tx.alert_state(result.target)
    due = outbox.person_alert_due(previous, previous_at, result.status, result.checked_at)
    tx.save_alert_state(
        result.target, outbox.next_alert_state(previous, result.status, due), result.checked_at
    )
    if not due or not routing.destinations:
        return 0
    message = outbox.person_message(
        result.target, result.url, result.status, result.detail, saved_page
    )
    return tx.enqueue(message, routing.destinations, result.checked_at, check_id)
