"""The dashboard's evidence preview (`/targets/<name>/evidence?since=…&until=…`, issue 27
item 6): on a history this test writes and a clock it sets, the page states what the period
covers — attempts, distinct ISO weeks, days and hours tried, whether a slot was offered, the
calendar — warns when the record is thinner than the decisions cited, and links the zip of
the same period; French and English, text from the pages escaped, a bad period a 400 that
says why. The use case behind it (`creneau.usecases.evidence.preview`) writes no file."""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.config import Config
from creneau.evidence import parse_period
from creneau.evidence.texts import coverage_warning
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.startup import prepare_config
from creneau.store import DatabaseThread, Store
from creneau.usecases.evidence import preview
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 3, 6, 8, 0, tzinfo=UTC)  # the test's clock: Wednesday 6 March, 09:00 Paris
FIRST_MONDAY = date(2030, 2, 4)  # ISO week 2030-W06; four weeks end on Sunday 3 March
TRIED_AT = (time(8, 5), time(12, 5), time(17, 5))  # Paris, every day tried
URL = "https://pref.example/booking/create/1001"
HOSTILE = 'Guichet 1 <script>alert("x")</script> <img src=x onerror=alert(1)>'
FOUR_WEEKS = "since=2030-02-04&until=2030-03-03"
ONE_WEEK = "since=2030-02-04&until=2030-02-10"


def at_paris(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, PARIS)


def check(day: date, clock: time, slot_offered: bool) -> CheckResult:
    at = at_paris(day, clock)
    if slot_offered:
        start = at_paris(day + timedelta(days=9), time(9, 30))
        offered = (Slot(start, "14006", HOSTILE, str(int(start.timestamp()))),)
        guichets = (GuichetResult("14006", HOSTILE, Status.AVAILABLE, offered),)
        return CheckResult("nanterre", "ezbooking", URL, Status.AVAILABLE, at, guichets=guichets)
    return CheckResult("nanterre", "ezbooking", URL, Status.NONE, at, detail="no free slot")


def write_history(store: Store) -> None:
    """Four ISO weeks, three tries a day; slots once, on Thursday 14 February at 12:05 (week
    W07); nothing recorded after them, so the days up to the clock are not tried."""
    routing = Routing(PARIS)
    for offset in range(28):
        day = FIRST_MONDAY + timedelta(days=offset)
        for clock in TRIED_AT:
            offered = day == date(2030, 2, 14) and clock == time(12, 5)
            record(store, check(day, clock, offered), routing)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    store = Store(f"sqlite:///{folder / 'c.db'}")
    store.upgrade()
    write_history(store)
    store.close()
    return folder


def write_config(folder: Path, language: str) -> Path:
    path = folder / f"config-{language}.toml"
    path.write_text(f"""
[creneau]
contact = "pages@example.org"
database = "sqlite:///{folder / "c.db"}"
data_dir = "{folder / "data"}"
language = "{language}"
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{URL}"
""")
    return path


