"""Retention: checks older than the retention period become hourly counts per target and
status (releases keep their own times on the slot rows); alerts done with are forgotten."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from creneau.store.fence import FencedDatabase
from creneau.store.schema import CHECK_HOURS, CHECKS, NOTIFICATIONS, rowcount


def roll_up(database: FencedDatabase, before: datetime, batch: int = 20_000) -> int:
    """Count checks older than `before` into hourly rows, then delete them; also forget
    alerts sent, expired or failed before then. Returns how many checks were rolled up."""
    rolled = 0
    while True:
        with database.writing() as connection:
            rows = connection.execute(
                select(
                    CHECKS.c.id,
                    CHECKS.c.target,
                    CHECKS.c.started_at,
                    CHECKS.c.status,
                    CHECKS.c.requests,
                )
                .where(CHECKS.c.started_at < before)
                .order_by(CHECKS.c.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            _add_hours(connection, rows)
            connection.execute(
                delete(CHECKS).where(CHECKS.c.id <= rows[-1].id, CHECKS.c.started_at < before)
            )
            rolled += len(rows)
    with database.writing() as connection:
        connection.execute(
            delete(NOTIFICATIONS).where(
                NOTIFICATIONS.c.created_at < before, NOTIFICATIONS.c.state != "pending"
            )
        )
    return rolled


def _add_hours(connection: Connection, rows: Sequence[Any]) -> None:
    counts: dict[tuple[str, datetime, str], list[int]] = {}
    for row in rows:
        hour = row.started_at.replace(minute=0, second=0, microsecond=0)
        count = counts.setdefault((row.target, hour, row.status), [0, 0])
        count[0] += 1
        count[1] += row.requests
    for (target, hour, status), (checks, requests) in counts.items():
        added = connection.execute(
            update(CHECK_HOURS)
            .where(
                CHECK_HOURS.c.target == target,
                CHECK_HOURS.c.hour == hour,
                CHECK_HOURS.c.status == status,
            )
            .values(
                checks=CHECK_HOURS.c.checks + checks, requests=CHECK_HOURS.c.requests + requests
            )
        )
        if rowcount(added) == 0:
            connection.execute(
                insert(CHECK_HOURS).values(
                    target=target, hour=hour, status=status, checks=checks, requests=requests
                )
            )
