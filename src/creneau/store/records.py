"""What the store hands to the layers above: plain frozen copies of its rows, with the rows'
own attribute names, so that no caller ever holds a database connection or a row.
Timestamps are tz-aware UTC, as the tables keep them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, Table, select

from creneau.details import Detail, from_text, recorded
from creneau.results import BOOKING_URL_FACT
from creneau.store.schema import CHECK_HOURS, CHECKS, NOTIFICATIONS, SLOTS

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class CheckRecord:
    """One check of one target, whatever it found (a `checks` row)."""

    id: int
    target: str
    system: str
    started_at: datetime
    duration_ms: int
    status: str
    http_status: int | None
    detail: str  # an older row's English text ("" since details have codes): see `said`
    detail_code: str | None
    detail_params: dict[str, Any] | None
    page_sha256: str | None
    slot_count: int
    requests: int
    facts: dict[str, Any] | None  # what the site said besides slots (release times)
    pages: list[dict[str, Any]] | None  # with keep_pages: every page the check read

    def booking_url(self, slot_key: str) -> str:
        """The slot's own page, when the site gave one (kept with the check's facts)."""
        return str((self.facts or {}).get(BOOKING_URL_FACT + slot_key, ""))

    @property
    def said(self) -> Detail | str:
        """What the check found, to render in a reader's language (`details.render`): its
        Detail, or the English text of a row written before details had codes."""
        return recorded(self.detail_code, self.detail_params, self.detail)


@dataclass(frozen=True)
class SlotRecord:
    """One appearance of a slot (a `slots` row): first seen, last seen, gone."""

    id: int
    target: str
    guichet_id: str
    guichet: str
    start: datetime
    key: str
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None
    first_check_id: int | None
    previous_check_at: datetime | None  # the last clear answer before it; None: first sighting


@dataclass(frozen=True)
class NotificationRecord:
    """One outbox row: one message for one channel URL (known by `url_key` only)."""

    id: int
    created_at: datetime
    target: str
    check_id: int | None
    kind: str
    channel: str
    url_key: str
    url_label: str
    payload: dict[str, Any]
    state: str
    held: bool
    attempts: int
    last_error: str  # as kept: see `said_error`
    next_attempt_at: datetime
    sent_at: datetime | None

    @property
    def said_error(self) -> Detail | str:
        """Why it was not sent, to render in a reader's language: creneau's own reasons are
        Details; a channel's error is its own text."""
        return from_text(self.last_error)


@dataclass(frozen=True)
class HourCount:
    """Checks rolled up after the retention period: how many, per target, UTC hour and
    status (a `check_hours` row)."""

    target: str
    hour: datetime
    status: str
    checks: int
    requests: int


def columns_of(record: type[DataclassInstance], table: Table) -> Select[Any]:
    """A SELECT of the table's columns in the order of the record's fields, so that each row
    makes a record by position (`Record(*row)`)."""
    return select(*(table.c[field.name] for field in fields(record)))


SELECT_CHECKS = columns_of(CheckRecord, CHECKS)
SELECT_SLOTS = columns_of(SlotRecord, SLOTS)
SELECT_NOTIFICATIONS = columns_of(NotificationRecord, NOTIFICATIONS)
SELECT_HOURS = columns_of(HourCount, CHECK_HOURS)


def row_values(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """Each row's values, for a record or an unpacking: SQLAlchemy types an unpacked row's
    values as `object`, which no constructor takes."""
    for row in rows:
        yield tuple(row)
