"""The overview, the target page and the outbox in a real browser (Debian's chromium, driven by
Playwright) against a real `creneau run` checking the simulators: the overview lists the
targets, a release shows up on the open page without a reload, an alert the phone refused
goes out from the outbox's retry button, and the pages fit a phone's screen. Every wait is
for what the daemon reports (the page's content, its database, the phone), bounded."""

from __future__ import annotations

import sqlite3
import time
import tomllib
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from creneau.dates import long_datetime
from creneau.store import NotificationRecord, Store
from dashboard_harness import page_width

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from dashboard_harness import RunningDashboard

pytestmark = pytest.mark.slow

PARIS = ZoneInfo("Europe/Paris")  # the config's default timezone
PHONE_WIDTH = 360
REFRESHED_MS = 60_000  # the overview refreshes every 20 s; a check runs every second
GUICHET_2 = "Guichet 2 - Remise de titre"  # desk 14007 of the simulated booking 1001
SLOTS_TITLE = f"2 nouveaux créneaux — {GUICHET_2}"
MARK_PAGE = "() => { window.creneauSamePage = true; }"
SAME_PAGE = "() => window.creneauSamePage === true"


def until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll what another process writes (its database) until it says so."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def last_status_is(dashboard: RunningDashboard, target: str, status: str) -> Callable[[], bool]:
    def holds() -> bool:
        statuses = dashboard.statuses(target)
        return bool(statuses) and statuses[-1] == status

    return holds


def last_check_saw(dashboard: RunningDashboard, target: str, slots: int) -> Callable[[], bool]:
    """The latest recorded check of `target` found this many slots."""

    def holds() -> bool:
        with closing(sqlite3.connect(dashboard.database)) as db:
            latest: tuple[str, int] | None = db.execute(
                "select status, slot_count from checks where target = ? order by id desc limit 1",
                (target,),
            ).fetchone()
        return latest == ("available", slots)

    return holds


def outbox(dashboard: RunningDashboard) -> list[NotificationRecord]:
    """The outbox rows, read as another process would."""
    store = Store(f"sqlite:///{dashboard.database}")
    try:
        return store.notifications()
    finally:
        store.close()


def target_url(dashboard: RunningDashboard, name: str) -> str:
    """The page the config watches for `name`."""
    config = tomllib.loads(dashboard.config.read_text(encoding="utf-8"))
    return str(next(target["url"] for target in config["target"] if target["name"] == name))


def card(page: Page, name: str) -> Locator:
    """A target's card on the overview."""
    return page.locator("li.target").filter(has=page.locator("a.target-name", has_text=name))


def slot_shown(epoch: int) -> str:
    return long_datetime(datetime.fromtimestamp(epoch, UTC), PARIS, "fr")


def test_the_overview_lists_every_target_with_its_status_and_links(
    dashboard: RunningDashboard,
) -> None:
    until(last_status_is(dashboard, "allier", "captcha"))
    until(last_status_is(dashboard, "nanterre", "none"))

    page = dashboard.open("/")

    assert page.title() == "creneau — Cibles"
    names = page.locator("li.target a.target-name")
    assert names.all_inner_texts() == ["allier", "nanterre"]  # a CAPTCHA first, then no slot
    assert [link.get_attribute("href") for link in names.all()] == [
        "/targets/allier",
        "/targets/nanterre",
    ]
    allier, nanterre = card(page, "allier"), card(page, "nanterre")
    assert allier.locator(".status").inner_text() == "CAPTCHA à résoudre"
    assert allier.locator(".status").get_attribute("class") == "status status-captcha"
    assert allier.locator("a.action").inner_text() == "Résoudre le CAPTCHA"
    assert allier.locator("a.action").get_attribute("href") == "/captcha/allier"
    assert nanterre.locator(".status").inner_text() == "aucun créneau"
    assert nanterre.locator("a.action").count() == 0
    assert nanterre.locator(".slots").count() == 0
    for each in (allier, nanterre):
        assert "vérifié il y a" in each.inner_text()
        assert each.locator(".host").inner_text() == "Site 127.0.0.1 : ok"
        assert each.locator("figure.timeline svg rect").count() >= 1  # the 24 h strip
    assert "Dernière mise en ligne : aucune encore" in nanterre.inner_text()

    names.nth(1).click()  # a target's name opens its page
    page.wait_for_url(f"{dashboard.url}/targets/nanterre")
    assert page.locator("h1.target-name").inner_text() == "nanterre"