@pytest.fixture
def open_dashboard(recorded: Path) -> Iterator[Callable[..., TestClient]]:
    """The dashboard on the history, in a language, under a sub-path or not."""
    opened: list[Callable[[], None]] = []

    def open_one(language: str = "fr", root_path: str = "") -> TestClient:
        config = prepare_config(write_config(recorded, language))
        store, db = Store(config.creneau.database), DatabaseThread()
        signer = Signer(load_or_create_secret(recorded / "data"))
        context = WebContext(config, store, db, signer, None, now=lambda: NOW)
        client = TestClient(create_app(context), base_url="http://127.0.0.1", root_path=root_path)

        def close() -> None:
            client.close()
            db.close()
            store.close()

        opened.append(close)
        return client

    yield open_one
    for close in opened:
        close()


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def by_id(page: str, element: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{element}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, element
    return text_of(found.group(2))


def calendar_days(page: str) -> list[tuple[str, str]]:
    """The calendar drawn inline (creneau.evidence.calendar): each day's date and outcome."""
    block = page.split('<div class="calendar" id="calendar">')[1].split("</div>")[0]
    assert block.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    return re.findall(r'<g data-day="([\d-]+)" data-outcome="(\w+)">', block)


def days_from(first: date, count: int, outcome: str) -> list[tuple[str, str]]:
    return [((first + timedelta(days=n)).isoformat(), outcome) for n in range(count)]


def warning_of(recorded: Path, since: str, until: str | None, language: str) -> str:
    """The warning creneau.evidence.texts writes for the period (the dossier's own words)."""
    config: Config = prepare_config(write_config(recorded, language))
    store = Store(config.creneau.database)
    try:
        period = parse_period(since, until, PARIS, NOW)
        seen = preview(store, config, config.targets[0], period, NOW)
    finally:
        store.close()
    return coverage_warning(seen.coverage, language)


# --- the use case ---------------------------------------------------------------------------


def test_the_preview_states_the_exports_coverage_and_writes_nothing(recorded: Path) -> None:
    config: Config = prepare_config(write_config(recorded, "fr"))
    store = Store(config.creneau.database)
    before = sorted(path.name for path in recorded.rglob("*"))
    try:
        period = parse_period("2030-02-04", "2030-03-03", PARIS, NOW)
        seen = preview(store, config, config.targets[0], period, NOW)
    finally:
        store.close()
    assert seen.facts.total == 84
    assert seen.coverage.attempts == 84
    assert [week.label for week in seen.coverage.weeks if week.attempts] == [
        "2030-W06",
        "2030-W07",
        "2030-W08",
        "2030-W09",
    ]
    assert seen.coverage.days_tried == 28
    assert seen.coverage.hours_tried == [8, 12, 17]
    assert seen.coverage.slots_offered is True
    assert seen.coverage.thinness == ()
    assert sorted(path.name for path in recorded.rglob("*")) == before


# --- the page -------------------------------------------------------------------------------


def test_four_weeks_daily_show_their_exact_coverage_and_no_warning(
    open_dashboard: Callable[..., TestClient],
) -> None:
    answer = open_dashboard("fr").get(f"/targets/nanterre/evidence?{FOUR_WEEKS}")
    assert answer.status_code == 200
    page = answer.text
    assert by_id(page, "period") == (
        "du lundi 4 février 2030 au dimanche 3 mars 2030 inclus (Europe/Paris)"
    )
    assert by_id(page, "attempts") == "84"
    assert by_id(page, "weeks") == "4 sur 4"
    assert by_id(page, "days") == "28 sur 28"
    assert by_id(page, "hours") == "de 8 h à 9 h, de 12 h à 13 h et de 17 h à 18 h"
    assert by_id(page, "slot-offered") == f"oui : 1 créneau vu ({HOSTILE})"
    assert 'id="thin-warning"' not in page
    days = days_from(FIRST_MONDAY, 28, "no_slot")
    days[10] = ("2030-02-14", "slots")
    assert calendar_days(page) == days
    assert "<title>jeudi 14 février 2030 : 3 tentatives (" in page
    assert by_id(page, "download") == "Télécharger le dossier (zip)"
    assert 'href="/targets/nanterre/evidence.zip?since=2030-02-04&amp;until=2030-03-03"' in page


def test_one_week_gets_the_warning_with_the_references_in_english(
    open_dashboard: Callable[..., TestClient], recorded: Path
) -> None:
    page = open_dashboard("en").get(f"/targets/nanterre/evidence?{ONE_WEEK}").text
    assert by_id(page, "period") == (
        "from Monday 4 February 2030 to Sunday 10 February 2030 included (Europe/Paris)"
    )
    assert by_id(page, "attempts") == "21"
    assert by_id(page, "weeks") == "1 of 1"
    assert by_id(page, "days") == "7 of 7"
    assert by_id(page, "slot-offered") == "no, none in the period"
    warning = by_id(page, "thin-warning")
    assert warning == text_of("Warning: " + warning_of(recorded, "2030-02-04", "2030-02-10", "en"))
    assert warning.startswith(
        "Warning: This record covers 1 distinct ISO week (fewer than 3) and has attempts on 7 "
        "distinct days (fewer than 11, that is every other day for 3 weeks)"
    )
    assert "n° 435594" in warning
    assert calendar_days(page) == days_from(FIRST_MONDAY, 7, "no_slot")
    assert "See the coverage" in page
    assert by_id(page, "download") == "Download the dossier (zip)"


def test_the_warning_in_french_counts_the_days_of_a_week_partly_tried(
    open_dashboard: Callable[..., TestClient], recorded: Path
) -> None:
    """Wednesday 27 February to Wednesday 6 March (the clock's day): the record stops on
    Sunday 3 March, so the period's last three days are not tried."""
    page = open_dashboard("fr").get("/targets/nanterre/evidence?since=2030-02-27").text
    assert by_id(page, "period") == (
        "du mercredi 27 février 2030 au mercredi 6 mars 2030 à 09:00 (Europe/Paris)"
    )
    assert by_id(page, "attempts") == "15"
    assert by_id(page, "weeks") == "1 sur 2"
    assert by_id(page, "days") == "5 sur 8"
    warning = by_id(page, "thin-warning")
    assert warning == text_of("Attention : " + warning_of(recorded, "2030-02-27", None, "fr"))
    assert warning.startswith(
        "Attention : Ce relevé couvre 1 semaine ISO distincte (moins de 3) et compte des "
        "tentatives sur 5 jours distincts (moins de 11, soit un jour sur deux pendant 3 "
        "semaines)"
    )
    assert "n° 435594" in warning
    assert calendar_days(page) == [
        *days_from(date(2030, 2, 27), 5, "no_slot"),
        *days_from(date(2030, 3, 4), 3, "not_tried"),
    ]
    assert 'href="/targets/nanterre/evidence.zip?since=2030-02-27"' in page


def test_the_download_link_gives_the_zip_of_the_same_period_under_a_sub_path(
    open_dashboard: Callable[..., TestClient],
) -> None:
    client = open_dashboard("fr", root_path="/creneau")
    page = client.get(f"/targets/nanterre/evidence?{ONE_WEEK}").text
    found = re.search(r'id="download" href="([^"]+)"', page)
    assert found
    link = html.unescape(found.group(1))
    assert link == "/creneau/targets/nanterre/evidence.zip?since=2030-02-04&until=2030-02-10"
    answer = client.get(link.removeprefix("/creneau"))
    assert answer.status_code == 200
    folder = "creneau-evidence-nanterre-2030-02-04-2030-02-10"
    assert answer.headers["content-disposition"] == f'attachment; filename="{folder}.zip"'
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zipped:
        checks = zipped.read(f"{folder}/checks.csv").decode().splitlines()
    assert len(checks) == 1 + 21


def test_text_from_the_pages_and_the_query_is_escaped(
    open_dashboard: Callable[..., TestClient],
) -> None:
    client = open_dashboard("en")
    page = client.get(f"/targets/nanterre/evidence?{FOUR_WEEKS}").text
    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "Guichet 1 &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    typed = '"><script>alert(1)</script>'
    answer = client.get("/targets/nanterre/evidence", params={"since": typed})
    assert answer.status_code == 400
    assert "<script>alert(1)" not in answer.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in answer.text


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("", "since: a first day is needed, e.g. 2026-11-01"),
        (
            "?since=yesterday",
            'since: expected a date such as 2026-11-01 or 2026-11-01T08:00 (got "yesterday")',
        ),
        ("?since=2030-03-05&until=2030-03-01", "the period is empty"),
        ("?since=1990-01-01", "an export covers at most 1098 days (about three years)"),
        (
            "?since=2026-01-01&until=9999-12-31",
            "until: 9999-12-31 is out of range: the year must be from 0002 to 9998",
        ),
    ],
)
def test_a_bad_period_is_a_400_with_the_form_and_the_reason(
    open_dashboard: Callable[..., TestClient], query: str, said: str
) -> None:
    answer = open_dashboard("fr").get(f"/targets/nanterre/evidence{query}")
    assert answer.status_code == 400
    assert said in by_id(answer.text, "problem")
    assert '<form class="evidence" method="get" action="/targets/nanterre/evidence">' in answer.text
    assert 'id="coverage"' not in answer.text
    assert 'id="download"' not in answer.text


