"""What the daemon says of itself (e.g. the config it loaded, `creneau status` shows it),
one row per name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from creneau.store.fence import FencedDatabase
from creneau.store.schema import DAEMON_FACTS, upsert


def save_facts(database: FencedDatabase, facts: dict[str, str], at: datetime) -> None:
    with database.writing() as connection:
        for name, value in facts.items():
            upsert(connection, DAEMON_FACTS, {"name": name}, {"value": value, "updated_at": at})


def facts(engine: Engine) -> dict[str, tuple[str, datetime]]:
    """Each fact the daemon saved: its value and when."""
    with engine.connect() as connection:
        rows = connection.execute(select(DAEMON_FACTS))
        return {row.name: (row.value, row.updated_at) for row in rows}
