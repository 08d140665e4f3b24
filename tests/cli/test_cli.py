"""The command line: parse, history, notify-test, health, db upgrade."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from conftest import FIXTURES
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.config import load_config
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.store import DatabaseThread, Store
from creneau.web.api import targets_json
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret

PARIS = ZoneInfo("Europe/Paris")
PARIS_SLOT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def write_config(tmp_path: Path, phone_url: str = "json://127.0.0.1:9/") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[creneau]
database = "sqlite:///creneau.db"
contact = "tests@example.org"
[[notify]]
name = "phone"
urls = ["{phone_url}"]
[[target]]
name = "nanterre"
system = "ezbooking"
url = "http://127.0.0.1:9/booking/create/1001"
every = "2s"
""")
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, list(args))
    return done.exit_code, done.stdout, done.stderr


def test_parse_prints_one_exact_json_line_per_file() -> None:
    files = [
        str(FIXTURES / "ezbooking" / name)
        for name in ("no-slot.html", "week-grid-3-free.json", "changed-layout.html")
    ]
    code, stdout, _ = invoke("parse", "ezbooking", *files, "--json")
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert code == 0
    assert [(line["kind"], line["status"]) for line in lines] == [
        ("no-slot", "none"),
        ("week-grid", "available"),
        ("unknown", "unknown"),
    ]
    assert [s["key"] for s in lines[1]["slots"]] == ["1796112000", "1796112900", "1796304600"]


def test_parse_refuses_an_unknown_system() -> None:
    code, _, stderr = invoke("parse", "doctolib", str(FIXTURES / "ezbooking" / "no-slot.html"))
    assert code == 2
    assert "Invalid value" in stderr
    assert "'doctolib'" in stderr


