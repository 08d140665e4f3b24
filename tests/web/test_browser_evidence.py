"""The evidence dossier from the target page in a real browser (Debian's chromium, driven by
Playwright) against a real `creneau run` checking the simulators, on a phone's screen
(issue 27 item 6): a person picks a period, sees what it covers and the warning that a day
of checks is thinner than the decisions cited, then downloads the dossier's zip."""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboard_harness import page_width

if TYPE_CHECKING:
    from dashboard_harness import RunningDashboard

pytestmark = pytest.mark.slow

PHONE_WIDTH = 360


def until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll what another process writes (its database) until it says so."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_person_previews_a_period_sees_the_warning_and_downloads_the_dossier(
    dashboard: RunningDashboard, tmp_path: Path
) -> None:
    until(lambda: dashboard.statuses("nanterre").count("none") >= 2)
    page = dashboard.open("/targets/nanterre")

    # The period: the last day the form proposes, alone (today, in the dashboard's zone).
    form = page.locator("form.evidence")
    last_day = form.locator("#until").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", last_day)
    form.locator("#since").fill(last_day)
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r"/targets/nanterre/evidence\?"))
    assert page.locator("#coverage h2").inner_text() == "Couverture de la période"
    assert int(page.locator("#attempts").inner_text()) >= 1
    assert page.locator("#weeks").inner_text() == "1 sur 1"
    assert page.locator("#days").inner_text() == "1 sur 1"
    warning = page.locator("#thin-warning")
    assert warning.is_visible()
    assert warning.inner_text().startswith(
        "Attention : Ce relevé couvre 1 semaine ISO distincte (moins de 3) et compte des "
        "tentatives sur 1 jour"
    )
    assert page.locator('#calendar svg g[data-outcome="no_slot"]').count() == 1
    assert page_width(page) <= PHONE_WIDTH

    link = page.locator("#download")
    assert link.inner_text() == "Télécharger le dossier (zip)"
    assert link.get_attribute("href") == (
        f"/targets/nanterre/evidence.zip?since={last_day}&until={last_day}"
    )
    with page.expect_download() as started:
        link.click()
    download = started.value
    folder = f"creneau-evidence-nanterre-{last_day}-{last_day}"
    assert download.suggested_filename == f"{folder}.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as zipped:
        manifest = zipped.read(f"{folder}/MANIFEST.sha256").decode()
    listed = [line.split("  ", 1)[1] for line in manifest.splitlines()]
    assert "summary.html" in listed
    assert "checks.csv" in listed
