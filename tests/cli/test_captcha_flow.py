"""A person in the loop: the daemon meets a CAPTCHA and asks for a human once; the human
runs `creneau captcha`, reads the image and types the code; the daemon carries on with that
site session, alerts the slots, and reports the CAPTCHA again when the session ends."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from creneau.alerts.outbox import person_alert_due, trouble_state
from creneau.cli import cli
from creneau.config import load_config
from creneau.daemon import Daemon
from creneau.results import CheckResult, Status
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.rdvpref.simulator import RdvPrefecture, default_demarches
from creneau.store import Store


def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def site() -> RdvPrefecture:
    return RdvPrefecture(default_demarches(), session_ttl=3.0)


@pytest.fixture
def server(site: RdvPrefecture) -> SimulatorServer:
    with SimulatorServer(sites=[site]) as running:
        yield running


def write_config(
    tmp_path: Path, server: SimulatorServer, phone: Phone, *, keep_pages: bool = False
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[creneau]
contact = "tests@example.org"
keep_pages = {str(keep_pages).lower()}
database = "sqlite:///creneau.db"
data_dir = "{tmp_path / "data"}"
[[notify]]
name = "phone"
urls = ["{phone.apprise_url}"]
[[target]]
name = "allier"
system = "rdvpref"
url = "{server.url}/rdvpref/reservation/demarche/4418/"
every = "500ms"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = 6000
burst = 60
""")
    return path


class DaemonInThread:
    """The daemon on its own thread and event loop, so that `creneau captcha` runs on the
    main thread, as in a terminal."""

    def __init__(self, config: Any, statuses: list[str]) -> None:
        self.config = config
        self.statuses = statuses
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        store = Store(self.config.creneau.database)
        daemon = Daemon(
            self.config, store, on_recorded=lambda r: self.statuses.append(r.result.status.value)
        )
        try:
            self.loop.run_until_complete(daemon.run(self.stop))
        finally:
            store.close()
            self.loop.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)
        assert not self.thread.is_alive()


