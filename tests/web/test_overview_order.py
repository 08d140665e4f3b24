"""The order in which a person reads the targets, on the overview (and its refreshed list) and
in `creneau status`: slots to book first, then a CAPTCHA to solve, then trouble (blocked,
overloaded, closed, error, a page not recognised), then the rest (no slot, never checked,
paused); the config's order within each group."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.config import Config, load_config
from creneau.history import needing_a_person_first
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.store import DatabaseThread, Store
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret

NOW = datetime(2030, 3, 6, 8, 0, tzinfo=UTC)  # the test's clock
# Each target's last check, in the config's order (None: never checked); "paused-free" is
# paused in the config although its last check saw slots.
LAST_STATUS: dict[str, Status | None] = {
    "calm": Status.NONE,
    "never": None,
    "paused-free": Status.AVAILABLE,
    "blocked": Status.BLOCKED,
    "captcha-a": Status.CAPTCHA,
    "free-a": Status.AVAILABLE,
    "changed": Status.UNKNOWN,
    "failing": Status.ERROR,
    "free-b": Status.AVAILABLE,
    "closed": Status.CLOSED,
    "overloaded": Status.OVERLOADED,
    "captcha-b": Status.CAPTCHA,
    "calm-b": Status.NONE,
}
EXPECTED = [
    "free-a",
    "free-b",  # slots to book
    "captcha-a",
    "captcha-b",  # a CAPTCHA to solve
    "blocked",
    "changed",
    "failing",
    "closed",
    "overloaded",  # trouble, in config order
    "calm",
    "never",
    "paused-free",
    "calm-b",  # the rest, in config order
]
TARGET_LINK = re.compile(r'<a class="target-name" href="/targets/([^"]+)">')


def url_of(name: str) -> str:
    return f"https://pref.example/booking/create/{sum(map(ord, name))}"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    tables = "".join(
        f'[[target]]\nname = "{name}"\nsystem = "ezbooking"\nurl = "{url_of(name)}"\n'
        + ("paused = true\n" if name == "paused-free" else "")
        for name in LAST_STATUS
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f'[creneau]\ncontact = "order@example.org"\ndatabase = "sqlite:///{tmp_path / "c.db"}"\n'
        f'data_dir = "{tmp_path / "data"}"\n{tables}',
        encoding="utf-8",
    )
    store = Store(load_config(path).creneau.database)
    store.upgrade()
    routing = Routing(load_config(path).creneau.zone)
    for rank, (name, status) in enumerate(LAST_STATUS.items()):
        if status is not None:
            record(store, last_check(name, status, NOW - timedelta(minutes=30 - rank)), routing)
    store.close()
    return path


def last_check(name: str, status: Status, at: datetime) -> CheckResult:
    start = NOW + timedelta(days=3)
    slots = (Slot(start, "1", "Guichet 1", f"{name}-1"),) if status == Status.AVAILABLE else ()
    guichets = (GuichetResult("1", "Guichet 1", status, slots),)
    return CheckResult(name, "ezbooking", url_of(name), status, at, guichets=guichets)


@pytest.fixture
def client(config_path: Path) -> Iterator[TestClient]:
    config: Config = load_config(config_path)
    store, db = Store(config.creneau.database), DatabaseThread()
    signer = Signer(load_or_create_secret(config.creneau.data_dir))
    context = WebContext(config, store, db, signer, now=lambda: NOW)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as opened:
        yield opened
    db.close()
    store.close()


def test_the_overview_lists_first_what_needs_a_person(client: TestClient) -> None:
    for path in ("/", "/fragments/overview"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert TARGET_LINK.findall(answer.text) == EXPECTED


def test_creneau_status_lists_them_in_the_same_order(config_path: Path) -> None:
    done = CliRunner().invoke(cli, ["status", "--config", str(config_path)], env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    rows = [line.split("│")[1].strip() for line in done.stdout.splitlines() if "│" in line]
    assert [row for row in rows if row in LAST_STATUS] == EXPECTED


def test_the_order_is_one_rule_shared_by_both() -> None:
    config = load_config_text()
    statuses = {name: status.value for name, status in LAST_STATUS.items() if status is not None}
    ordered = needing_a_person_first(config.targets, statuses)
    assert [target.name for target in ordered] == EXPECTED


def load_config_text() -> Config:
    tables = [
        {"name": name, "system": "ezbooking", "url": url_of(name), "paused": name == "paused-free"}
        for name in LAST_STATUS
    ]
    return Config.model_validate({"creneau": {"contact": "order@example.org"}, "target": tables})
