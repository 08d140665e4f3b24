"""A throwaway PostgreSQL server for the store's tests: Debian's binaries, a data directory
in a temporary folder, 127.0.0.1 on a free port, stopped at the end. Skipped, with the reason,
where PostgreSQL is not installed (`.ci/run` installs it)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from creneau.store import Store


def binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the package's user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(folder: Path) -> Iterator[str]:
    """Yields a SQLAlchemy URL of the server's maintenance database."""
    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
    data = folder / "pgdata"
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [initdb, "-D", str(data), "-U", "creneau", "--auth=trust", "-E", "UTF8", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(data / "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://creneau@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )


DATABASES = ["sqlite", "postgresql"]


def each_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store fixture's body, parametrized over DATABASES: a real PostgreSQL server (the
    `postgres_store` fixture) or an SQLite file."""
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_store")
        return
    database = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    database.upgrade()
    yield database
    database.close()