def test_an_unknown_target_is_404(open_dashboard: Callable[..., TestClient]) -> None:
    answer = open_dashboard("fr").get(f"/targets/lyon/evidence?{ONE_WEEK}")
    assert answer.status_code == 404
    assert "Aucune cible nommée lyon." in text_of(answer.text)


def test_the_target_page_form_asks_for_the_preview(
    open_dashboard: Callable[..., TestClient],
) -> None:
    page = open_dashboard("fr").get("/targets/nanterre").text
    form = page.split('<form class="evidence"')[1].split("</form>")[0]
    assert 'action="/targets/nanterre/evidence"' in form
    assert 'name="since" type="date" value="2030-02-04"' in form
    assert 'name="until" type="date" value="2030-03-06"' in form
    assert "Voir la couverture" in form


def test_one_day_is_named_once_and_shows_the_slot_it_saw(
    open_dashboard: Callable[..., TestClient],
) -> None:
    client = open_dashboard("en")
    page = client.get("/targets/nanterre/evidence?since=2030-02-14&until=2030-02-14").text
    assert by_id(page, "period") == "on Thursday 14 February 2030 (Europe/Paris)"
    assert by_id(page, "attempts") == "3"
    assert by_id(page, "hours") == "08:00 to 09:00, 12:00 to 13:00 and 17:00 to 18:00"
    assert by_id(page, "slot-offered") == f"yes: 1 slot seen ({HOSTILE})"
    assert calendar_days(page) == [("2030-02-14", "slots")]
    assert "<title>Thursday 14 February 2030: 3 attempts (" in page


async def test_an_export_being_written_leaves_the_dashboard_answering(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zip's pages are rendered and its PDF laid out off the dashboard's database thread:
    while one download is being written, the other pages still answer."""
    import asyncio
    import threading

    import httpx

    from creneau.evidence.renderings import Renderings
    from creneau.usecases import evidence as use_case

    rendering, finish = threading.Event(), threading.Event()

    def slow_renderings(*_: object) -> Renderings:
        rendering.set()
        finish.wait(30)
        return Renderings((), "", "")

    monkeypatch.setattr(use_case, "render_pages", slow_renderings)
    config = prepare_config(write_config(recorded, "fr"))
    store, db = Store(config.creneau.database), DatabaseThread()
    context = WebContext(
        config, store, db, Signer(load_or_create_secret(recorded / "data")), None, now=lambda: NOW
    )
    transport = httpx.ASGITransport(app=create_app(context))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            download = asyncio.create_task(
                client.get("/targets/nanterre/evidence.zip?since=2030-02-04&until=2030-02-10")
            )
            assert await asyncio.to_thread(rendering.wait, 30)
            page = await client.get("/targets/nanterre")
            assert page.status_code == 200
            assert not download.done()
            finish.set()
            assert (await download).status_code == 200
    finally:
        finish.set()
        db.close()
        store.close()
