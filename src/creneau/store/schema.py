"""The tables. Every timestamp is tz-aware UTC in and out, whatever the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
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
