"""Each host's state (breaker, Retry-After, robots.txt, token bucket) and each target's
latest check that reached its site: what a daemon that takes over, or restarts, goes on
from (`fetch.politeness`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.engine import Connection

from creneau.details import recorded
from creneau.fetch.politeness import HostState, Spend
from creneau.results import Status
from creneau.store.fence import FencedDatabase
from creneau.store.records import row_values
from creneau.store.schema import HOSTS, TARGET_FETCHES, by_key, detail_columns


def host_states(engine: Engine) -> dict[str, HostState]:
    with engine.connect() as connection:
        return {row.name: _host_state(row) for row in connection.execute(select(HOSTS))}


def save_spend(database: FencedDatabase, spend: Spend) -> None:
    """Before a request leaves: what the host's token bucket holds once it is taken, and
    when the target's check began. A daemon that takes over goes on from there."""
    bucket = {"bucket_tokens": spend.tokens, "bucket_at": spend.at}
    with database.writing() as connection:
        if by_key(connection, HOSTS, spend.host) is None:
            values = {**_host_values(HostState(), spend.at), **bucket}
            connection.execute(insert(HOSTS).values(name=spend.host, **values))
        else:
            connection.execute(update(HOSTS).where(HOSTS.c.name == spend.host).values(bucket))
        if spend.target:
            _save_fetch(connection, spend.target, spend.check_started_at)


def save_host_state(connection: Connection, host: str, state: HostState, at: datetime) -> None:
    row = by_key(connection, HOSTS, host)
    values = _host_values(state, at)
    if row is None:
        connection.execute(insert(HOSTS).values(name=host, **values))
        return
    # A later request's level may already be there (written before it left).
    later = state.bucket_at is not None and (
        row.bucket_at is None or state.bucket_at >= row.bucket_at
    )
    if not later:
        del values["bucket_tokens"], values["bucket_at"]
    connection.execute(update(HOSTS).where(HOSTS.c.name == host).values(values))


def fetch_floors(engine: Engine, last_checks: dict[str, datetime]) -> dict[str, datetime]:
    """`last_checks`, moved on to the start of each check that reached its site and was
    never recorded (its daemon died): the interval floor starts from the later."""
    found = dict(last_checks)
    query = select(TARGET_FETCHES.c.name, TARGET_FETCHES.c.started_at)
    with engine.connect() as connection:
        for name, at in row_values(connection.execute(query)):
            if name not in found or at > found[name]:
                found[name] = at
    return found


def _save_fetch(connection: Connection, target: str, started_at: datetime) -> None:
    """When the target's latest check that reached its site began (never moved back)."""
    known = by_key(connection, TARGET_FETCHES, target)
    if known is None:
        connection.execute(insert(TARGET_FETCHES).values(name=target, started_at=started_at))
    elif started_at > known.started_at:
        connection.execute(
            update(TARGET_FETCHES)
            .where(TARGET_FETCHES.c.name == target)
            .values(started_at=started_at)
        )


def _host_values(state: HostState, at: datetime) -> dict[str, Any]:
    return {
        "not_before": state.not_before,
        "open_until": state.open_until,
        **detail_columns(state.reason, "reason"),
        "status": state.status.value,
        "consecutive_failures": state.consecutive_failures,
        "openings": state.openings,
        "robots_txt": state.robots_txt,
        "robots_fetched_at": state.robots_fetched_at,
        "updated_at": at,
        "bucket_tokens": state.bucket_tokens,
        "bucket_at": state.bucket_at,
    }


def _host_state(row: Row[Any]) -> HostState:
    return HostState(
        not_before=row.not_before,
        open_until=row.open_until,
        reason=recorded(row.reason_code, row.reason_params, row.reason),
        status=Status(row.status),
        consecutive_failures=row.consecutive_failures,
        openings=row.openings,
        robots_txt=row.robots_txt,
        robots_fetched_at=row.robots_fetched_at,
        bucket_tokens=row.bucket_tokens,
        bucket_at=row.bucket_at,
    )
