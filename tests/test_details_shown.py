"""What a check found reads in the configured language, its instants in the configured time
zone, wherever a person reads it: the overview, the target's page, the API, `creneau status`
and the trouble alerts. The details come from their real producers (the ezbooking parser on a
saved page, the polite client's cool-down), on a clock this test sets; a row recorded before
details had codes still shows its English sentence."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner
from rich.console import Console
from starlette.testclient import TestClient

from conftest import FIXTURES
from creneau.alert_kinds import Destination
from creneau.alerts.channels import Channel
from creneau.alerts.messages import Messages
from creneau.alerts.outbox import Routing, trouble_event
from creneau.check.record import record
from creneau.cli import cli
from creneau.cli import status as status_command
from creneau.config import load_config
from creneau.details import Detail
from creneau.fetch.errors import HostCoolingDown
from creneau.fetch.politeness import Cooling, HostState
from creneau.page import Page
from creneau.results import CheckResult, Status
from creneau.sources import ezbooking
from creneau.store import DatabaseThread, Store
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 7, 1, 16, 0, tzinfo=UTC)  # the test's clock: 18:00 in Paris (UTC+2)
UNTIL = NOW + timedelta(minutes=70)  # when the host may be asked again
UNTIL_PARIS = UNTIL.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
UNTIL_PARIS_FR = UNTIL.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M:%S")
UNTIL_UTC = UNTIL.strftime("%Y-%m-%d %H:%M:%S")
HOST = "www.rdv-prefecture.interieur.gouv.fr"
REASON = Detail("breaker.failures_in_a_row", count=3)
OLD_SENTENCE = "3 desks: the page says there is no free slot"  # as versions before codes wrote it

FRENCH = {
    "no_slot": "3 guichets : la page indique qu'il n'y a aucun créneau libre",
    "cooling": f"{HOST} est en pause (3 vérifications en échec d'affilée) ; prochain essai le "
    f"{UNTIL_PARIS_FR}",
    "host": f"en pause jusqu'à {UNTIL.astimezone(PARIS):%H:%M} "
    "(3 vérifications en échec d'affilée)",
}
ENGLISH = {
    "no_slot": "3 desks: the page says there is no free slot",
    "cooling": f"{HOST} is cooling down (3 failed checks in a row); next attempt at {UNTIL_PARIS}",
    "host": f"cooling down until {UNTIL.astimezone(PARIS):%H:%M} (3 failed checks in a row)",
}
TEXTS = {"fr": FRENCH, "en": ENGLISH}


def the_page_says_no_slot() -> Detail:
    """What the ezbooking parser says of a saved "no slot" page, for three desks."""
    reading = ezbooking.parse_page(Page.from_file(FIXTURES / "ezbooking" / "no-slot.html"))
    assert reading.status is Status.NONE
    assert reading.detail is not None
    return Detail("ezbooking.desks", count=3, detail=reading.detail)


def cooling_down() -> Detail:
    """What the polite client says of a host that cools down until UNTIL."""
    return HostCoolingDown(HOST, Cooling(UNTIL, REASON, Status.OVERLOADED)).detail


def write_config(folder: Path, language: str) -> Path:
    path = folder / f"config-{language}.toml"
    path.write_text(f"""
