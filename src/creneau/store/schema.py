"""The tables, as SQLAlchemy Core `Table`s: the store builds its statements on them and
never loads the ORM (it cost the daemon ~8 MB of memory). Every timestamp is tz-aware UTC in
and out, whatever the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    CursorResult,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator

from creneau.details import Detail
from creneau.expected import SAID_LIMIT


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


metadata = MetaData()


def _when(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


# One check of one target, whatever it found.
CHECKS = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(100), nullable=False),
    Column("system", String(30), nullable=False),
    _when("started_at"),
    Column("duration_ms", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("http_status", Integer),
    # What the check found: a code of creneau.detail_texts and its parameters, rendered in
    # each reader's language; `detail` holds the English sentence of a row written before
    # codes (and "" since).
    Column("detail", Text, nullable=False, default=""),
    Column("detail_code", String(60)),
    Column("detail_params", JSON),
    Column("page_sha256", String(64)),
    Column("slot_count", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("facts", JSON),  # what the site said besides slots (release times)
    # With keep_pages: every page the check read, in order ({"sha256", "url", "status"}); the
    # pages themselves are kept by hash (archive.py). `page_sha256` is the deciding one's.
    Column("pages", JSON),
    Index("ix_checks_target_started", "target", "started_at"),
    # Uptime counts each (target, day, status) as one range of this index: 0.8 s instead of
    # ~10 s on a year of checks at one a minute for 10 targets.
    Index("ix_checks_target_status_started", "target", "status", "started_at"),
)

# One appearance of a slot: when it was first seen, last seen, and went. A slot that comes
# back after it went (beyond the hysteresis) is a new appearance, a row of its own.
SLOTS = Table(
    "slots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(100), nullable=False),
    Column("guichet_id", String(100), nullable=False),
    Column("guichet", String(300), nullable=False),
    _when("start"),
    Column("key", String(200), nullable=False),
    _when("first_seen"),
    _when("last_seen"),
    _when("gone_at", nullable=True),
    # The check that first saw it; None once that check was rolled into hourly counts.
    Column(
        "first_check_id",
        Integer,
        ForeignKey("checks.id", name="fk_slots_first_check", ondelete="SET NULL"),
    ),
    # The target's last clear answer (available or none) before the check that first saw the
    # slot: its release happened since; kept here so that releases stay exact when old checks
    # are rolled into hourly counts. NULL: seen at the first clear answer (not a release).
    _when("previous_check_at", nullable=True),
    UniqueConstraint("target", "guichet_id", "start", "first_seen", name="uq_slots_appearance"),
    Index("ix_slots_first_check", "first_check_id"),
    Index("ix_slots_open", "target", "gone_at"),
    Index("ix_slots_target_first_seen", "target", "first_seen"),  # the last release
)

# The outbox: one row per message per channel URL. Written in the transaction of the check
# that caused it; only the sender reads it. URLs are never stored (they hold secrets):
# `url_key` is a digest that finds the URL in the running config.
NOTIFICATIONS = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    _when("created_at"),
    Column("target", String(100), nullable=False),
    Column(
        "check_id",
        Integer,
        ForeignKey("checks.id", name="fk_notifications_check", ondelete="SET NULL"),
    ),
    Column("kind", String(20), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("url_key", String(16), nullable=False),
    Column("url_label", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(10), nullable=False, default="pending"),
    Column("held", Boolean, nullable=False, default=False),  # waited for quiet hours
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    _when("next_attempt_at"),
    _when("sent_at", nullable=True),
    Index("ix_notifications_state_next", "state", "next_attempt_at"),
)

# A host's politeness state: breaker, Retry-After deadline, robots.txt cache.
HOSTS = Table(
    "hosts",
    metadata,
    Column("name", String(255), primary_key=True),
    _when("not_before", nullable=True),
    _when("open_until", nullable=True),
    # Why the breaker opened: a code and its parameters, as a check's detail (`reason`: an
    # older row's English text).
    Column("reason", Text, nullable=False, default=""),
    Column("reason_code", String(60)),
    Column("reason_params", JSON),
    Column("status", String(12), nullable=False, default="blocked"),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("openings", Integer, nullable=False, default=0),
    Column("robots_txt", Text),
    _when("robots_fetched_at", nullable=True),
    _when("updated_at"),
    # The token bucket: what was left after the last request, and when (a daemon that takes
    # over goes on from there instead of a full bucket).
    Column("bucket_tokens", Float),
    _when("bucket_at", nullable=True),
)

# What the daemon plans and carries for a target between checks.
TARGET_STATES = Table(
    "target_states",
    metadata,
    Column("name", String(100), primary_key=True),
    _when("next_check_at", nullable=True),
    _when("updated_at"),
    # Cookies of a site session a person opened (after a CAPTCHA), for the next checks.
    Column("site_session", JSON),
    # The last state that needed a person and was alerted (captcha, unknown), and when.
    Column("alert_state", String(12)),
    _when("alert_state_at", nullable=True),
)

# Checks older than the retention period, rolled up: per target, UTC hour and status, how
# many there were. Enough to keep the heatmap and uptime queries exact.
CHECK_HOURS = Table(
    "check_hours",
    metadata,
    Column("target", String(100), primary_key=True),
    Column("hour", UTCDateTime(), primary_key=True),  # UTC, on the hour
    Column("status", String(12), primary_key=True),
    Column("checks", Integer, nullable=False),
    Column("requests", Integer, nullable=False, default=0),
)

# What the running daemon says of itself, for `creneau status` and the dashboard: the config
# it loaded (its digest, when), and later whatever else one process tells another.
DAEMON_FACTS = Table(
    "daemon_facts",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
    _when("updated_at"),
)

# When a target's last check that reached its site began, written before its first request:
# the interval floor holds across a takeover, even after a check that its dead daemon never
# recorded.
TARGET_FETCHES = Table(
    "target_fetches",
    metadata,
    Column("name", String(100), primary_key=True),
    _when("started_at"),
)

# A sender's claim on an outbox row: taken with the row locked (FOR UPDATE SKIP LOCKED on
# PostgreSQL), dropped when the row is marked; one whose sender died lapses at
# `claimed_until`, or at once when a daemon takes over from it.
OUTBOX_CLAIMS = Table(
    "outbox_claims",
    metadata,
    Column(
        "notification_id",
        Integer,
        ForeignKey("notifications.id", name="fk_outbox_claims_notification", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("claimed_by", String(80), nullable=False),
    _when("claimed_until"),
)

# Which daemon is active: one row, whose `epoch` grows with each term. The active daemon
# renews `lease_until` (the database's clock) every few seconds; a standby takes a lapsed or
# released lease, and every write of the active daemon first reads the epoch FOR KEY SHARE,
# so that none lands once a newer term exists.
LEADERSHIP = Table(
    "leadership",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("epoch", Integer, nullable=False, default=0),
    Column("token", String(80)),  # the holder's, unique per process
    Column("instance", String(300)),  # "host:pid", as shown
    Column("host", String(255)),
    Column("pid", Integer),
    _when("since", nullable=True),
    _when("renewed_at", nullable=True),
    _when("lease_until", nullable=True),
    Column("released", Boolean, nullable=False, default=True),  # stepped down cleanly
    Column("takeovers", Integer, nullable=False, default=0),
)

# Every `creneau run` on this database, active or standing by, as last seen: each says it is
# alive every few seconds, until `seen_until`.
DAEMONS = Table(
    "daemons",
    metadata,
    Column("token", String(80), primary_key=True),
    Column("instance", String(300), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    _when("started_at"),
    _when("seen_at"),
    _when("seen_until"),
)


# A release a site announced for a target ("Prochaine mise en ligne … le … à …"), one row per
# (target, instant), as it was followed: seen from `first_seen` to `last_seen`, and how it
# ended (`outcome`: expected.OUTCOMES; pending until it does). Kept as long as slots are:
# history learns from them, and they are few.
ANNOUNCEMENTS = Table(
    "announcements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(100), nullable=False),
    _when("at"),
    Column("week", Date),  # the first day of the week the site said it opens
    _when("first_seen"),
    _when("last_seen"),
    Column("outcome", String(10), nullable=False, default="pending"),
    _when("released_seen_at", nullable=True),  # the check that first saw its slots
    Column("session_ready", Boolean),  # a person's site session was live at `at` (None: n/a)
    # The latest sentence a page showed for it, as the site wrote it ("": the state alone).
    Column("said", String(SAID_LIMIT), nullable=False, default=""),
    # The checks that saw it first and last; None once rolled into hourly counts.
    Column(
        "first_check_id",
        Integer,
        ForeignKey("checks.id", name="fk_announcements_first_check", ondelete="SET NULL"),
    ),
    Column(
        "last_check_id",
        Integer,
        ForeignKey("checks.id", name="fk_announcements_last_check", ondelete="SET NULL"),
    ),
    UniqueConstraint("target", "at", name="uq_announcements_target_at"),
    Index("ix_announcements_target_first_seen", "target", "first_seen"),
)


def by_key(connection: Connection, table: Table, *key: Any) -> Row[Any] | None:
    """The row whose primary key is `key` (in the key's column order), or None."""
    columns = list(table.primary_key.columns)
    query = select(table).where(
        *(column == value for column, value in zip(columns, key, strict=True))
    )
    return connection.execute(query).first()


def upsert(
    connection: Connection, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """The row whose primary key is `key` gets `values`; inserted if it is not there."""
    where = [table.c[name] == value for name, value in key.items()]
    if rowcount(connection.execute(update(table).where(*where).values(values))) == 0:
        connection.execute(insert(table).values({**key, **values}))


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE matched."""
    return int(cast(CursorResult[Any], result).rowcount)


def detail_columns(detail: Detail | str | None, column: str) -> dict[str, Any]:
    """A Detail as its code and parameters (`column`_code, `column`_params); a text (what
    an older row said, carried over) in `column` itself."""
    if isinstance(detail, Detail):
        coded = detail.to_json()
        return {column: "", f"{column}_code": coded["code"], f"{column}_params": coded["params"]}
    return {column: (detail or "")[:2000], f"{column}_code": None, f"{column}_params": None}
