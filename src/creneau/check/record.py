"""One watch of a target: check it (with the site session a person opened, if any), keep an
unrecognised page, then record the check, diff its slots against what the store knew,
remember the host's politeness state and queue the alerts — all in one transaction, before
anything is sent. Every check comes through `watch_once`, called by
creneau.usecases.check_once with its runtime's settings."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from creneau import sources
from creneau.alert_kinds import Destination, OutboxEvent
from creneau.alerts import outbox
from creneau.alerts.outbox import Routing
from creneau.changes import diff_slots, follow_announcement
from creneau.check.run import run_check
from creneau.fetch.client import Guard, PoliteClient
from creneau.fetch.politeness import HostState, HostTransition
from creneau.results import CheckResult, Slot, Status
from creneau.store import STORE_FAILURES, Store, StoreCall, Transaction, inline
from creneau.store import pages as archive
from creneau.targets import TargetBase


@dataclass(frozen=True)
class HostReport:
    """The host's politeness state after the check, and whether its breaker changed."""

    name: str
    state: HostState
    transitions: Sequence[HostTransition] = ()


class NotRecorded(Exception):
    """The check was made but the store could not record it: its result, kept for later."""

    def __init__(self, result: CheckResult, host: HostReport, failure: Exception) -> None:
        super().__init__(str(failure))
        self.result = result
        self.host = host
        self.failure = failure


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
    keep_pages: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    name_in_store: str | None = None,
    guard: Guard | None = None,
) -> Recorded:
    """Raises `http.TooSoon` when the target was checked too recently (nothing was done),
    and NotRecorded, holding the result, when the check was made but not recorded: a store
    that cannot be read or written never prevents the check itself."""
    keeps_session = sources.keeps_session(target.system)
    cookies = None
    if keeps_session:
        with contextlib.suppress(*STORE_FAILURES):  # checked without it, then
            cookies = await db(store.site_session, target.name)
    result = await run_check(target, client, now=now, cookies=cookies, guard=guard)
    if name_in_store:
        result = dataclasses.replace(result, target=name_in_store)
    host = HostReport(
        target.host,
        dataclasses.replace(client.host_state(target.host)),
        client.take_transitions(target.host),
    )
    try:
        saved_page = await _keep_pages(result, db, pages_dir, keep_pages)
        recorded: Recorded = await db(record, store, result, routing, host, saved_page, keep_pages)
    except STORE_FAILURES as failure:
        raise NotRecorded(result, host, failure) from failure
    return recorded


async def _keep_pages(
    result: CheckResult, db: StoreCall, pages_dir: Path | None, keep_pages: bool
) -> str | None:
    """Keep the pages read (keep_pages), and an unrecognised page in any case; the path of
    the latter, for the alert."""
    if pages_dir is None:
        return None
    if keep_pages:
        read = result.pages or ((result.page,) if result.page else ())
        for page in {page.sha256: page for page in read}.values():
            await db(archive.keep_by_hash, pages_dir, page)
    if result.status is Status.UNKNOWN and result.page is not None:
        saved = await db(
            archive.keep_page, pages_dir, result.target, result.page, result.checked_at
        )
        return str(saved)
    return None


def record(
    store: Store,
    result: CheckResult,
    routing: Routing,
    host: HostReport | None = None,
    saved_page: str | None = None,
    keep_pages: bool = False,
) -> Recorded:
    with store.transaction() as tx:
        check_id = tx.add_check(result, keep_pages=keep_pages)
        known = tx.known_slots(result.target, result.slots)
        changes = diff_slots(known, result, routing.hysteresis)
        tx.apply(result.target, check_id, result.checked_at, changes)
        worth = [s for s in changes.appeared if routing.worth_alerting(s, result.checked_at)]
        queued = 0
        if worth:
            queued += tx.enqueue(
                outbox.new_slots(result, worth), routing.destinations, result.checked_at, check_id
            )
        if routing.on_gone and changes.gone:
            gone = [
                (slot.as_slot(), (result.checked_at - slot.first_seen).total_seconds())
                for slot in changes.gone
            ]
            queued += tx.enqueue(
                outbox.slots_gone(result, gone), routing.destinations, result.checked_at, check_id
            )
        if result.site_session is not None:
            tx.replace_site_session(
                result.target,
                result.site_session_used or [],
                result.site_session,
                result.checked_at,
            )
        queued += _alert_trouble(tx, result, routing, check_id, saved_page)
        queued += _follow_announcement(tx, result, routing, check_id, bool(changes.appeared))
        if host is not None:
            tx.save_host_state(host.name, host.state, result.checked_at)
            for transition in host.transitions:
                queued += tx.enqueue(
                    outbox.host_event(transition),
                    routing.host_destinations,
                    result.checked_at,
                    check_id,
                )
    return Recorded(result, check_id, worth, len(changes.gone), queued)


def _alert_trouble(
    tx: Transaction,
    result: CheckResult,
    routing: Routing,
    check_id: int,
    saved_page: str | None,
) -> int:
    """One alert when the target enters a state a person should hear of; a clear answer
    clears it. At most one such alert an hour per target."""
    previous, previous_at = tx.alert_state(result.target)
    failing_since = tx.failing_since(result.target) if routing.failing_after else None
    state = outbox.trouble_state(result, failing_since, routing.failing_after)
    due = outbox.person_alert_due(previous, previous_at, state, result.checked_at)
    if due:
        tx.save_alert_state(result.target, state, result.checked_at)
    elif result.status in (Status.AVAILABLE, Status.NONE):
        tx.save_alert_state(result.target, None, result.checked_at)
    if not due or state is None:
        return 0
    event = outbox.trouble_event(result, state, saved_page, failing_since)
    return tx.enqueue(event, routing.destinations, result.checked_at, check_id)


def _follow_announcement(
    tx: Transaction, result: CheckResult, routing: Routing, check_id: int, new_slots: bool
) -> int:
    """The release the site announced, followed: a new one told once, a changed or
    withdrawn one told where the earlier one was (and its alerts still waiting withdrawn);
    one that ends otherwise has its waiting alerts withdrawn too, never to go late."""
    latest = tx.announcement(result.target)
    change = follow_announcement(latest, result, new_slots)
    for row in change.saved:
        tx.save_announcement(row, check_id)
    told: set[tuple[str, str]] = set()
    if change.ended is not None and latest is not None:
        reason = outbox.release_alerts_withdrawn(latest, change.ended)
        told = tx.withdraw_release_alerts(result.target, latest.first_seen, reason)
    queued = 0
    for event, destinations in outbox.release_events(result, change, routing.destinations, told):
        queued += tx.enqueue(event, destinations, result.checked_at, check_id)
    return queued


def enqueue_now(
    store: Store, event: OutboxEvent, destinations: Sequence[Destination], at: datetime
) -> int:
    """Queue an alert that no check caused (the daemon's own trouble)."""
    with store.transaction() as tx:
        return tx.enqueue(event, destinations, at)
