"""The schema's upgrade: Alembic migrations (`store/migrations`), applied by `creneau db
upgrade` and at daemon start, one process at a time (an advisory lock on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from creneau.store.lock import lock_migrations

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine, to: str = "head") -> None:
    """Apply every pending migration (idempotent), or those up to `to` (tests of a
    migration). Alembic is loaded only when one is pending: it costs ~11 MB and a good
    part of the start-up time."""
    if revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        # Daemons started together on an empty database: one migrates, the others wait
        # here, then find nothing left to do.
        lock_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, to)


def revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: not created yet)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("select version_num from alembic_version")).scalar()


def head_revision() -> str:
    """The newest migration. Revision ids are the file names' numeric prefixes (0001, …);
    a test checks that Alembic agrees."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("0*.py"))
