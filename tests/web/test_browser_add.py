"""Adding a target by pasting its link, in a real browser (Debian's chromium, driven by
Playwright) against a real `creneau run` checking the simulators: the link pasted, the preview
of what one check saw, the target saved into the config file, and the running daemon checking
it — seen on the overview — without a restart; then paused from its page. On a phone's screen,
without horizontal scroll."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from dashboard_harness import page_width

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from dashboard_harness import RunningDashboard

pytestmark = pytest.mark.slow

PHONE_WIDTH = 360
NEW = "naturalisation"  # the simulated booking 1002, which has slots


@pytest.fixture
def dashboard_toml() -> str:
    return "allow_private_targets = true\n"  # the simulators are on 127.0.0.1


def until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll what another process writes (its database, its page) until it says so."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def booking_link(dashboard: RunningDashboard, booking: str) -> str:
    """A booking link of the simulated préfecture the daemon checks."""
    targets = tomllib.loads(dashboard.config.read_text(encoding="utf-8"))["target"]
    nanterre = next(target for target in targets if target["name"] == "nanterre")
    return str(nanterre["url"]).replace("/booking/create/1001", f"/booking/create/{booking}")


def fits_the_phone(page: Page) -> bool:
    return bool(page_width(page) <= PHONE_WIDTH)


def overview_says_checked(dashboard: RunningDashboard, name: str) -> Callable[[], bool]:
    """The overview, reloaded, shows `name` with a status the daemon recorded."""

    def holds() -> bool:
        page = dashboard.open("/")
        line = page.locator("li.target", has=page.locator(f'a.target-name:text-is("{name}")'))
        return line.count() == 1 and "créneaux libres" in line.locator(".status").inner_text()

    return holds


def test_a_pasted_link_is_previewed_saved_and_checked_by_the_running_daemon(
    dashboard: RunningDashboard,
) -> None:
    before = dashboard.config.read_text(encoding="utf-8")
    page = dashboard.open("/")
    page.locator("#nav-add").click()
    page.wait_for_url(f"{dashboard.url}/add")
    assert fits_the_phone(page)
    page.locator("#url").fill(booking_link(dashboard, "1002"))
    page.locator("#every").fill("1s")
    page.locator("#preview").click()

    seen = page.locator("#seen")
    seen.wait_for()
    assert seen.get_attribute("data-status") == "available"
    assert "Naturalisation — entretien" in page.locator("#desks").inner_text()
    assert page.locator("#name").input_value() == "naturalisation-entretien"
    assert 'system = "ezbooking"' in page.locator("#table").inner_text()
    assert fits_the_phone(page)
    assert dashboard.config.read_text(encoding="utf-8") == before  # nothing written yet

    page.locator("#name").fill(NEW)
    page.locator("#save").click()
    page.wait_for_url(f"{dashboard.url}/targets/{NEW}")
    assert page.locator("h1.target-name").inner_text() == NEW
    text = dashboard.config.read_text(encoding="utf-8")
    added = re.compile(
        r'\n\[\[target\]\]\nname = "naturalisation"\nsystem = "ezbooking"\n'
        r'url = "http://127\.0\.0\.1:\d+/booking/create/1002"\nevery = "1s"\njitter = "1s"\n'
        r"desks = \[\]\n"  # the page offered no desk to choose: all are watched
        r"guarded = true  # added from the dashboard: every request passes the SSRF guard\n\n"
    )
    assert len(added.findall(text)) == 1, text
    assert added.sub("", text) == before  # one table added, the rest byte for byte unchanged

    # The daemon takes the file's change and checks the new target; the overview shows it.
    until(lambda: "available" in dashboard.statuses(NEW))
    until(overview_says_checked(dashboard, NEW))
    assert fits_the_phone(dashboard.page)

    # Paused from its page: the file says so and the daemon stops checking it.
    page = dashboard.open(f"/targets/{NEW}")
    page.locator("#pause").click()
    page.locator("#paused").wait_for()
    assert "paused = true" in dashboard.config.read_text(encoding="utf-8")
    assert fits_the_phone(page)
    time.sleep(1.5)  # the daemon looks at the file twice a second
    checked = len(dashboard.statuses(NEW))
    time.sleep(3)  # three intervals
    assert len(dashboard.statuses(NEW)) == checked