def recorded_history(tmp_path: Path) -> Path:
    config = write_config(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    store.upgrade()
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for minutes, slots in (
        (0, []),
        (5, [PARIS_SLOT, PARIS_SLOT + timedelta(minutes=15)]),
        (10, [PARIS_SLOT]),
    ):
        status = Status.AVAILABLE if slots else Status.NONE
        guichet = GuichetResult(
            "14007",
            "Guichet 2",
            status,
            tuple(Slot(s, "14007", "Guichet 2", str(int(s.timestamp()))) for s in slots),
        )
        record(
            store,
            CheckResult(
                "nanterre",
                "ezbooking",
                "http://127.0.0.1:9/booking/create/1001",
                status,
                t0 + timedelta(minutes=minutes),
                guichets=(guichet,),
            ),
            Routing(PARIS),
        )
    store.close()
    return config


def test_history_releases_json(tmp_path: Path) -> None:
    config = recorded_history(tmp_path)
    code, stdout, _ = invoke("history", "releases", "--config", str(config), "--json")
    assert code == 0
    assert [json.loads(line) for line in stdout.splitlines()] == [
        {
            "target": "nanterre",
            "guichet": "Guichet 2",
            "guichet_id": "14007",
            "seen_at": "2026-11-23T08:05:00+00:00",
            "previous_check_at": "2026-11-23T08:00:00+00:00",
            "slot_count": 2,
            "slots": ["2026-12-01T08:00:00+00:00", "2026-12-01T08:15:00+00:00"],
        }
    ]


def test_history_releases_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    config = recorded_history(tmp_path)
    code, stdout, _ = invoke("history", "releases", "--config", str(config))
    assert code == 0
    assert "2026-11-23 09:05:00" in stdout  # seen at, in Paris time
    assert "Guichet 2" in stdout


def test_notify_test_reports_each_url(tmp_path: Path, phone: Phone) -> None:
    config = tmp_path / "config.toml"
    write_config(tmp_path)
    text = config.read_text().replace(
        'urls = ["json://127.0.0.1:9/"]', f'urls = ["{phone.apprise_url}", "json://127.0.0.1:9/"]'
    )
    config.write_text(text)
    code, stdout, _ = invoke("notify-test", "--config", str(config))
    assert code == 1
    assert "sent    phone #1 (json://…)" in stdout
    assert "failed  phone #2 (json://…)" in stdout
    assert [m.title for m in phone.messages] == ["creneau : message de test"]


def test_health_says_unhealthy_then_healthy(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, _, stderr = invoke("health", "--config", str(config))
    assert (code, stderr.strip()) == (
        1,
        f"creneau: no database at {tmp_path / 'creneau.db'} (creneau run or creneau db upgrade "
        "creates it; check [creneau] database in the config)",
    )
    assert not (tmp_path / "creneau.db").exists()
    store = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    store.upgrade()
    code, _, stderr = invoke("health", "--config", str(config))
    assert (code, stderr.strip()) == (
        1,
        "unhealthy: nanterre: never checked (is creneau run running?)",
    )
    record(
        store,
        CheckResult("nanterre", "ezbooking", "u", Status.NONE, datetime.now(UTC)),
        Routing(PARIS),
    )
    code, stdout, _ = invoke("health", "--config", str(config))
    assert code == 0
    assert stdout.startswith("healthy: 1 target(s) on schedule; last check ")


def test_health_follows_each_target_s_windows(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(
        config.read_text().replace(
            'every = "2s"', 'every = "5m"\nwindows = ["Mon-Fri 09:00-10:00"]'
        )
    )
    store = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    store.upgrade()
    friday_evening = datetime(2030, 3, 1, 9, 58, tzinfo=PARIS)  # the clock this test sets
    assert friday_evening.weekday() == 4
    record(
        store,
        CheckResult("nanterre", "ezbooking", "u", Status.NONE, friday_evening),
        Routing(PARIS),
    )
    with time_machine.travel(friday_evening + timedelta(days=2, hours=12), tick=False):
        assert invoke("health", "--config", str(config))[0] == 0  # Sunday night: none due
    with time_machine.travel(friday_evening + timedelta(days=3, hours=1), tick=False):
        code, _, stderr = invoke("health", "--config", str(config))
    assert code == 1
    assert stderr.startswith("unhealthy: nanterre: its check was due at 2030-03-04 09:")


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, stdout, _ = invoke("db", "upgrade", "--config", str(config))
    assert code == 0
    assert stdout.strip() == f"database up to date: sqlite:///{tmp_path / 'creneau.db'}"
    assert (tmp_path / "creneau.db").exists()


def test_check_by_name_and_unknown_name(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, _, stderr = invoke("check", "nope", "--config", str(config))
    assert code == 2
    assert "no target named nope" in stderr


def test_check_json_shows_the_url_as_the_api_does_without_its_secrets(
    tmp_path: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One path for both: the URL as `public_link` shows it, no password, no ${VAR} value."""
    token, password = "tok-9d1e66c2a7", "pass-5f3c81d2"
    monkeypatch.setenv("SITE_TOKEN", token)
    public = simulator.booking_url("1001")
    url = public.replace("http://", f"http://agent:{password}@") + "?key=${SITE_TOKEN}"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
database = "sqlite:///creneau.db"
contact = "tests@example.org"
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{url}"
[hosts."127.0.0.1"]
per_minute = 600
burst = 60
""")
    code, stdout, stderr = invoke("check", "--json", "--config", str(config))
    assert code == 0, stderr
    assert json.loads(stdout)["url"] == public
    for secret in (token, password, "agent:"):
        assert secret not in stdout + stderr
    loaded = load_config(config)
    store = Store(loaded.creneau.database)
    signer = Signer(load_or_create_secret(tmp_path / "web"))
    context = WebContext(loaded, store, DatabaseThread(), signer)
    try:
        assert targets_json(context)[0]["url"] == public
    finally:
        context.db.close()
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "--url", "http://127.0.0.1:9/booking/create/1"],
            "an ad-hoc check needs --system (and --url or --set)",
        ),
        (["check", "--system", "ezbooking"], "--url: is required"),
        (
            ["check", "--system", "ants", "--set", "latitude=95"],
            "--set latitude: must be between -90 and 90 (got 95.0)",
        ),
    ],
)
def test_ad_hoc_check_needs_what_the_system_needs(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = invoke(*args)
    assert code == 2
    assert message in stderr


def test_ad_hoc_check_with_a_bad_url_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = invoke("check", "--system", "ezbooking", "--url", "https://example.org/")
    assert code == 2
    assert stderr.strip() == (
        '--url: must look like https://<host>/booking/create/<id> (got "https://example.org/")'
    )


HOSTILE = "[bold red]ALERTE[/bold red] [link=http://evil.example]lien[/link] \x1b[31m\x1b]0;t\x07"


def test_page_text_in_the_terminal_is_shown_never_obeyed(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from creneau.cli import check as check_command

    screen = io.StringIO()
    monkeypatch.setattr(check_command, "out", Console(file=screen, force_terminal=True, width=400))
    slot = Slot(PARIS_SLOT, "1", HOSTILE, "k")
    result = CheckResult(
        "t",
        "html",
        "u",
        Status.AVAILABLE,
        datetime.now(UTC),
        detail=HOSTILE,
        guichets=(GuichetResult("1", HOSTILE, Status.AVAILABLE, (slot,)),),
    )
    check_command.print_result(result, 1, PARIS, "fr")
    shown = screen.getvalue()
    assert "[bold red]ALERTE[/bold red] [link=http://evil.example]lien[/link]" in shown
    assert "\x1b]8;" not in shown  # no hyperlink
    assert "\x1b]0;" not in shown  # no window title
    assert "\x1b[31m" not in shown  # the page's own colour code
    assert "␛[31m␛]0;t␇" in shown


def test_a_host_s_need_is_each_target_s_requests_per_check_times_its_checks_an_hour() -> None:
    from creneau.cli.host_load import REQUESTS_PER_CHECK_GUESS, host_loads
    from creneau.config import Config

    targets = (
        ("one", "a.example", "60s"),
        ("two", "a.example", "90s"),
        ("three", "b.example", "5m"),
    )
    config = Config.model_validate(
        {
            "creneau": {"contact": "tests@example.org"},
            "hosts": {"a.example": {"per_minute": 0.5, "burst": 2}},
            "target": [
                {
                    "name": name,
                    "system": "ezbooking",
                    "url": f"https://{host}/booking/create/1",
                    "every": every,
                }
                for name, host, every in targets
            ],
        }
    )
    loads = host_loads(config.targets, config.budget_for, {"two": 12.5})
    assert [(load.host, load.targets) for load in loads] == [("a.example", 2), ("b.example", 1)]
    assert loads[0].needed == REQUESTS_PER_CHECK_GUESS * 60 + 12.5 * 40
    assert (loads[0].allowed, loads[0].over_budget) == (30, True)
    assert loads[0].slowdown == loads[0].needed / 30
    assert (loads[1].needed, loads[1].over_budget) == (REQUESTS_PER_CHECK_GUESS * 12, False)


def test_status_says_when_to_solve_the_captcha_before_an_announced_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release line of `creneau status` says what the dashboard says of the site session
    (usecases.session_notice): here, a CAPTCHA met 9 minutes before the announced 10:00."""
    from creneau.results import ReleaseAnnouncement

    monkeypatch.setenv("COLUMNS", "250")
    url = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1234/"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
database = "sqlite:///{tmp_path / "c.db"}"
contact = "tests@example.org"
[[target]]
name = "cergy"
system = "rdvpref"
url = "{url}"
""")
    at = datetime(2026, 12, 8, 10, 0, tzinfo=PARIS)  # the test's clock, never today's
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    for checked_at, status, said in (
        (at - timedelta(hours=1), Status.NONE, ReleaseAnnouncement(next_at=at)),
        (at - timedelta(minutes=9), Status.CAPTCHA, None),
    ):
        result = CheckResult("cergy", "rdvpref", url, status, checked_at, releases=said)
        record(store, result, Routing(PARIS))
    store.close()
    with time_machine.travel(at - timedelta(minutes=7), tick=False):
        code, stdout, _ = invoke("status", "--config", str(config))
    assert code == 0, stdout
    assert (
        " ; Mise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant 09:55 pour que creneau "
        "regarde dès 10:00"
    ) in stdout
