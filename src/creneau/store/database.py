"""A database URL: the engine creneau opens on it (SQLite with WAL and a busy timeout,
PostgreSQL with a liveness check), the SQLite file it names, and how it is shown (what the
config may name is checked in creneau.database_url)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_S = 15


def database_file(url: str) -> Path | None:
    """The SQLite file the URL names, `~` expanded; None for a server database or an SQLite
    database in memory."""
    parsed = make_url(url)
    file = parsed.database
    if parsed.get_backend_name() != "sqlite" or not file or file == ":memory:":
        return None
    return Path(file).expanduser()


def database_label(url: str) -> str:
    """The URL as it may be shown: its password masked."""
    return make_url(url).render_as_string(hide_password=True)


def open_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    file = database_file(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    )
    event.listen(engine, "connect", _sqlite_settings)
    return engine


def _sqlite_settings(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.close()
