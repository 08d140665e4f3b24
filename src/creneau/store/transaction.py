"""The writes of one check, committed together (`check.record`): the check, its slots, its
target's and host's state, its alerts. Each part's SQL is in its module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from creneau.alert_kinds import Destination, OutboxEvent
from creneau.changes import KnownSlot, SlotChanges
from creneau.details import Detail
from creneau.expected import Announcement
from creneau.fetch.politeness import HostState
from creneau.results import CheckResult, SiteSession, Slot
from creneau.store import announcements, checks, hosts, outbox, target_states


class Transaction:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add_check(self, result: CheckResult, *, keep_pages: bool = False) -> int:
        return checks.add_check(self.connection, result, keep_pages=keep_pages)

    def known_slots(self, target: str, seen: Sequence[Slot]) -> list[KnownSlot]:
        return checks.known_slots(self.connection, target, seen)

    def apply(self, target: str, check_id: int, at: datetime, changes: SlotChanges) -> None:
        checks.apply_changes(self.connection, target, check_id, at, changes)

    def failing_since(self, target: str) -> datetime | None:
        return checks.failing_since(self.connection, target)

    def alert_state(self, target: str) -> tuple[str | None, datetime | None]:
        return target_states.alert_state(self.connection, target)

    def save_alert_state(self, target: str, state: str | None, at: datetime) -> None:
        target_states.save_alert_state(self.connection, target, state, at)

    def save_site_session(self, target: str, cookies: SiteSession, at: datetime) -> None:
        target_states.save_target_state(self.connection, target, at, site_session=cookies or None)

    def replace_site_session(
        self, target: str, used: SiteSession, cookies: SiteSession, at: datetime
    ) -> None:
        target_states.replace_site_session(self.connection, target, used, cookies, at)

    def announcement(self, target: str) -> Announcement | None:
        return announcements.latest(self.connection, target)

    def save_announcement(self, announcement: Announcement, check_id: int | None) -> None:
        announcements.save(self.connection, announcement, check_id)

    def withdraw_release_alerts(
        self, target: str, since: datetime, reason: Detail
    ) -> set[tuple[str, str]]:
        return announcements.withdraw_unsent(self.connection, target, since, reason)

    def save_host_state(self, host: str, state: HostState, at: datetime) -> None:
        hosts.save_host_state(self.connection, host, state, at)

    def enqueue(
        self,
        event: OutboxEvent,
        destinations: Sequence[Destination],
        at: datetime,
        check_id: int | None = None,
    ) -> int:
        return outbox.enqueue(self.connection, event, destinations, at, check_id)
