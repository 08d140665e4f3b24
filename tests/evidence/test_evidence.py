"""The evidence export: the exact rows of every check, the pages byte for byte as received, a
manifest that `sha256sum -c` accepts, a summary that says "no slot" only when true, the
hourly counts of the rolled-up past, the --max-pages bound, no secret anywhere, and one-line
errors."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert
from starlette.testclient import TestClient

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.cli.evidence import evidence
from creneau.config import Config, load_config
from creneau.details import Detail
from creneau.evidence import (
    EvidenceError,
    Pages,
    build_coverage,
    build_facts,
    coverage_warning,
    parse_period,
    references,
    summary_html,
    summary_rows,
    verdict_en,
    verdict_fr,
)
from creneau.evidence.references import Decision
from creneau.page import Page
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.simulator.server import SimulatorServer
from creneau.store import CheckRecord, DatabaseThread, Store
from creneau.store import pages as archive
from creneau.store.evidence import TargetPeriod
from creneau.store.schema import CHECK_HOURS
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret

PARIS = ZoneInfo("Europe/Paris")
URL = "https://pref.example/booking/create/989"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris
TOKEN = "424242:tg-Secret-Token"  # from ${TG_TOKEN}, in a notification URL (a bot token)
CHAT = "chat-Secret-777"  # written as is in the notification URL

NONE_PAGE = Page(URL, 200, b"<html><p>Il n'existe plus de plage horaire libre</p></html>")
BUSY_PAGE = Page(URL, 503, b"<html><h1>Service surcharg\xc3\xa9</h1></html>")
FORBIDDEN_PAGE = Page(URL, 403, b"<html>Forbidden</html>")
GRID_PAGE = Page(URL, 200, b'  {"week": [], "free": 0}', {"content-type": "application/json"})
SLOT_PAGE = Page(URL, 200, b"<html><a class='slot'>mardi 1 d\xc3\xa9cembre 09:00</a></html>")


@dataclass(frozen=True)
class Setup:
    config_path: Path
    config: Config
    store: Store

    @property
    def pages_dir(self) -> Path:
        return self.config.creneau.pages_dir


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("TG_TOKEN", TOKEN)
    monkeypatch.setenv("COLUMNS", "300")
    path = tmp_path / "config.toml"
    path.write_text(f"""
