"""Shared fixtures. Everything here listens on 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from creneau import redact
from creneau.config import LOOPBACK_BUDGET
from creneau.http import PoliteClient
from creneau.simulator.phone import Phone
from creneau.simulator.prefecture import Prefecture, default_prefecture
from creneau.simulator.server import SimulatorServer
from creneau.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


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


@pytest.fixture
def client() -> PoliteClient:
    return PoliteClient("tests@example.org", lambda host: LOOPBACK_BUDGET, retry_backoff=0.01)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    redact._secrets.clear()
