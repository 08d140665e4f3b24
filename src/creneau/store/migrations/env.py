"""Alembic environment: runs on the connection creneau hands over, or on sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine

from creneau.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: give a connection or sqlalchemy.url")
    with create_engine(url).connect() as conn:
        run(conn)