def test_a_release_shows_up_on_the_open_overview_without_a_reload(
    dashboard: RunningDashboard,
) -> None:
    until(last_status_is(dashboard, "nanterre", "none"))
    page = dashboard.open("/")
    nanterre = card(page, "nanterre")
    assert nanterre.locator(".status").inner_text() == "aucun créneau"
    page.evaluate(MARK_PAGE)  # gone if the page were loaded again

    epochs = dashboard.prefecture.release("1001", "14007", 2)

    slot = nanterre.locator(".slots li")
    slot.wait_for(timeout=REFRESHED_MS)  # the overview's own refresh brings it
    assert page.evaluate(SAME_PAGE), "the overview was loaded again"
    assert page.url == f"{dashboard.url}/"
    assert slot.count() == 1  # the earliest slot of the one guichet that has any
    assert slot.locator(".guichet").inner_text() == GUICHET_2
    assert slot.locator("strong").inner_text() == slot_shown(min(epochs))
    assert slot.locator("a.book").inner_text() == "réserver"
    assert slot.locator("a.book").get_attribute("href") == target_url(dashboard, "nanterre")
    assert nanterre.locator(".status").inner_text() == "créneaux libres"
    release = nanterre.locator("p.muted", has_text="Dernière mise en ligne").inner_text()
    assert release.endswith(f"— 2 créneaux ({GUICHET_2})"), release
    assert dashboard.prefecture.violations == []


def test_an_alert_the_phone_refused_goes_out_from_the_outbox_retry_button(
    dashboard: RunningDashboard,
) -> None:
    phone = dashboard.phone
    assert [m.title for m in phone.wait_for(1, timeout=60)] == ["Action requise : allier"]
    phone.up = False  # answers 500 from now on
    dashboard.prefecture.release("1001", "14007", 2)

    def refused() -> NotificationRecord | None:
        return next(
            (
                row
                for row in outbox(dashboard)
                if row.target == "nanterre" and row.kind == "slots" and row.attempts >= 1
            ),
            None,
        )

    until(lambda: refused() is not None)
    row = refused()
    assert row is not None
    assert row.state == "pending"
    assert row.last_error
    backoff_ends = row.next_attempt_at  # when the daemon would try again by itself
    assert len(phone.messages) == 1

    page = dashboard.open("/outbox")
    waiting = page.locator("li.alert").filter(has=page.locator("strong", has_text=f"#{row.id}"))
    assert waiting.locator(".state").inner_text() == "en attente"
    assert SLOTS_TITLE in waiting.inner_text()
    assert "essais 1" in waiting.inner_text()
    assert waiting.locator("p.error").inner_text().startswith("dernière erreur : ")
    phone.up = True  # only now, so that nothing but the button sends it
    waiting.locator(f'form[action="/outbox/{row.id}/retry"] button').click()

    page.wait_for_url(f"{dashboard.url}/outbox?retried={row.id}")
    assert page.locator("p.notice").inner_text() == f"L'alerte {row.id} part maintenant."
    messages = phone.wait_for(2, timeout=60)
    assert [m.title for m in messages] == ["Action requise : allier", SLOTS_TITLE]
    until(lambda: [r.state for r in outbox(dashboard) if r.id == row.id] == ["sent"])
    [sent_row] = [r for r in outbox(dashboard) if r.id == row.id]
    # Both times are the daemon's (this process's clock may be moved: CRENEAU_TEST_DATE).
    assert sent_row.sent_at is not None
    assert sent_row.sent_at < backoff_ends, "sent by the backoff, not the retry"

    page = dashboard.open("/outbox")
    sent = page.locator("li.alert-sent").filter(has=page.locator("strong", has_text=f"#{row.id}"))
    assert sent.locator(".state").inner_text() == "envoyée"
    assert page.locator(f'form[action="/outbox/{row.id}/retry"]').count() == 0


def test_the_overview_and_the_target_pages_fit_a_phone_without_horizontal_scroll(
    dashboard: RunningDashboard,
) -> None:
    until(last_status_is(dashboard, "allier", "captcha"))
    dashboard.prefecture.release("1001", "14006", 3)
    dashboard.prefecture.release("1001", "14007", 2)
    until(last_check_saw(dashboard, "nanterre", 5))  # not a check made between the two

    page = dashboard.open("/")
    assert page.viewport_size == {"width": PHONE_WIDTH, "height": 740}
    assert card(page, "nanterre").locator(".slots li").count() == 2  # the longest card
    assert page_width(page) <= PHONE_WIDTH

    for name in ("nanterre", "allier"):
        page = dashboard.open(f"/targets/{name}")
        assert page.locator("h1.target-name").inner_text() == name
        assert page.locator("table.checks tbody tr").count() >= 1
        assert page_width(page) <= PHONE_WIDTH, name
    assert page.locator("h3.guichet").count() == 0  # allier shows no slot
    page = dashboard.open("/targets/nanterre")
    assert page.locator("h3.guichet").all_inner_texts() == [
        "Guichet 1 - Remise de titre",
        GUICHET_2,
    ]
