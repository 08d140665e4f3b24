"""The browser tests' fixtures: Debian's chromium driven by Playwright (the tests are skipped,
with the reason, where either is missing), and a real dashboard — `creneau run` in a
subprocess, checking the simulators of this process on 127.0.0.1 and alerting a simulated
phone. Use `dashboard` (its `url`, its `page`, the simulators to act on the sites, the
database to read what was recorded); override `dashboard_toml` in a module to add settings."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture, default_prefecture
from creneau.sources.rdvpref.simulator import RdvPrefecture, default_demarches
from creneau.store import Store
from processes import StderrLines

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

    from creneau.results import SiteSession

# Playwright's own browser download cannot be reached from here: Debian's package is used.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT: ViewportSize = {
    "width": 360,
    "height": 740,
}  # the dashboard is built for this first
STARTED = "dashboard at "  # what `creneau run` logs once its dashboard listens


def page_width(page: Page) -> int:
    """The page's laid-out width once its style sheets and images have loaded: measured
    before, on a busy machine, an image is as wide as its file (the style sheet that fits it
    to the screen is still on its way)."""
    page.wait_for_load_state("load")
    return int(page.evaluate("document.documentElement.scrollWidth"))


def chromium_path() -> str | None:
    """Debian's chromium, or the browser CRENEAU_CHROMIUM names (another Chromium build)."""
    chosen = os.environ.get("CRENEAU_CHROMIUM") or shutil.which("chromium") or CHROMIUM
    return chosen if Path(chosen).is_file() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per test module (a test module runs its tests in a row)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package: pip install -e '.[test]'")
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "browser tests need Debian's chromium (apt-get install chromium; .ci/run installs "
            "it when it runs as root) or CRENEAU_CHROMIUM naming a Chromium binary"
        )
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Error as failure:
            first_line = (failure.message or str(failure)).splitlines()[0]
            pytest.skip(f"chromium ({executable}) did not start: {first_line}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookie) with a phone's screen."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="fr-FR")
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


@dataclass
class RunningDashboard:
    """A `creneau run` with its dashboard at `url`, and what a test acts on."""

    url: str  # the dashboard's base address, no trailing slash
    page: Page
    rdvpref: RdvPrefecture  # the simulated RDV Préfecture (target "allier", démarche 4418)
    prefecture: Prefecture  # the simulated ezbooking préfecture (target "nanterre", 1001)
    phone: Phone  # where the alerts go
    config: Path
    database: Path
    log: StderrLines  # the daemon's stderr, line by line

    def open(self, path: str = "/") -> Page:
        self.page.goto(f"{self.url}{path}")
        return self.page

    def site_session(self, target: str) -> SiteSession | None:
        """The site session the store keeps for `target` (a person solved its CAPTCHA)."""
        store = Store(f"sqlite:///{self.database}")
        try:
            return store.site_session(target)
        finally:
            store.close()

    def statuses(self, target: str) -> list[str]:
        """The recorded checks of `target`, oldest first (read as another process would)."""
        with closing(sqlite3.connect(self.database)) as db:
            rows = db.execute("select status from checks where target = ? order by id", (target,))
            return [status for (status,) in rows]


@pytest.fixture
def dashboard_toml() -> str:
    """More of the config, appended right after its last table, [web]: `password = "…"`
    lines extend [web], tables ([[target]], [[notify]]) follow. Override it in a module, or
    per test with `@pytest.mark.parametrize("dashboard_toml", [...])`."""
    return ""


@pytest.fixture
def dashboard(
    page: Page, phone: Phone, tmp_path: Path, dashboard_toml: str
) -> Iterator[RunningDashboard]:
    rdvpref = RdvPrefecture(default_demarches())
    prefecture = default_prefecture()
    with SimulatorServer(prefecture, sites=[rdvpref]) as sites:
        port = free_port()
        config = tmp_path / "config.toml"
        config.write_text(
            dashboard_config(tmp_path, sites, phone, port) + dashboard_toml, encoding="utf-8"
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "creneau", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        log = StderrLines(daemon)
        try:
            log.wait_for(STARTED)
            yield RunningDashboard(
                f"http://127.0.0.1:{port}",
                page,
                rdvpref,
                prefecture,
                phone,
                config,
                tmp_path / "creneau.db",
                log,
            )
        finally:
            stop(daemon, log)


def dashboard_config(tmp_path: Path, sites: SimulatorServer, phone: Phone, port: int) -> str:
    """Two targets checked every second, alerts to the phone; [web] comes last, so that
    `dashboard_toml` may begin with more of its keys."""
    return f"""
[creneau]
contact = "tests@example.org"
database = "sqlite:///{tmp_path / "creneau.db"}"
data_dir = "{tmp_path / "data"}"
[[notify]]
name = "phone"
urls = ["{phone.apprise_url}"]
[[target]]
name = "allier"
system = "rdvpref"
url = "{sites.url}/rdvpref/reservation/demarche/4418/"
every = "1s"
jitter = "0s"
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{sites.booking_url("1001")}"
every = "1s"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = 6000
burst = 60
[web]
listen = "127.0.0.1:{port}"
"""


def stop(daemon: subprocess.Popen[str], log: StderrLines) -> None:
    """SIGTERM, as a service manager stops it; it must end cleanly."""
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        raise AssertionError(f"creneau run did not stop on SIGTERM: {log.rest()}") from None
    assert daemon.returncode == 0, log.rest()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