[creneau]
contact = "asso@example.org"
database = "sqlite:///c.db"
data_dir = "{tmp_path / "data"}"
keep_pages = true
[[notify]]
name = "phone"
urls = ["tgram://${{TG_TOKEN}}/{CHAT}"]
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{URL}"
[[target]]
name = "other"
system = "ezbooking"
url = "https://other.example/booking/create/1"
""")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    yield Setup(path, load_config(path), store)
    store.close()


def add_check(
    setup: Setup,
    at: datetime,
    status: Status,
    http_status: int | None,
    page: Page | None = None,
    *,
    kept: bool = True,
    detail: Detail | str = "",
    slots: tuple[Slot, ...] = (),
    target: str = "nanterre",
) -> None:
    if page is not None and kept:
        archive.keep_by_hash(setup.pages_dir, page)
    result = CheckResult(
        target,
        "ezbooking",
        URL,
        status,
        at,
        http_status=http_status,
        detail=detail,
        guichets=(GuichetResult("14007", "Guichet 2", status, slots),),
        page_sha256=page.sha256 if page else None,
        page=page,
    )
    record(setup.store, result, Routing(PARIS))


def add_hours(setup: Setup, *rows: tuple[datetime, str, int]) -> None:
    with setup.store.transaction() as tx:
        for hour, status, count in rows:
            tx.connection.execute(
                insert(CHECK_HOURS).values(
                    target="nanterre", hour=hour, status=status, checks=count, requests=0
                )
            )


def a_fortnight_without_slots(setup: Setup) -> None:
    add_check(setup, T0, Status.NONE, 200, NONE_PAGE)
    add_check(setup, T0 + timedelta(minutes=5), Status.NONE, 200, NONE_PAGE)
    add_check(
        setup,
        T0 + timedelta(minutes=10),
        Status.OVERLOADED,
        503,
        BUSY_PAGE,
        detail=Detail("http_server_error", status=503),
    )
    # A check recorded before details had codes: its English text.
    add_check(setup, T0 + timedelta(minutes=15), Status.ERROR, None, detail="timeout after 30s")
    add_check(setup, T0 + timedelta(minutes=20), Status.BLOCKED, 403, FORBIDDEN_PAGE, kept=False)
    add_check(setup, T0 + timedelta(minutes=25), Status.NONE, 200, GRID_PAGE)
    # outside the period, or another target: never exported
    add_check(setup, datetime(2026, 10, 31, 22, 30, tzinfo=UTC), Status.NONE, 200, NONE_PAGE)
    add_check(setup, datetime(2026, 11, 3, 0, 0, tzinfo=UTC), Status.NONE, 200, NONE_PAGE)
    add_check(setup, T0, Status.AVAILABLE, 200, SLOT_PAGE, target="other", slots=(slot(),))


def slot() -> Slot:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
    return Slot(start, "14007", "Guichet 2", str(int(start.timestamp())))


def export(setup: Setup, out: Path, *args: str) -> Result:
    return CliRunner().invoke(
        evidence,
        ["nanterre", "--config", str(setup.config_path), "--out", str(out), *args],
    )


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def summary(out: Path) -> dict[str, str]:
    return dict(rows(out / "summary.csv")[1:])


COVERAGE_ROWS = [
    "days_in_period",
    "weeks_covered",
    "days_tried",
    "attempts_per_week",
    "hours_tried",
    "thinness",
    "coverage_warning_fr",
    "coverage_warning_en",
]


def html_text(out: Path) -> str:
    return (out / "summary.html").read_text(encoding="utf-8")


# --- checks.csv, pages, manifest --------------------------------------------------------


def test_every_check_of_the_period_is_one_exact_row(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    out = tmp_path / "export"
    done = export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02")
    assert done.exit_code == 0, done.output
    none, busy, grid = NONE_PAGE.sha256, BUSY_PAGE.sha256, GRID_PAGE.sha256
    assert rows(out / "checks.csv") == [
        ["utc", "local", "url", "status", "http_status", "slots", "detail_fr", "detail_en",
         "page_sha256", "page_file"],
        ["2026-11-02T08:00:00Z", "2026-11-02T09:00:00+01:00", URL, "none", "200", "0", "", "",
         none, f"pages/{none}.html"],
        ["2026-11-02T08:05:00Z", "2026-11-02T09:05:00+01:00", URL, "none", "200", "0", "", "",
         none, f"pages/{none}.html"],
        ["2026-11-02T08:10:00Z", "2026-11-02T09:10:00+01:00", URL, "overloaded", "503", "0",
         "HTTP 503 renvoyé par le site", "HTTP 503 from the site", busy, f"pages/{busy}.html"],
        ["2026-11-02T08:15:00Z", "2026-11-02T09:15:00+01:00", URL, "error", "", "0",
         "timeout after 30s", "timeout after 30s", "", "no page received"],
        ["2026-11-02T08:20:00Z", "2026-11-02T09:20:00+01:00", URL, "blocked", "403", "0", "", "",
         FORBIDDEN_PAGE.sha256, "not kept"],
        ["2026-11-02T08:25:00Z", "2026-11-02T09:25:00+01:00", URL, "none", "200", "0", "", "",
         grid, f"pages/{grid}.json"],
    ]  # fmt: skip
    assert not (out / "hours.csv").exists()


def test_pages_are_the_bytes_received_each_once(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    files = sorted((out / "pages").iterdir())
    assert [path.name for path in files] == sorted(
        [f"{NONE_PAGE.sha256}.html", f"{BUSY_PAGE.sha256}.html", f"{GRID_PAGE.sha256}.json"]
    )
    for path in files:
        body = path.read_bytes()
        assert hashlib.sha256(body).hexdigest() == path.name.split(".")[0]
        assert body == archive.read_kept(setup.pages_dir, path.name.split(".")[0])
    assert (out / "pages" / f"{BUSY_PAGE.sha256}.html").read_bytes() == BUSY_PAGE.body


def test_the_manifest_verifies_with_sha256sum(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    out = tmp_path / "export"
    done = export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02")
    assert done.exit_code == 0, done.output
    manifest = (out / "MANIFEST.sha256").read_text()
    listed = [line.split("  ", 1)[1] for line in manifest.splitlines()]
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert listed == [name for name in on_disk if name != "MANIFEST.sha256"]
    assert {"summary.html", "summary.csv", "checks.csv"} <= set(listed)
    own = hashlib.sha256((out / "MANIFEST.sha256").read_bytes()).hexdigest()
    assert done.stdout.splitlines()[-1] == f"SHA-256 of MANIFEST.sha256: {own}"
    sha256sum = shutil.which("sha256sum")
    if sha256sum is None:
        pytest.skip("the sha256sum binary (GNU coreutils) is not installed")
    verified = subprocess.run(
        [sha256sum, "-c", "MANIFEST.sha256"], cwd=out, capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.count(": OK") == len(listed)
    (out / "checks.csv").write_bytes((out / "checks.csv").read_bytes().replace(b"503", b"200"))
    tampered = subprocess.run([sha256sum, "-c", "MANIFEST.sha256"], cwd=out, capture_output=True)
    assert tampered.returncode != 0


# --- the summary ------------------------------------------------------------------------------


def test_summary_states_period_counts_and_no_slot(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    page = html_text(out)
    assert (
        "Du dimanche 1 novembre 2026 à 00:00:00 au mardi 3 novembre 2026 à 00:00:00 "
        "(heure légale, fuseau Europe/Paris), soit du 2026-10-31 23:00:00 au "
        "2026-11-02 23:00:00 (UTC), fin exclue." in page
    )
    assert (
        "Sur cette période, aucun créneau n'a été proposé lors des 6 vérifications effectuées."
        in page
    )
    assert (
        "Le site a indiqué explicitement l'absence de créneau 3 fois ; 3 vérifications n'ont "
        "pas permis de consulter les disponibilités" in page
    )
    assert "5 des 6 vérifications ont reçu une réponse du site (un code HTTP)." in page
    assert (
        "Première vérification : lundi 2 novembre 2026 à 09:00:00 (2026-11-02 08:00:00 UTC). "
        "Dernière vérification : lundi 2 novembre 2026 à 09:25:00 (2026-11-02 08:25:00 UTC)."
        in page
    )
    assert "intervalle le plus court constaté ici : 300 s" in page
    assert "3 pages incluses dans pages/" in page
    assert "Pour 1 vérification, la page n'a pas été conservée" in page
    assert "In this period, no slot was offered in any of the 6 checks made." in page
    assert "Des créneaux" not in page
    for external in ("<link", "<script", "src=", "url("):
        assert external not in page  # self-contained: prints the same anywhere, offline
    facts = summary(out)
    assert facts["checks_total"] == "6"
    assert facts["status_none"] == "3"
    assert facts["status_overloaded"] == "1"
    assert facts["status_blocked"] == "1"
    assert facts["status_error"] == "1"
    assert facts["slots_offered"] == "no"
    assert facts["first_check_utc"] == "2026-11-02T08:00:00Z"
    assert facts["last_check_utc"] == "2026-11-02T08:25:00Z"
    assert facts["period_start_local"] == "2026-11-01T00:00:00+01:00"
    # Coverage: one day of two tried, in the second of two ISO weeks, at 09:xx only.
    assert [[k, facts[k]] for k in COVERAGE_ROWS[:6]] == [
        ["days_in_period", "2"],
        ["weeks_covered", "1"],
        ["days_tried", "1"],
        ["attempts_per_week", "2026-W44:0;2026-W45:6"],
        ["hours_tried", "9"],
        ["thinness", "few_weeks;few_days;short_span"],
    ]
    assert facts["coverage_warning_fr"] == (
        "Ce relevé couvre 1 semaine ISO distincte (moins de 3) et compte des tentatives sur "
        "1 jour distinct (moins de 11, soit un jour sur deux pendant 3 semaines), qui "
        "s'étendent sur 1 jour du premier au dernier jour essayé (moins de 21, soit 3 "
        "semaines). Dans les "
        "décisions citées (CE, 10 juin 2020, n° 435594 ; TA Cergy-Pontoise, ord., 2 novembre "
        "2020, n° 2010725 ; TA Paris, ord., 3 novembre 2020, n° 2016798/9), le juge a tenu "
        "compte de tentatives réparties sur plusieurs semaines (au moins trois dans les "
        "décisions de 2020 qui ont fait droit à la demande)."
    )
    assert facts["coverage_warning_en"].startswith(
        "This record covers 1 distinct ISO week (fewer than 3) and has attempts on 1 distinct "
        "day (fewer than 11, that is every other day for 3 weeks), and they span 1 day from "
        "the first day tried to the last (fewer than 21, that is 3 weeks)."
    )
    assert (
        "<h2>Couverture de la période</h2>\n<p>Ce relevé compte 6 tentatives de consultation "
        "des disponibilités, réparties sur 1 semaine ISO distincte (du lundi au dimanche ; la "
        "période en touche 2) et sur 1 jour distinct (sur les 2 jours de la période). Heures "
        "de la journée où des tentatives ont eu lieu (heure légale, fuseau Europe/Paris) : de "
        "9 h à 10 h, soit 1 heure distincte. Aucun créneau n'a été proposé lors de ces "
        "tentatives.</p>" in page
    )
    assert (
        '<tr><td>2026-W44</td><td>26/10/2026</td><td class="n">0</td><td class="n">0</td>'
        '</tr><tr><td>2026-W45</td><td>02/11/2026</td><td class="n">6</td>'
        '<td class="n">1</td></tr>' in page
    )
    assert (
        '<tr><td>02/11/2026</td><td class="n">6</td><td class="n">3</td>'
        '<td class="n">0</td><td class="n">3</td><td>09:00</td><td>09:25</td></tr>'
        "</tbody></table><p>1 jour de la période sans aucune tentative.</p>" in page
    )
    assert (
        "<h3>Coverage of the period</h3>\n<p>This record holds 6 attempts to see the "
        "availability, spread over 1 distinct ISO week (Monday to Sunday; the period touches 2) "
        "and 1 distinct day (of the 2 days of the period). Hours of the day with attempts "
        "(Europe/Paris time): 09:00 to 10:00, that is 1 distinct hour. No slot was offered at "
        "any of these attempts.</p>" in page
    )
    assert page.index("Couverture de la période") < page.index("Pages reçues")
    assert page.count('<div class="warning" role="note">') == 2  # French, then English
    assert "Attention : couverture inférieure à celle des décisions citées" in page
    assert "Note: less coverage than in the decisions cited" in page
    assert page.count("<svg ") == 2
    assert page.count('data-day="') == 4  # two days, in each language's calendar
    assert '<text x="8" y="20" font-size="14" font-weight="bold">Attempts per day' in page


def test_slots_offered_are_said_plainly_with_their_dates(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    add_check(setup, T0 + timedelta(hours=2), Status.AVAILABLE, 200, SLOT_PAGE, slots=(slot(),))
    add_check(setup, T0 + timedelta(hours=2, minutes=5), Status.NONE, 200, NONE_PAGE)
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    page = html_text(out)
    assert "aucun créneau n'a été proposé" not in page
    assert "no slot was offered" not in page
    assert (
        "Des créneaux ONT été proposés pendant cette période : 1 des 8 vérifications en a vu "
        "(liste ci-dessous)." in page
    )
    assert '<td>02/11/2026 11:00:00</td><td>2026-11-02 10:00:00</td><td class="n">1</td>' in page
    assert (
        "<td>Guichet 2</td><td>01/12/2026 09:00:00</td><td>02/11/2026 11:00:00</td>"
        "<td>02/11/2026 11:00:00</td>" in page
    )
    assert summary(out)["slots_offered"] == "yes"
    assert [r[3:6] for r in rows(out / "checks.csv")[7:]] == [
        ["available", "200", "1"],
        ["none", "200", "0"],
    ]
    assert (out / "pages" / f"{SLOT_PAGE.sha256}.html").read_bytes() == SLOT_PAGE.body


def test_no_check_at_all_claims_nothing(setup: Setup, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    page = html_text(out)
    assert "Aucune vérification n'a été enregistrée pendant cette période" in page
    assert "aucun créneau n'a été proposé" not in page
    assert rows(out / "checks.csv") == [rows(out / "checks.csv")[0]]


def test_page_text_is_data_in_the_html_and_csv(setup: Setup, tmp_path: Path) -> None:
    # A guichet label and a detail a hostile page could carry: tags, escape sequences, a
    # spreadsheet formula.
    label = "<script>alert(1)</script> [bold red]ALERTE[/bold red] \x1b]0;titre\x07\x9b2J"
    start = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
    hostile = Slot(start, "14007", label, str(int(start.timestamp())))
    detail = '=HYPERLINK("http://evil.example","Réservez")\n\x1b[31mURGENT'
    add_check(setup, T0, Status.NONE, 200, NONE_PAGE)
    add_check(setup, T0 + timedelta(minutes=5), Status.AVAILABLE, 200, SLOT_PAGE, slots=(hostile,))
    add_check(setup, T0 + timedelta(minutes=10), Status.UNKNOWN, 200, detail=detail)
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    page = html_text(out)
    assert (
        "<td>&lt;script&gt;alert(1)&lt;/script&gt; [bold red]ALERTE[/bold red] ␛]0;titre␇�2J"
        "</td><td>01/12/2026 09:00:00</td>" in page
    )
    assert "<script>" not in page
    assert [row[6] for row in rows(out / "checks.csv")[1:]] == [
        "",
        "",
        '\'=HYPERLINK("http://evil.example","Réservez") ␛[31mURGENT',
    ]
    for name in ("summary.html", "summary.csv", "checks.csv"):
        written = (out / name).read_text(encoding="utf-8-sig")
        assert "\x1b" not in written, name
        assert "\x9b" not in written, name
        assert "\x07" not in written, name


def a_check(at: datetime, status: Status, slots: int = 0) -> CheckRecord:
    return CheckRecord(
        1,
        "nanterre",
        "ezbooking",
        at,
        12,
        status.value,
        200,
        "",
        None,
        None,
        None,
        slots,
        1,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("checks", "french", "english"),
    [
        (
            [a_check(T0, Status.NONE)],
            "Sur cette période, aucun créneau n'a été proposé lors de la seule vérification "
            "effectuée.",
            "In this period, no slot was offered in the only check made.",
        ),
        (
            [a_check(T0, Status.NONE), a_check(T0 + timedelta(minutes=1), Status.AVAILABLE, 2)],
            "Des créneaux ONT été proposés pendant cette période : 1 des 2 vérifications en a vu "
            "(liste ci-dessous).",
            "Slots WERE offered in this period: 1 of the 2 checks saw some (listed below).",
        ),
        (
            [],
            "Aucune vérification n'a été enregistrée pendant cette période : ce relevé ne permet "
            "rien d'affirmer sur la disponibilité de créneaux.",
            "No check was recorded in this period: this record cannot tell whether slots were "
            "offered.",
        ),
    ],
)
def test_the_statements_are_read_from_plain_records(
    setup: Setup, checks: list[CheckRecord], french: str, english: str
) -> None:
    period = parse_period("2026-11-02", "2026-11-02", PARIS, T0)
    pages = Pages({}, max_pages=10, left_out=0)
    target = setup.config.targets[0]
    facts = build_facts(
        setup.config, target, period, TargetPeriod(tuple(checks), (), ()), pages, T0
    )
    assert (verdict_fr(facts), verdict_en(facts)) == (french, english)
    page = summary_html(facts)
    assert f'">{french}</p>' in page
    assert f'">{english}</p>' in page
    assert page.startswith('<!DOCTYPE html>\n<html lang="fr">\n')
    assert page.endswith("</body>\n</html>\n")


# --- coverage ---------------------------------------------------------------------------------


CITED = Decision(
    court="Conseil d'État",
    cited_as="CE",
    decided=date(2020, 6, 10),
    number="n° 435594",
    held_fr="tentatives « n'ayant pas été effectuées la même semaine » & <rejet>",
    held_en="attempts not made in the same week & <rejected>",
    source="https://decisions.example/ce/435594",
)
# A decision on online booking itself: the coverage warning does not cite it.
ELSEWHERE = Decision(
    court="Conseil d'État",
    cited_as="CE",
    decided=date(2019, 11, 27),
    number="n° 422516",
    held_fr="le téléservice ne peut être rendu obligatoire",
    held_en="the online service cannot be made mandatory",
    source="https://decisions.example/ce/422516",
)


def test_a_one_week_history_gets_the_warning_with_the_references(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(references, "DECISIONS", (CITED, ELSEWHERE))
    days = [T0 + timedelta(days=n) for n in range(7)]  # Monday 2 to Sunday 8 November
    checks = [a_check(at, Status.NONE) for at in days]
    period = parse_period("2026-11-02", "2026-11-08", PARIS, T0 + timedelta(days=30))
    target = setup.config.targets[0]
    records = TargetPeriod(tuple(checks), (), ())
    facts = build_facts(setup.config, target, period, records, Pages({}, 10, 0), T0)
    coverage = build_coverage(facts)
    french = (
        "Ce relevé couvre 1 semaine ISO distincte (moins de 3) et compte des tentatives sur 7 "
        "jours distincts (moins de 11, soit un jour sur deux pendant 3 semaines), qui "
        "s'étendent sur 7 jours du premier au dernier jour essayé (moins de 21, soit 3 "
        "semaines). Dans les décisions citées (CE, 10 juin 2020, n° 435594), le juge a tenu "
        "compte de tentatives réparties sur plusieurs semaines (au moins trois dans les "
        "décisions de 2020 qui ont fait droit à la demande)."
    )
    english = (
        "This record covers 1 distinct ISO week (fewer than 3) and has attempts on 7 distinct "
        "days (fewer than 11, that is every other day for 3 weeks), and they span 7 days from "
        "the first day tried to the last (fewer than 21, that is 3 weeks). In the decisions "
        "cited "
        "(CE, 10 juin 2020, n° 435594), the judge took into account attempts spread over "
        "several weeks (at least three in the 2020 decisions that granted the request)."
    )
    assert (coverage_warning(coverage, "fr"), coverage_warning(coverage, "en")) == (
        french,
        english,
    )
    page = summary_html(facts)
    assert (
        '<div class="warning" role="note"><p class="title">Attention : couverture inférieure '
        f"à celle des décisions citées</p><p>{french}</p><ul><li>CE, 10 juin 2020, n° 435594 : "
        "tentatives « n'ayant pas été effectuées la même semaine » &amp; &lt;rejet&gt; "
        "(source : https://decisions.example/ce/435594)</li></ul></div>" in page
    )
    assert (
        f"<p>{english}</p><ul><li>CE, 10 juin 2020, n° 435594: attempts not made in the same "
        "week &amp; &lt;rejected&gt; (source: "
        "https://decisions.example/ce/435594)</li></ul></div>" in page
    )
    assert "422516" not in page
    monkeypatch.setattr(references, "DECISIONS", ())
    assert coverage_warning(coverage, "fr").endswith(
        "Dans les décisions publiées sur le référé « mesures utiles », le juge a tenu compte de "
        "tentatives réparties sur plusieurs semaines (au moins trois dans les décisions de 2020 "
        "qui ont fait droit à la demande)."
    )
    monkeypatch.setattr(references, "DECISIONS", (CITED, ELSEWHERE))
    rows_ = dict(summary_rows(facts))
    assert (rows_["coverage_warning_fr"], rows_["coverage_warning_en"]) == (french, english)
    assert rows_["hours_tried"] == "9"


def test_four_weeks_every_day_need_no_warning(setup: Setup, tmp_path: Path) -> None:
    for n in range(28):  # Monday 2 to Sunday 29 November, 09:00 and 21:30 in Paris
        add_check(setup, T0 + timedelta(days=n), Status.NONE, 200, NONE_PAGE)
        add_check(setup, T0 + timedelta(days=n, hours=12, minutes=30), Status.NONE, 200)
    add_check(setup, T0 + timedelta(days=9, hours=5), Status.AVAILABLE, 200, SLOT_PAGE)
    out = tmp_path / "export"
    done = export(setup, out, "--since", "2026-11-02", "--until", "2026-11-29")
    assert done.exit_code == 0, done.output
    facts = summary(out)
    assert [facts[k] for k in COVERAGE_ROWS] == [
        "28",
        "4",
        "28",
        "2026-W45:14;2026-W46:15;2026-W47:14;2026-W48:14",
        "9;14;21",
        "",
        "",
        "",
    ]
    page = html_text(out)
    assert '<div class="warning"' not in page
    assert (
        "Des créneaux ont été proposés au moins une fois pendant la période (1 jour concerné)."
        in page
    )
    assert "Slots were offered at least once in the period (on 1 day)." in page
    calendar = (out / "calendar.svg").read_text(encoding="utf-8")
    cells = [g for g in ET.fromstring(calendar).iter() if "data-day" in g.attrib]
    assert len(cells) == 28
    assert [g.attrib["data-outcome"] for g in cells].count("slots") == 1
    assert cells[9].attrib == {"data-day": "2026-11-11", "data-outcome": "slots"}
    assert "calendar.svg" in (out / "MANIFEST.sha256").read_text()


# --- the rolled-up past -----------------------------------------------------------------------


def test_rolled_up_hours_are_reported_as_counts(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    add_hours(
        setup,
        (datetime(2026, 10, 30, 10, tzinfo=UTC), "none", 9),  # before the period
        (datetime(2026, 11, 1, 10, tzinfo=UTC), "none", 12),
        (datetime(2026, 11, 1, 11, tzinfo=UTC), "none", 11),
        (datetime(2026, 11, 1, 11, tzinfo=UTC), "overloaded", 1),
    )
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    assert rows(out / "hours.csv") == [
        ["hour_utc", "hour_local", "status", "checks"],
        ["2026-11-01T10:00:00Z", "2026-11-01T11:00:00+01:00", "none", "12"],
        ["2026-11-01T11:00:00Z", "2026-11-01T12:00:00+01:00", "none", "11"],
        ["2026-11-01T11:00:00Z", "2026-11-01T12:00:00+01:00", "overloaded", "1"],
    ]
    page = html_text(out)
    assert (
        "Du dimanche 1 novembre 2026 à 11:00:00 au dimanche 1 novembre 2026 à 13:00:00, "
        "creneau ne conserve plus le détail de chaque vérification (durée de conservation : "
        "90 jours) : seuls des totaux par heure et par résultat subsistent, soit 24 "
        "vérifications." in page
    )
    assert '<td>01/11/2026</td><td class="n">23</td><td class="n">1</td><td class="n">24</td>' in (
        page
    )
    assert "aucun créneau n'a été proposé lors des 30 vérifications effectuées" in page
    assert "5 des 6 vérifications détaillées ont reçu une réponse du site" in page
    assert "Première vérification détaillée : lundi 2 novembre 2026 à 09:00:00" in page
    facts = summary(out)
    assert (facts["checks_total"], facts["checks_hourly_counts_only"]) == ("30", "24")
    assert facts["status_none"] == "26"


def test_slots_known_only_from_hourly_counts_are_not_hidden(setup: Setup, tmp_path: Path) -> None:
    add_hours(
        setup,
        (datetime(2026, 11, 1, 10, tzinfo=UTC), "none", 10),
        (datetime(2026, 11, 1, 10, tzinfo=UTC), "available", 2),
    )
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    page = html_text(out)
    assert "Des créneaux ONT été proposés pendant cette période : 2 des 12 vérifications" in page
    assert "aucun créneau n'a été proposé" not in page
    assert summary(out)["slots_offered"] == "yes"


# --- bounds and secrets -----------------------------------------------------------------------


def test_max_pages_bounds_the_pages_copied(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    out = tmp_path / "export"
    done = export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02", "--max-pages", "1")
    assert done.exit_code == 0, done.output
    assert [p.name for p in (out / "pages").iterdir()] == [f"{NONE_PAGE.sha256}.html"]
    assert [r[9] for r in rows(out / "checks.csv")[1:]] == [
        f"pages/{NONE_PAGE.sha256}.html",
        f"pages/{NONE_PAGE.sha256}.html",
        "not included: --max-pages 1 reached",
        "no page received",
        "not kept",
        "not included: --max-pages 1 reached",
    ]
    assert (
        "Limite atteinte (--max-pages 1) : 2 autres pages conservées ne sont pas incluses"
        in html_text(out)
    )
    assert summary(out)["pages_left_out_by_max_pages"] == "2"


def test_no_secret_from_the_config_reaches_any_file(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    echo = Page(URL, 200, f"<html>you came from tgram://{TOKEN}/x</html>".encode())
    add_check(setup, T0 + timedelta(hours=1), Status.UNKNOWN, 200, echo, detail=f"saw {TOKEN}")
    out = tmp_path / "export"
    done = export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02")
    assert done.exit_code == 0, done.output
    files = [path for path in out.rglob("*") if path.is_file()]
    assert len(files) >= 6
    for path in files:
        body = path.read_bytes()
        for secret in (TOKEN, CHAT, "tgram://"):
            assert secret.encode() not in body, f"{secret} in {path.name}"
    last = rows(out / "checks.csv")[-1]
    assert last[6:] == [
        "saw ***",
        "saw ***",
        echo.sha256,
        "withheld: contains a secret from the config",
    ]
    assert TOKEN not in done.output


SITE_PASSWORD = "S3cr3t"  # written as is in the target's URL
SITE_KEY = "site-key-31c9d0e8f2"  # from ${SITE_KEY}, in the target's URL


def test_no_url_credential_reaches_any_file_from_the_cli_or_the_dashboard(
    tmp_path: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target URL with `user:password@` and a ${VAR} value: checked for real, then a check
    whose detail quotes the URL (as the client's timeout does) and a page that echoes it."""
    monkeypatch.setenv("SITE_KEY", SITE_KEY)
    public = simulator.booking_url("1001")
    secret_url = public.replace("http://", f"http://user:{SITE_PASSWORD}@") + "?k=${SITE_KEY}"
    path = tmp_path / "config.toml"
    path.write_text(f"""
[creneau]
contact = "asso@example.org"
database = "sqlite:///c.db"
keep_pages = true
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{secret_url}"
[hosts."127.0.0.1"]
per_minute = 600
burst = 60
""")
    checked = CliRunner().invoke(cli, ["check", "--config", str(path)])
    assert checked.exit_code == 0, checked.output
    config = load_config(path)
    url = config.targets[0].url
    store = Store(config.creneau.database)
    echo = Page(url, 200, f"<html><a href='{url}'>again</a></html>".encode())
    archive.keep_by_hash(config.creneau.pages_dir, echo)
    timeout = f"no complete answer from {url} within 30s"
    result = CheckResult(
        "nanterre", "ezbooking", url, Status.ERROR, datetime.now(UTC), detail=timeout
    )
    record(store, result, Routing(PARIS))
    result = CheckResult(
        "nanterre",
        "ezbooking",
        url,
        Status.UNKNOWN,
        datetime.now(UTC),
        http_status=200,
        page_sha256=echo.sha256,
        page=echo,
    )
    record(store, result, Routing(PARIS))
    since = (datetime.now(PARIS) - timedelta(days=1)).date().isoformat()
    out = tmp_path / "export"
    done = CliRunner().invoke(
        evidence, ["nanterre", "--config", str(path), "--out", str(out), "--since", since]
    )
    assert done.exit_code == 0, done.output
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {"summary.html", "summary.csv", "checks.csv", "MANIFEST.sha256"} <= set(files)
    assert any(name.startswith("pages/") for name in files)  # the real check's page
    assert summary(out)["url"] == public
    assert [row[2] for row in rows(out / "checks.csv")[1:]] == [public] * 3
    context = WebContext(
        config, store, DatabaseThread(), Signer(load_or_create_secret(tmp_path / "web"))
    )
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        answer = client.get(f"/targets/nanterre/evidence.zip?since={since}")
    context.db.close()
    store.close()
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zipped:
        zipped_files = {name: zipped.read(name) for name in zipped.namelist()}
    assert len(zipped_files) == len(files)
    for name, body in [*files.items(), *zipped_files.items()]:
        for secret in (SITE_PASSWORD, "user:", SITE_KEY):
            assert secret.encode() not in body, f"{secret} in {name}"
    for shown in (checked.output, done.output):
        for secret in (SITE_PASSWORD, "user:", SITE_KEY):
            assert secret not in shown