def test_from_captcha_to_slots_with_a_person_typing_the_code(
    site: RdvPrefecture,
    server: SimulatorServer,
    phone: Phone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_path = write_config(tmp_path, server, phone)
    config = load_config(config_path)
    statuses: list[str] = []
    daemon = DaemonInThread(config, statuses)

    until(lambda: "captcha" in statuses)
    until(lambda: len(phone.messages) >= 1)
    until(lambda: statuses.count("captcha") >= 3)  # still captcha, no new alert
    assert [m.title for m in phone.messages] == ["Action requise : allier"]
    assert "creneau captcha allier" in phone.messages[0].body

    site.release("4418", 2)
    typed: list[str] = []

    def person(*_args: object, **_kwargs: object) -> str:
        image = tmp_path / "data" / "captcha" / "allier.png"
        assert image.read_bytes().startswith(b"\x89PNG")  # the person looks at the image
        typed.append(site.last_captcha_code or "")
        return typed[-1]

    monkeypatch.setattr(click, "prompt", person)
    done = CliRunner().invoke(cli, ["captcha", "allier", "--config", str(config_path)])
    assert done.exit_code == 0, done.output
    assert len(typed) == 1

    until(lambda: len(phone.messages) >= 2)
    assert (
        phone.messages[1].title
        == "2 nouveaux créneaux — Remise de titre de séjour - Préfecture de l'Allier"
    )
    until(lambda: statuses[-1] == "available")
    until(lambda: statuses[-1] == "captcha", seconds=10)  # the 3 s session ended
    daemon.close()

    assert len(phone.messages) == 2  # the second "captcha" falls within the hour
    store = Store(config.creneau.database)
    assert store.site_session("allier") is None  # a spent session is forgotten
    store.close()
    assert site.violations == []


def test_a_wrong_code_gets_a_new_image_then_the_person_gives_up(
    site: RdvPrefecture,
    server: SimulatorServer,
    phone: Phone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_path = write_config(tmp_path, server, phone)
    answers = iter(["WRONG1", ""])
    monkeypatch.setattr(click, "prompt", lambda *a, **k: next(answers))
    done = CliRunner().invoke(cli, ["captcha", "allier", "--config", str(config_path)])
    assert done.exit_code == 1
    assert "did not accept that code" in done.output
    store = Store(load_config(config_path).creneau.database)
    assert store.site_session("allier") is None


@pytest.mark.parametrize(
    ("challenge", "reason"),
    [
        # The config's language (French, by default) says why.
        ("recaptcha", "le site demande un reCAPTCHA de Google (« Je ne suis pas un robot »)"),
        ("turnstile", "le site répond par une vérification Cloudflare Turnstile"),
        ("interstitial", "le site affiche une page de vérification que creneau ne reconnaît pas"),
    ],
)
def test_creneau_captcha_refuses_a_challenge_only_a_browser_can_pass(
    site: RdvPrefecture,
    server: SimulatorServer,
    phone: Phone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    challenge: str,
    reason: str,
) -> None:
    site.set_behaviour("4418", challenge)
    config_path = write_config(tmp_path, server, phone)
    asked: list[str] = []

    def person(*_args: object, **_kwargs: object) -> str:
        asked.append("asked")
        return ""

    monkeypatch.setattr(click, "prompt", person)
    done = CliRunner().invoke(cli, ["captcha", "allier", "--config", str(config_path)])
    assert done.exit_code == 1
    cgu = f"{server.url}/rdvpref/reservation/demarche/4418/cgu/"
    assert f"allier: {cgu} : {reason}" in done.stderr
    assert "creneau ne peut pas vous l" in done.stderr
    assert asked == []  # nobody was asked to type a code
    assert [(e.method, e.path) for e in site.log] == [
        ("GET", "/rdvpref/reservation/demarche/4418/cgu/")
    ]  # one look, no retry, no CAPTCHA image asked for
    store = Store(load_config(config_path).creneau.database)
    assert store.site_session("allier") is None
    store.close()


def test_the_check_made_after_a_captcha_is_in_the_evidence_with_its_pages(
    site: RdvPrefecture,
    server: SimulatorServer,
    phone: Phone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With keep_pages, the check `creneau captcha` makes with the new session keeps what it
    read, as every other check does: `creneau evidence` exports its pages."""
    config_path = write_config(tmp_path, server, phone, keep_pages=True)
    site.release("4418", 2)
    monkeypatch.setattr(click, "prompt", lambda *a, **k: site.last_captcha_code or "")
    done = CliRunner().invoke(cli, ["captcha", "allier", "--config", str(config_path)])
    assert done.exit_code == 0, done.output

    store = Store(load_config(config_path).creneau.database)
    [check] = store.checks("allier")
    store.close()
    assert check.status == "available"
    assert check.pages  # every page the check read, recorded with it
    out = tmp_path / "evidence"
    today = datetime.now(UTC).date().isoformat()
    exported = CliRunner().invoke(
        cli,
        ["evidence", "allier", "--since", today, "--out", str(out), "--config", str(config_path)],
    )
    assert exported.exit_code == 0, exported.output
    assert {page.name for page in (out / "pages").iterdir()} >= {
        f"{page['sha256']}.html" for page in check.pages
    }


def test_captcha_refuses_a_system_without_captcha(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[creneau]\ncontact = "a@b.org"\n[[target]]\nname = "n"\n'
        'system = "ezbooking"\nurl = "http://127.0.0.1:9/booking/create/1"\n'
    )
    done = CliRunner().invoke(cli, ["captcha", "n", "--config", str(path)])
    assert done.exit_code == 2
    assert "the ezbooking system never asks for a CAPTCHA" in done.stderr


@pytest.mark.parametrize(
    ("previous", "ago", "status", "failing_for", "due"),
    [
        (None, None, Status.CAPTCHA, None, True),
        ("captcha", timedelta(hours=3), Status.CAPTCHA, None, False),  # once per change
        (None, timedelta(minutes=20), Status.CAPTCHA, None, False),  # at most one an hour
        (None, timedelta(minutes=61), Status.UNKNOWN, None, True),
        ("captcha", timedelta(hours=2), Status.UNKNOWN, None, True),
        (None, None, Status.BLOCKED, timedelta(hours=1), False),  # hosts alert on their own
        (None, None, Status.BLOCKED, timedelta(hours=3), True),  # but 3 h is a long failure
        ("failing", timedelta(hours=5), Status.ERROR, timedelta(hours=6), False),
        (None, None, Status.NONE, None, False),
    ],
)
def test_when_a_person_is_alerted(
    previous: str | None,
    ago: timedelta | None,
    status: Status,
    failing_for: timedelta | None,
    due: bool,
) -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    result = CheckResult("t", "rdvpref", "https://example.org/", status, now)
    state = trouble_state(result, now - failing_for if failing_for else None, timedelta(hours=2))
    assert person_alert_due(previous, now - ago if ago else None, state, now) is due
