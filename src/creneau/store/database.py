"""A database URL: the engine creneau opens on it (SQLite with WAL and a busy timeout,
PostgreSQL with a liveness check), the SQLite file it names, and how it is shown."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

BUSY_TIMEOUT_S = 15
SUPPORTED_DATABASES = (("sqlite", "pysqlite"), ("postgresql", "psycopg"))
SUPPORTED_DATABASES_TEXT = (
    'creneau works with SQLite ("sqlite:///creneau.db") and PostgreSQL through psycopg '
    '("postgresql+psycopg://user:password@host/creneau")'
)


def database_problem(url: str) -> str | None:
    """What is wrong with a database URL, in one line; None when creneau can open it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return 'must be an SQLAlchemy URL such as "sqlite:///creneau.db"'
    try:
        dialect = parsed.get_dialect()  # NoSuchModuleError is an ArgumentError
    except (ArgumentError, ImportError):
        return f'{SUPPORTED_DATABASES_TEXT}, not "{parsed.drivername}"'
    if (dialect.name, dialect.driver) not in SUPPORTED_DATABASES:
        return f'{SUPPORTED_DATABASES_TEXT}, not "{parsed.drivername}"'
    try:
        dialect.import_dbapi()
    except ImportError:
        return (
            f"{dialect.driver}, the driver of {parsed.drivername}, is not installed: "
            "pip install 'creneau[postgres]'"
        )
    return None


def sqlite_folder(url: object) -> Path | None:
    """The folder of an SQLite database file; None for another database or in memory."""
    if not isinstance(url, str):
        return None
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    file = parsed.database
    if parsed.get_backend_name() != "sqlite" or not file or file == ":memory:":
        return None
    if file.startswith("file:"):  # an SQLite URI (uri=true): no plain path to take
        return None
    return Path(file).expanduser().parent


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
