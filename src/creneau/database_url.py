"""A database URL as the config names it: whether creneau can open it (SQLite or PostgreSQL
through psycopg, its driver installed) and the folder of an SQLite file. Only reads the URL
(SQLAlchemy's URL parser and dialect registry): the store opens the database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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
