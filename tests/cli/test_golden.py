"""The command line's outputs, byte for byte, on a history this test writes and a clock it
sets: `check --json`, `parse --json`, `history … --json` and tables, `status`, `outbox`, the
evidence export's files. A change of layout inside creneau must not change a byte of them.
`CRENEAU_WRITE_GOLDEN=1 pytest tests/cli/test_golden.py` rewrites tests/cli/golden/ after a change
that is meant to show (then read the diff)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from conftest import FIXTURES
from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.details import Detail
from creneau.results import CheckResult, GuichetResult, ReleaseAnnouncement, Slot, Status
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from creneau.store import Store

GOLDEN = Path(__file__).parent / "golden"
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2030, 3, 4, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Paris: the test's clock
NOW = START + timedelta(days=2, hours=1)
URL = "https://pref.example/booking/create/1001"
# What the last checks read of the site's next release: Thursday 10:00, for the week of the
# 18th (the next release `status` and `history summary` show, with its burst's cost).
ANNOUNCED = ReleaseAnnouncement(
    next_at=datetime(2030, 3, 7, 10, 0, tzinfo=ZoneInfo("Europe/Paris")),
    next_week=date(2030, 3, 18),
)


def same_as_golden(name: str, text: str, tmp_path: Path) -> None:
    text = text.replace(str(tmp_path), "<tmp>")
    path = GOLDEN / name
    if os.environ.get("CRENEAU_WRITE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden {name}: run with CRENEAU_WRITE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed"


def slot(at: datetime, guichet: str = "14007") -> Slot:
    label = {"14007": "Guichet 2 - Remise de titre", "14006": "Guichet 1 - Dépôt"}[guichet]
    return Slot(at.astimezone(PARIS), guichet, label, str(int(at.timestamp())))


def history(store: Store) -> None:
    """Two days of checks every 20 minutes: releases on Monday 09:00 and Tuesday 14:00 (the
    first taken after 40 minutes), blocked for an hour on Tuesday morning, an unknown page."""
    destinations = [Destination("phone", "json://127.0.0.1:9/")]
    monday = [slot(START + timedelta(days=9, minutes=15 * i)) for i in range(3)]
    tuesday = [slot(START + timedelta(days=10, hours=5), "14006")]
    at = START
    while at < NOW - timedelta(minutes=30):
        offset = at - START
        shown: list[Slot] = []
        if timedelta(hours=1) <= offset < timedelta(hours=1, minutes=40):
            shown = monday
        if timedelta(days=1, hours=6) <= offset:
            shown = shown + tuesday
        status = Status.AVAILABLE if shown else Status.NONE
        if timedelta(days=1, hours=2) <= offset < timedelta(days=1, hours=3):
            status, shown = Status.BLOCKED, []
        if offset == timedelta(days=1, hours=10):
            status, shown = Status.UNKNOWN, []
        guichets = (GuichetResult("14007", "Guichet 2 - Remise de titre", status, tuple(shown)),)
        result = CheckResult(
            "nanterre",
            "ezbooking",
            URL,
            status,
            at,
            duration_ms=420,
            http_status=403 if status is Status.BLOCKED else 200,
            detail=Detail("ezbooking.no_free_slot") if status is Status.NONE else None,
            guichets=guichets if status in (Status.AVAILABLE, Status.NONE) else (),
            requests=5,
            releases=ANNOUNCED if at >= NOW - timedelta(hours=1) else None,
        )
        record(store, result, Routing(PARIS, destinations, on_gone=True))
        at += timedelta(minutes=20)


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COLUMNS", "160")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
contact = "golden@example.org"
database = "sqlite:///c.db"
data_dir = "{tmp_path / "data"}"
[[notify]]
name = "phone"
urls = ["json://127.0.0.1:9/"]
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{URL}"
""")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    history(store)
    store.close()
    with time_machine.travel(NOW, tick=False):
        yield config


def invoke(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.mark.parametrize("command", ["releases", "heatmap", "lifetime", "uptime", "summary"])
@pytest.mark.parametrize("form", ["--json", "--csv", "table"])
def test_history(recorded: Path, tmp_path: Path, command: str, form: str) -> None:
    args = ["history", command, "--config", str(recorded)]
    output = invoke(*args, *([form] if form != "table" else []))
    same_as_golden(f"history-{command}-{form.strip('-')}.txt", output, tmp_path)


@pytest.mark.parametrize("command", [["status"], ["outbox", "--all"], ["outbox"]])
def test_status_and_outbox(recorded: Path, tmp_path: Path, command: list[str]) -> None:
    output = invoke(*command, "--config", str(recorded))
    same_as_golden(f"{'-'.join(part.strip('-') for part in command)}.txt", output, tmp_path)


def test_evidence(recorded: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    printed = invoke(
        "evidence", "nanterre", "--since", "2030-03-04", "--out", str(out), "--config",
        str(recorded), "--max-renderings", "0",
    )  # fmt: skip
    # The PDF carries the wall clock's time of writing: its bytes (and its manifest line) are
    # the dossier tests' to check, not a golden's.
    files = {
        path.name: path.read_text()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.suffix not in (".html", ".pdf")
    }
    files["MANIFEST.sha256"] = "".join(
        line for line in files["MANIFEST.sha256"].splitlines(True) if "dossier.pdf" not in line
    )
    shown = files
    same_as_golden("evidence.json", json.dumps(shown, indent=1, ensure_ascii=False), tmp_path)
    same_as_golden("evidence-printed.txt", printed, tmp_path)


def test_parse_every_fixture(tmp_path: Path) -> None:
    lines = []
    for system in ("ezbooking", "rdvpref", "rdvsp", "ants"):
        files = sorted(
            str(path)
            for path in (FIXTURES / system).iterdir()
            if path.suffix in (".html", ".json") and not path.name.endswith(".expected.json")
        )
        lines.append(invoke("parse", system, *files, "--json"))
    same_as_golden("parse.txt", "".join(lines).replace(str(FIXTURES), "<fixtures>"), tmp_path)


def test_check_json_on_the_simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with time_machine.travel(NOW, tick=True):
        prefecture = Prefecture(default_bookings())
        prefecture.release("1001", "14007", 3)
        with SimulatorServer(prefecture) as server:
            url = server.booking_url("1001")
            # The simulator may be asked often, as a user would allow it in a [hosts] table:
            # with the default budget the check waits about 40 s for its tokens.
            config = tmp_path / "budget.toml"
            config.write_text(
                '[creneau]\ncontact = "tests@example.org"\n'
                f'database = "sqlite:///{tmp_path / "c.db"}"\ndata_dir = "{tmp_path / "d"}"\n'
                '[hosts."127.0.0.1"]\nper_minute = 600\nburst = 60\n'
                '[[target]]\nname = "unused"\nsystem = "html"\nurl = "https://x.example/"\n'
                'none_text = ["aucun"]\n'
            )
            args = ["check", "--config", str(config), "--system", "ezbooking", "--url", url]
            line = json.loads(invoke(*args, "--json"))
    for varying in ("checked_at", "duration_ms"):
        line.pop(varying)
    shown = json.dumps(line, indent=1, ensure_ascii=False).replace(url.split("/booking")[0], "")
    same_as_golden("check.json", shown, tmp_path)