# --- the period and errors ------------------------------------------------------------------


def test_period_dates_are_local_days_and_times_exact() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    summer = parse_period("2026-07-01", "2026-07-01", PARIS, now)
    assert (summer.start, summer.end) == (
        datetime(2026, 6, 30, 22, tzinfo=UTC),
        datetime(2026, 7, 1, 22, tzinfo=UTC),
    )
    around_dst = parse_period("2026-10-25", "2026-10-25", PARIS, now)  # a 25-hour day
    assert around_dst.end - around_dst.start == timedelta(hours=25)
    exact = parse_period("2026-11-01T08:30", "2026-11-02T10:00+00:00", PARIS, now)
    assert (exact.start, exact.end) == (
        datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 10, tzinfo=UTC),
    )
    assert parse_period("2026-11-01", None, PARIS, now).end == now
    with pytest.raises(EvidenceError, match="the period is empty"):
        parse_period("2026-11-02", "2026-11-01", PARIS, now)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], '--since: expected a date such as 2026-11-01 or 2026-11-01T08:00 (got "yesterday")'),  # noqa: E501
        (["--since", "2026-11-01", "--until", "2026-13-01"], '--until: expected a date such as 2026-11-01 or 2026-11-01T08:00 (got "2026-13-01")'),  # noqa: E501
        (["--since", "2026-11-05", "--until", "2026-11-01"], "the period is empty: its end (2026-11-01T23:00:00Z) is not after its start (2026-11-04T23:00:00Z)"),  # noqa: E501
        (["--since", "2020-01-01", "--until", "2026-11-01"], "the period is 2497 days long: an export covers at most 1098 days (about three years); choose a shorter one"),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_dates_are_one_line_exit_2(
    setup: Setup, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "export"
    done = export(setup, out, *args)
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [f"Error: {message}"]
    assert not out.exists()


def test_unknown_target_is_one_line_exit_2(setup: Setup, tmp_path: Path) -> None:
    done = CliRunner().invoke(
        evidence,
        ["nowhere", "--config", str(setup.config_path), "--since", "2026-11-01", "--out",
         str(tmp_path / "x")],
    )  # fmt: skip
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [
        f"Error: no target named nowhere in {setup.config_path} (targets: nanterre, other)"
    ]


def test_an_existing_folder_is_never_overwritten(setup: Setup, tmp_path: Path) -> None:
    a_fortnight_without_slots(setup)
    used = tmp_path / "used"
    used.mkdir()
    (used / "letter.odt").write_bytes(b"draft")
    done = export(setup, used, "--since", "2026-11-01")
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [
        f"Error: --out {used}: the folder is not empty (choose a new one)"
    ]
    assert [p.name for p in used.iterdir()] == ["letter.odt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export(setup, empty, "--since", "2026-11-01").exit_code == 0
    assert (empty / "MANIFEST.sha256").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_a_damaged_kept_copy_is_named_not_copied(setup: Setup, tmp_path: Path) -> None:
    add_check(setup, T0, Status.NONE, 200, NONE_PAGE)
    archive.page_path(setup.pages_dir, NONE_PAGE.sha256).write_bytes(b"not gzip at all")
    out = tmp_path / "export"
    assert export(setup, out, "--since", "2026-11-01", "--until", "2026-11-02").exit_code == 0
    assert rows(out / "checks.csv")[1][8:] == [
        NONE_PAGE.sha256,
        "not included: the kept copy is unreadable or does not match its SHA-256",
    ]
    assert not (out / "pages").exists()


def test_out_must_not_be_a_file(setup: Setup, tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("draft")
    done = export(setup, letter, "--since", "2026-11-01")
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [f"Error: --out {letter}: exists and is not a folder"]
    assert letter.read_text() == "draft"
