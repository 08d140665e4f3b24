"""The releases sites announce, as the store follows them (`announcements`): one row per
target and announced instant, written in a check's transaction (`save`), read back as
`expected.Announcement` (with the latest sentence the site wrote for it). The outbox rows
that told of one are withdrawn here when it ends before they went (`withdraw_unsent`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select, update
from sqlalchemy.engine import Connection

from creneau.alert_kinds import RELEASE_ANNOUNCED
from creneau.details import Detail, as_text
from creneau.expected import Announcement
from creneau.results import said_as_kept
from creneau.store.fence import FencedDatabase
from creneau.store.schema import ANNOUNCEMENTS, NOTIFICATIONS, OUTBOX_CLAIMS, rowcount, upsert


def save(connection: Connection, announcement: Announcement, check_id: int | None) -> None:
    """The row of (target, at) as `announcement` says, created if it is not there; the check
    that saw it last (and first, for a new row)."""
    key = {"target": announcement.target, "at": announcement.at}
    existing = connection.execute(select(ANNOUNCEMENTS.c.first_seen).where(*_key_of(key))).first()
    values: dict[str, Any] = {
        "week": announcement.week,
        "first_seen": announcement.first_seen,
        "last_seen": announcement.last_seen,
        "outcome": announcement.outcome,
        "released_seen_at": announcement.released_seen_at,
        "session_ready": announcement.session_ready,
        "said": said_as_kept(announcement.said),
        "last_check_id": check_id,
    }
    if existing is None or existing.first_seen != announcement.first_seen:
        values["first_check_id"] = check_id  # new, or announced anew after it ended
    upsert(connection, ANNOUNCEMENTS, key, values)


def latest(connection: Connection, target: str) -> Announcement | None:
    """The target's announcement first seen last (a pending one, or how the last ended)."""
    query = (
        select(ANNOUNCEMENTS)
        .where(ANNOUNCEMENTS.c.target == target)
        .order_by(ANNOUNCEMENTS.c.first_seen.desc(), ANNOUNCEMENTS.c.id.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    return _announcement(row) if row is not None else None


def announcement(engine: Engine, target: str) -> Announcement | None:
    with engine.connect() as connection:
        return latest(connection, target)


def announcements(
    engine: Engine, target: str | None = None, since: datetime | None = None
) -> list[Announcement]:
    """Announcements oldest first (by when they were first seen): of one target, and only
    those still seen at or after `since`, when given."""
    query = select(ANNOUNCEMENTS).order_by(ANNOUNCEMENTS.c.first_seen, ANNOUNCEMENTS.c.id)
    if target is not None:
        query = query.where(ANNOUNCEMENTS.c.target == target)
    if since is not None:
        query = query.where(ANNOUNCEMENTS.c.last_seen >= since)
    with engine.connect() as connection:
        return [_announcement(row) for row in connection.execute(query)]


def mark_session_ready(database: FencedDatabase, target: str, at: datetime, ready: bool) -> bool:
    """Whether a person's site session was live at the announced instant; False when no
    such announcement is known."""
    with database.writing() as connection:
        changed = connection.execute(
            update(ANNOUNCEMENTS)
            .where(ANNOUNCEMENTS.c.target == target, ANNOUNCEMENTS.c.at == at)
            .values(session_ready=ready)
        )
        return rowcount(changed) > 0


def withdraw_unsent(
    connection: Connection, target: str, since: datetime, reason: Detail
) -> set[tuple[str, str]]:
    """Release alerts of `target` that wait in the outbox are expired with `reason`, never to
    be sent (a row a sender holds at this instant goes: it is on its way). Returns the
    (channel, url key) pairs that were told of the announcement first seen at `since`: rows
    written since then and sent, or on their way."""
    of_target = (
        NOTIFICATIONS.c.target == target,
        NOTIFICATIONS.c.kind == RELEASE_ANNOUNCED,
    )
    claimed = select(OUTBOX_CLAIMS.c.notification_id)
    connection.execute(
        update(NOTIFICATIONS)
        .where(
            *of_target,
            NOTIFICATIONS.c.state == "pending",
            NOTIFICATIONS.c.id.not_in(claimed),
        )
        .values(state="expired", last_error=as_text(reason))
    )
    told = select(NOTIFICATIONS.c.channel, NOTIFICATIONS.c.url_key).where(
        *of_target,
        NOTIFICATIONS.c.created_at >= since,
        (NOTIFICATIONS.c.state == "sent")
        | and_(NOTIFICATIONS.c.state == "pending", NOTIFICATIONS.c.id.in_(claimed)),
    )
    return {(row.channel, row.url_key) for row in connection.execute(told)}


def _key_of(key: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(ANNOUNCEMENTS.c[name] == value for name, value in key.items())


def _announcement(row: Any) -> Announcement:
    return Announcement(
        target=row.target,
        at=row.at,
        week=row.week,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        outcome=row.outcome,
        released_seen_at=row.released_seen_at,
        session_ready=row.session_ready,
        said=row.said or "",
    )


def latest_announcements(engine: Engine, targets: Sequence[str]) -> dict[str, Announcement]:
    """Each named target's announcement first seen last (as `latest`), in one query; a
    target without any is left out."""
    if not targets:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=ANNOUNCEMENTS.c.target,
            order_by=(ANNOUNCEMENTS.c.first_seen.desc(), ANNOUNCEMENTS.c.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(ANNOUNCEMENTS.c.id, rank).where(ANNOUNCEMENTS.c.target.in_(list(targets))).subquery()
    )
    newest = select(ranked.c.id).where(ranked.c.rank == 1)
    query = select(ANNOUNCEMENTS).where(ANNOUNCEMENTS.c.id.in_(newest))
    with engine.connect() as connection:
        return {row.target: _announcement(row) for row in connection.execute(query)}
