"""Shared fixtures. Everything here listens on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from creneau import redact, url_keys
from creneau.details import Said, render
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture, default_prefecture
from creneau.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
pytest_plugins = ["dashboard_harness"]  # the browser tests' chromium and real dashboard
# Loopback hosts get the default budget like any host; tests that check the simulator often
# give it this one, as a user would in a [hosts."127.0.0.1"] table.
SIMULATOR_BUDGET = HostBudget(per_minute=600, burst=60)


def english(detail: Said) -> str:
    """A detail as its English text ("" for none): what tests compare."""
    return render(detail, "en")


@pytest.fixture(autouse=True, scope="session")
def _offline() -> Iterator[None]:
    """No test reaches past loopback: an outside connection or name lookup fails at once."""
    from offline import offline

    with offline():
        yield


@pytest.fixture(autouse=True, scope="session")
def _own_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A config without `data_dir` or `database` keeps its files in $XDG_DATA_HOME/creneau:
    the suite's own, never the machine user's (nor shared with another run of the suite)."""
    previous = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data-home"))
    yield
    if previous is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = previous


@pytest.fixture(autouse=True, scope="session")
def _moved_clock() -> Iterator[None]:
    """CRENEAU_TEST_DATE=2036-06-01 runs the suite with the real clock moved to that date
    (ticking on from it): a test that compares a fixed date with now() fails then."""
    moved = os.environ.get("CRENEAU_TEST_DATE")
    if not moved:
        yield
        return
    import time_machine

    with time_machine.travel(datetime.fromisoformat(moved).replace(tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def prefecture() -> Prefecture:
    return default_prefecture()


@pytest.fixture
def simulator(prefecture: Prefecture) -> Iterator[SimulatorServer]:
    with SimulatorServer(prefecture) as server:
        yield server


@pytest.fixture
def phone() -> Iterator[Phone]:
    with Phone() as receiver:
        yield receiver


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    database = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    database.upgrade()
    yield database
    database.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    from postgres import server

    # Not under pytest's own temporary folder: the postgres user cannot enter it.
    folder = Path(tempfile.mkdtemp(prefix="creneau-postgres-"))
    try:
        with server(folder) as url:
            yield url
    except FileNotFoundError as missing:
        pytest.skip(f"no PostgreSQL server for the store's tests: {missing}")
    except subprocess.CalledProcessError as failure:
        pytest.skip(f"PostgreSQL did not start: {failure.stderr.decode(errors='replace')}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_store(postgres_server: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh, migrated database on the session's PostgreSQL server."""
    from sqlalchemy import create_engine, text

    name = f"t{abs(hash(request.node.nodeid)) % 10**12}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    database = Store(postgres_server.rsplit("/", 1)[0] + f"/{name}")
    database.upgrade()
    yield database
    database.close()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def client() -> PoliteClient:
    return PoliteClient("tests@example.org", lambda host: SIMULATOR_BUDGET, retry_backoff=0.01)


TEST_URL_KEYS_SECRET = bytes(range(32))


@pytest.fixture(autouse=True, scope="session")
def _url_keys_secret_for_wider_fixtures() -> None:
    """The same secret for the fixtures of a module or of the session, set up before any
    test's own fixtures run."""
    url_keys._secret = TEST_URL_KEYS_SECRET


@pytest.fixture(autouse=True)
def _url_keys_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test process has an installation's secret, as every command loads one."""
    monkeypatch.setattr(url_keys, "_secret", TEST_URL_KEYS_SECRET)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    redact._secrets.clear()
