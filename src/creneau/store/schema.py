"""The tables. Every timestamp is tz-aware UTC in and out, whatever the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes; stores UTC (naive on SQLite, which drops offsets);
    always returns tz-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: creneau stores tz-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


class CheckRow(Base):
    """One check of one target, whatever it found."""

    __tablename__ = "checks"
    __table_args__ = (
        Index("ix_checks_target_started", "target", "started_at"),
        # Uptime counts each (target, day, status) as one range of this index: 0.8 s instead
        # of ~10 s on a year of checks at one a minute for 10 targets.
        Index("ix_checks_target_status_started", "target", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(100))
    system: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))
    http_status: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")
    page_sha256: Mapped[str | None] = mapped_column(String(64))
    slot_count: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    facts: Mapped[dict[str, Any] | None]  # what the site said besides slots (release times)
    # With keep_pages: every page the check read, in order ({"sha256", "url", "status"}); the
    # pages themselves are kept by hash (archive.py). `page_sha256` is the deciding one's.
    pages: Mapped[list[dict[str, Any]] | None]


class SlotRow(Base):
    """One appearance of a slot: when it was first seen, last seen, and went. A slot that comes
    back after it went (beyond the hysteresis) is a new appearance, a row of its own."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("target", "guichet_id", "start", "first_seen", name="uq_slots_appearance"),
        Index("ix_slots_first_check", "first_check_id"),
        Index("ix_slots_open", "target", "gone_at"),
        Index("ix_slots_target_first_seen", "target", "first_seen"),  # the last release
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(100))
    guichet_id: Mapped[str] = mapped_column(String(100))
    guichet: Mapped[str] = mapped_column(String(300))
    start: Mapped[datetime]
    key: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    gone_at: Mapped[datetime | None]
    # The check that first saw it; None once that check was rolled into hourly counts.
    first_check_id: Mapped[int | None] = mapped_column(
        ForeignKey("checks.id", name="fk_slots_first_check", ondelete="SET NULL")
    )
    # The check before the one that first saw it: the release happened in between. Kept here
    # so that releases stay exact when old checks are rolled into hourly aggregates.
    # The target's last clear answer (available or none) before the check that first saw the
    # slot: its release happened since. NULL: seen at the first clear answer (not a release).
    previous_check_at: Mapped[datetime | None]


class NotificationRow(Base):
    """The outbox: one row per message per channel URL. Written in the transaction of the
    check that caused it; only the sender reads it. URLs are never stored (they hold
    secrets): `url_key` is a digest that finds the URL in the running config."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    target: Mapped[str] = mapped_column(String(100))
    check_id: Mapped[int | None] = mapped_column(
        ForeignKey("checks.id", name="fk_notifications_check", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(100))
    url_key: Mapped[str] = mapped_column(String(16))
    url_label: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(10), default="pending")
    held: Mapped[bool] = mapped_column(default=False)  # waited for a channel's quiet hours
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class HostRow(Base):
    """A host's politeness state: breaker, Retry-After deadline, robots.txt cache."""

    __tablename__ = "hosts"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    not_before: Mapped[datetime | None]
    open_until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="blocked")
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    openings: Mapped[int] = mapped_column(default=0)
    robots_txt: Mapped[str | None] = mapped_column(Text)
    robots_fetched_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The token bucket: what was left after the last request, and when (a daemon that takes
    # over goes on from there instead of a full bucket).
    bucket_tokens: Mapped[float | None] = mapped_column(Float)
    bucket_at: Mapped[datetime | None]


class TargetStateRow(Base):
    """What the daemon plans and carries for a target between checks."""

    __tablename__ = "target_states"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_check_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # Cookies of a site session a person opened (after a CAPTCHA), for the next checks.
    site_session: Mapped[dict[str, Any] | None]
    # The last state that needed a person and was alerted (captcha, unknown), and when.
    alert_state: Mapped[str | None] = mapped_column(String(12))
    alert_state_at: Mapped[datetime | None]


class CheckHourRow(Base):
    """Checks older than the retention period, rolled up: per target, UTC hour and status,
    how many there were. Enough to keep the heatmap and uptime queries exact."""

    __tablename__ = "check_hours"

    target: Mapped[str] = mapped_column(String(100), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # UTC, on the hour
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    checks: Mapped[int]
    requests: Mapped[int] = mapped_column(default=0)


class DaemonFactRow(Base):
    """What the running daemon says of itself, for `creneau status` and the dashboard: the
    config it loaded (its digest, when), and later whatever else one process tells another."""

    __tablename__ = "daemon_facts"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class TargetFetchRow(Base):
    """When a target's last check that reached its site began, written before its first
    request: the interval floor holds across a takeover, even after a check that its dead
    daemon never recorded."""

    __tablename__ = "target_fetches"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime]


class OutboxClaimRow(Base):
    """A sender's claim on an outbox row: taken with the row locked (FOR UPDATE SKIP LOCKED
    on PostgreSQL), dropped when the row is marked; one whose sender died lapses at
    `claimed_until`, or at once when a daemon takes over from it."""

    __tablename__ = "outbox_claims"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", name="fk_outbox_claims_notification", ondelete="CASCADE"),
        primary_key=True,
    )
    claimed_by: Mapped[str] = mapped_column(String(80))
    claimed_until: Mapped[datetime]


class LeadershipRow(Base):
    """Which daemon is active: one row, whose `epoch` grows with each term. The active daemon
    renews `lease_until` (the database's clock) every few seconds; a standby takes a lapsed
    or released lease, and every write of the active daemon first reads the epoch FOR KEY
    SHARE, so that none lands once a newer term exists."""

    __tablename__ = "leadership"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    token: Mapped[str | None] = mapped_column(String(80))  # the holder's, unique per process
    instance: Mapped[str | None] = mapped_column(String(300))  # "host:pid", as shown
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    since: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    released: Mapped[bool] = mapped_column(default=True)  # the holder stepped down cleanly
    takeovers: Mapped[int] = mapped_column(Integer, default=0)


class DaemonRow(Base):
    """Every `creneau run` on this database, active or standing by, as last seen: each says
    it is alive every few seconds, until `seen_until`."""

    __tablename__ = "daemons"

    token: Mapped[str] = mapped_column(String(80), primary_key=True)
    instance: Mapped[str] = mapped_column(String(300))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    seen_until: Mapped[datetime]
