"""The dashboard in a real browser (Debian's chromium, driven by Playwright) against a real
`creneau run` checking the simulators: the CAPTCHA hand-off from the alert's link to the
daemon's next check, and the page on a phone's screen without horizontal scroll."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from dashboard_harness import page_width

if TYPE_CHECKING:
    from dashboard_harness import RunningDashboard

pytestmark = pytest.mark.slow

PHONE_WIDTH = 360
IMAGE_SHOWN = "image => image.complete && image.naturalWidth > 0"


def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll what another process writes (its database) until it says so."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def captcha_link(dashboard: RunningDashboard) -> str:
    """The link of the "Action requise" alert the daemon sent to the phone."""
    alert = dashboard.phone.wait_for(1, timeout=30)[0]
    assert alert.title == "Action requise : allier"
    assert "creneau captcha allier" in alert.body  # the terminal way, still offered
    found = re.search(r"http://127\.0\.0\.1:\d+/captcha/allier", alert.body)
    assert found, alert.body
    return found.group(0)


def test_a_person_solves_the_captcha_from_the_alert_and_the_daemon_goes_on(
    dashboard: RunningDashboard,
) -> None:
    site = dashboard.rdvpref
    until(lambda: "captcha" in dashboard.statuses("allier"))
    link = captcha_link(dashboard)
    assert link == f"{dashboard.url}/captcha/allier"
    site.release("4418", 2)

    page = dashboard.page
    page.goto(link)
    # Opening the link asks nothing of the site; one tap opens the site session.
    assert page.locator("#captcha").get_attribute("data-state") == "start"
    page.locator("#start").click()
    image = page.locator("#captcha-image")
    until(lambda: bool(image.evaluate(IMAGE_SHOWN)))
    assert page.locator("#captcha").get_attribute("data-state") == "image"
    code = site.last_captcha_code
    assert code
    solved_at = len(dashboard.statuses("allier"))
    page.locator("#code").fill(code)
    page.locator("#send").click()
    page.locator("#solved").wait_for()

    assert page.url == link  # back on the page, which says it is done
    assert "2 créneaux disponibles" in page.locator("#captcha").inner_text()
    assert dashboard.site_session("allier")  # kept in the store for the daemon
    # The page answered once the check made at once with the new session was recorded;
    # then the daemon's own checks use the session they find in the store.
    answered = len(dashboard.statuses("allier"))
    assert "available" in dashboard.statuses("allier")[solved_at:answered]
    until(lambda: len(dashboard.statuses("allier")) >= answered + 2)
    until(lambda: dashboard.statuses("allier")[-2:] == ["available", "available"])
    slots_alert = dashboard.phone.wait_for(2, timeout=30)[1]
    assert slots_alert.title == (
        "2 nouveaux créneaux — Remise de titre de séjour - Préfecture de l'Allier"
    )
    assert site.violations == []


def test_the_captcha_page_fits_a_phone_without_horizontal_scroll(
    dashboard: RunningDashboard,
) -> None:
    page = dashboard.open("/captcha/allier")
    assert page.viewport_size == {"width": PHONE_WIDTH, "height": 740}
    assert page_width(page) <= PHONE_WIDTH  # the button that asks for the image
    page.locator("#start").click()
    until(lambda: bool(page.locator("#captcha-image").evaluate(IMAGE_SHOWN)))
    assert page_width(page) <= PHONE_WIDTH

    page.locator("#code").fill("WRONG1")  # the refusal, with its notice, fits too
    page.locator("#send").click()
    page.locator("#notice").wait_for()
    assert page_width(page) <= PHONE_WIDTH

    page.locator("#code").fill(dashboard.rdvpref.last_captcha_code or "")
    page.locator("#send").click()
    page.locator("#solved").wait_for()
    assert page_width(page) <= PHONE_WIDTH