[creneau]
contact = "details@example.org"
database = "sqlite:///{folder / "c.db"}"
data_dir = "{folder / "data"}"
language = "{language}"
timezone = "Europe/Paris"
[[target]]
name = "nanterre"
system = "ezbooking"
url = "https://pref.example/booking/create/1001"
[[target]]
name = "cergy"
system = "rdvpref"
url = "https://{HOST}/rdvpref/reservation/demarche/1234/"
[[target]]
name = "lyon"
system = "ezbooking"
url = "https://lyon.example/booking/create/2002"
""")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    at, routing = NOW - timedelta(minutes=2), Routing(PARIS)
    for name, status, detail in (
        ("nanterre", Status.NONE, the_page_says_no_slot()),
        ("cergy", Status.OVERLOADED, cooling_down()),
        ("lyon", Status.NONE, OLD_SENTENCE),
    ):
        record(store, CheckResult(name, "ezbooking", "u", status, at, detail=detail), routing)
    with store.transaction() as tx:
        tx.save_host_state(HOST, HostState(open_until=UNTIL, reason=REASON), NOW)
    store.close()
    return tmp_path


@pytest.fixture
def dashboard(folder: Path) -> Iterator[dict[str, TestClient]]:
    opened = []
    clients = {}
    for language in ("fr", "en"):
        config = load_config(write_config(folder, language))
        store, db = Store(config.creneau.database), DatabaseThread()
        signer = Signer(load_or_create_secret(folder / "data"))
        context = WebContext(config, store, db, signer, None, now=lambda: NOW)
        clients[language] = TestClient(create_app(context), base_url="http://127.0.0.1")
        opened.append((clients[language], db, store))
    yield clients
    for client, db, store in opened:
        client.close()
        db.close()
        store.close()


def text_of(answer: str) -> str:
    return html.unescape(answer)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_overview_says_it_in_the_language_and_the_zone(
    dashboard: dict[str, TestClient], language: str
) -> None:
    page = text_of(dashboard[language].get("/").text)
    expected = TEXTS[language]
    assert expected["no_slot"] in page
    assert expected["cooling"] in page
    assert expected["host"] in page
    assert UNTIL_UTC not in page  # the instant is never shown in UTC
    assert OLD_SENTENCE in page  # an older row, as it was written


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_target_page_the_hosts_and_the_api_say_it_in_the_language(
    dashboard: dict[str, TestClient], language: str
) -> None:
    client, expected = dashboard[language], TEXTS[language]
    assert expected["no_slot"] in text_of(client.get("/targets/nanterre").text)
    assert expected["cooling"] in text_of(client.get("/targets/cergy").text)
    reason = expected["host"].split("(")[1].rstrip(")")
    assert reason in text_of(client.get("/hosts").text)  # why the breaker is open
    shown = client.get("/api/v1/targets/nanterre").json()
    assert (shown["detail"], shown["detail_code"]) == (expected["no_slot"], "ezbooking.desks")
    assert (
        Detail.from_json({"code": shown["detail_code"], "params": shown["detail_params"]})
        == the_page_says_no_slot()
    )
    old = client.get("/api/v1/targets/lyon").json()
    assert (old["detail"], old["detail_code"]) == (OLD_SENTENCE, None)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_creneau_status_says_it_in_the_language_and_the_zone(
    folder: Path, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    # The command's console is made once per process: as wide as this test's COLUMNS, not as
    # the COLUMNS of whichever test ran `creneau status` first (a narrower one wraps the line).
    monkeypatch.setattr(status_command, "out", Console(highlight=False, soft_wrap=True))
    config = write_config(folder, language)
    with time_machine.travel(NOW, tick=False):
        done = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert done.exit_code == 0, done.output
    reason = (
        "3 vérifications en échec d'affilée" if language == "fr" else "3 failed checks in a row"
    )
    assert TEXTS[language]["no_slot"] in done.stdout
    assert f"{HOST}: cooling down until {UNTIL_PARIS} ({reason})" in done.stdout
    assert OLD_SENTENCE in done.stdout


def sent(event: dict[str, object], language: str) -> str:
    """An event as the outbox keeps it (JSON) and as it is sent in `language`."""
    kept = json.loads(json.dumps(event))
    return Messages(language, PARIS).render([kept], Channel(format="text")).body


@pytest.mark.parametrize(
    ("language", "changed", "failing"),
    [
        (
            "fr",
            "creneau ne reconnaît plus la page (aucun formulaire de réservation sur la page)",
            f"(dernier état : overloaded, {FRENCH['cooling']})",
        ),
        (
            "en",
            "creneau no longer recognises the page (no booking form on the page)",
            f"(last: overloaded, {ENGLISH['cooling']})",
        ),
    ],
)
def test_a_trouble_alert_says_it_in_the_language_and_the_zone(
    tmp_path: Path, language: str, changed: str, failing: str
) -> None:
    # Through the store's outbox: a page creneau does not recognise.
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    page = Page.from_file(FIXTURES / "ezbooking" / "changed-layout.html")
    unknown = ezbooking.parse_page(page)
    result = CheckResult("nanterre", "ezbooking", "u", Status.UNKNOWN, NOW, detail=unknown.detail)
    record(store, result, Routing(PARIS, [Destination("phone", "json://127.0.0.1:9/")]))
    (row,) = store.notifications()
    assert changed in sent(row.payload, language)
    store.close()
    # A target that fails for long, last because its host cools down.
    cooling = CheckResult("cergy", "rdvpref", "u", Status.OVERLOADED, NOW, detail=cooling_down())
    event = trouble_event(cooling, "failing", None, NOW - timedelta(hours=2))
    body = sent(event.event, language)
    assert failing in body
    assert UNTIL_UTC not in body
    # An alert queued by a version before codes: its English sentence, as it was.
    older = {**event.event, "detail": OLD_SENTENCE}
    assert OLD_SENTENCE in sent(older, language)
