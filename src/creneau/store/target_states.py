"""Each target's row of state: when it is checked next (`creneau status` reads it), the last
state that needed a person and was alerted, the site session a person opened for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from creneau.results import SiteSession, site_session_of
from creneau.store.fence import FencedDatabase
from creneau.store.records import row_values
from creneau.store.schema import TARGET_STATES, by_key, upsert


def save_target_state(connection: Connection, name: str, now: datetime, **values: Any) -> None:
    """The target's row gets `values` (and `updated_at`), created if it is not there."""
    upsert(connection, TARGET_STATES, {"name": name}, {"updated_at": now, **values})


def next_checks(engine: Engine) -> dict[str, datetime | None]:
    query = select(TARGET_STATES.c.name, TARGET_STATES.c.next_check_at)
    with engine.connect() as connection:
        return dict(row_values(connection.execute(query)))


def save_next_check(
    database: FencedDatabase, target: str, at: datetime | None, now: datetime
) -> None:
    with database.writing() as connection:
        save_target_state(connection, target, now, next_check_at=at)


def alert_state(connection: Connection, target: str) -> tuple[str | None, datetime | None]:
    """The last state that needed a person and was alerted, and when."""
    row = by_key(connection, TARGET_STATES, target)
    return (row.alert_state, row.alert_state_at) if row else (None, None)


def save_alert_state(connection: Connection, target: str, state: str | None, at: datetime) -> None:
    known, _ = alert_state(connection, target)
    if state != known:
        changed = {"alert_state": state, **({"alert_state_at": at} if state else {})}
        save_target_state(connection, target, at, **changed)
    else:
        save_target_state(connection, target, at)


def site_session(engine: Engine, target: str) -> SiteSession | None:
    """Cookies of the site session a person opened for this target, if any."""
    query = select(TARGET_STATES.c.site_session).where(TARGET_STATES.c.name == target)
    with engine.connect() as connection:
        return site_session_of(connection.scalar(query)) or None


def replace_site_session(
    connection: Connection, target: str, used: SiteSession, cookies: SiteSession, at: datetime
) -> None:
    """Keep a check's cookies only if the session it started with is still the stored
    one: a person may have opened a new session while the check ran."""
    row = by_key(connection, TARGET_STATES, target)
    if site_session_of(row.site_session if row else None) == used:
        save_target_state(connection, target, at, site_session=cookies or None)
    else:
        save_target_state(connection, target, at)
