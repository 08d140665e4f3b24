"""The `html` system: target settings checked at config time, French dates (with a format and in
their common forms), the guichets each saved page gives (its whole reading is in its
`.expected.json`, tests/sources/test_fixtures.py), slots whose time cannot be read still
counted, slots winning over banners, pages it cannot recognise never read as "no slot", and
whole checks against the simulated page (loopback only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES, english
from creneau.changes import KnownSlot, diff_slots
from creneau.config import describe_errors
from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import CheckResult, Status, unreadable_time_stand_in
from creneau.simulator.server import SimulatorServer
from creneau.sources import html
from creneau.sources.common import fold, visible_text
from creneau.sources.html.simulator import HtmlBookingSite, Layout, french_human, french_long
from creneau.sources.reading import FlowOutcome

PAGES = FIXTURES / "html"
PARIS = ZoneInfo("Europe/Paris")
GENEVA = ZoneInfo("Europe/Zurich")

PREFECTURE_SETTINGS: dict[str, Any] = {
    "none_text": ["Aucun rendez-vous n'est disponible"],
    "slot_selector": "table.rdv-disponibles tbody tr",
    "slot_time_selector": "td.horaire",
    "slot_time_format": "%A %d %B %Y à %Hh%M",
    "guichet_selector": "td.guichet",
}
CONSULATE_SETTINGS: dict[str, Any] = {
    "none_text": ["aucun créneau disponible"],
    "slot_selector": "ul.creneaux li",
    "slot_time_pattern": r"(\d{2}/\d{2}/\d{4}) de (\d{2}:\d{2})",
    "slot_time_format": "%d/%m/%Y %H:%M",
    "guichet_selector": "h2.service",
    "timezone": "Europe/Zurich",
}
PREFECTURE = html.Target(
    name="nanterre-titres",
    url="https://www.hauts-de-seine.gouv.fr/rendez-vous/titres-de-sejour",
    **PREFECTURE_SETTINGS,
)
CONSULATE = html.Target(
    name="geneve-passeports",
    url="https://www.consulat-france-geneve.example/rendez-vous",
    **CONSULATE_SETTINGS,
)
# Nothing but what one slot looks like: issue 13, point 11.
PLAGES = html.Target(
    name="plages", url="https://www.prefecture.example/rdv/plages", slot_selector="li.plage.libre"
)
GRID = html.Target(
    name="grille", url="https://rdv.example/prendre_rdv", slot_selector="a.fr-btn--tertiary"
)
# The test's clock: the day the saved pages are taken to have been served. Dates without a
# year on them are counted from it.
PAGE_DAY = date(2026, 11, 30)

GUICHET_2 = ("guichet-2-remise-de-titre", "Guichet 2 – Remise de titre")
GUICHET_5 = ("guichet-5-etudiants", "Guichet 5 – Étudiants")
PASSEPORTS = ("passeports-et-cartes-d-identite", "Passeports et cartes d’identité")
ETAT_CIVIL = ("etat-civil", "État civil")
VISAS = ("visas", "Visas")
CHOOSE = "/rendez-vous/titres-de-sejour/choisir?creneau="


def parse(name: str, target: html.Target | None, status: int = 200) -> html.Analysis:
    page = Page.from_file(PAGES / name)
    if status != 200:
        page = Page(page.url, status, page.body, page.headers)
    return html.analyse(page, target, PAGE_DAY)


def guichets_of(analysis: html.Analysis) -> list[tuple[str, str, Status, str]]:
    return [(g.id, g.label, g.status, english(g.detail)) for g in analysis.guichets]


def slots_of(analysis: html.Analysis) -> list[tuple[str, str, str]]:
    return [(s.guichet_id, s.start.isoformat(), s.key) for s in analysis.reading.slots]


# --- saved pages: each whole reading is in its .expected.json (sources/test_fixtures.py) ---

NONE_DETAIL_PREFECTURE = 'the page says "Aucun rendez-vous n\'est disponible"'
NONE_DETAIL_CONSULATE = 'the page says "aucun créneau disponible"'
TABLE_SLOTS = [
    (GUICHET_2[0], "2026-10-23T14:15:00+02:00", f"{CHOOSE}88121"),
    (GUICHET_5[0], "2026-10-27T09:00:00+01:00", f"{CHOOSE}88122"),
    (GUICHET_2[0], "2026-12-01T09:30:00+01:00", f"{CHOOSE}88207"),
]
PLAGES_GUICHET = [("page", "plages", Status.AVAILABLE, "")]
UNREAD = 'without a readable time: "Horaire communiqué par courriel"'
# What the flow gets beside the reading: each guichet with its status and detail.
GUICHETS: dict[str, tuple[html.Target, list[tuple[str, str, Status, str]]]] = {
    "prefecture-table-3-slots.html": (
        PREFECTURE,
        [(*GUICHET_2, Status.AVAILABLE, ""), (*GUICHET_5, Status.AVAILABLE, "")],
    ),
    # Rows whose time cannot be read are slots all the same, with a stand-in start.
    "prefecture-table-unreadable-time.html": (
        PREFECTURE,
        [
            (*GUICHET_2, Status.AVAILABLE, '1 slot without a readable time: "Date à confirmer"'),
            (*GUICHET_5, Status.AVAILABLE, f"1 slot {UNREAD}"),
        ],
    ),
    "prefecture-table-no-slot.html": (
        PREFECTURE,
        [("page", "nanterre-titres", Status.NONE, NONE_DETAIL_PREFECTURE)],
    ),
    "prefecture-changed-layout.html": (PREFECTURE, []),
    "prefecture-overloaded.html": (PREFECTURE, []),
    "prefecture-maintenance.html": (PREFECTURE, []),
    "consulate-list-4-slots.html": (
        CONSULATE,
        [
            (*PASSEPORTS, Status.AVAILABLE, ""),
            (*ETAT_CIVIL, Status.NONE, "no slot listed for this guichet"),
            (*VISAS, Status.AVAILABLE, ""),
        ],
    ),
    "consulate-list-no-slot.html": (
        CONSULATE,
        [
            (*PASSEPORTS, Status.NONE, NONE_DETAIL_CONSULATE),
            (*ETAT_CIVIL, Status.NONE, NONE_DETAIL_CONSULATE),
            (*VISAS, Status.NONE, NONE_DETAIL_CONSULATE),
        ],
    ),
    "consulate-captcha.html": (CONSULATE, []),
    "consulate-forbidden-403.html": (CONSULATE, []),
    "consulate-unavailable-503.html": (CONSULATE, []),
    "plages-slot-selector-only.html": (PLAGES, PLAGES_GUICHET),
    "plages-under-maintenance-banner.html": (PLAGES, PLAGES_GUICHET),
    "plages-under-busy-banner.html": (PLAGES, PLAGES_GUICHET),
    "plages-times-not-read.html": (
        PLAGES,
        [("page", "plages", Status.AVAILABLE, f"3 slots {UNREAD} (and 2 more)")],
    ),
    "plages-common-date-forms.html": (PLAGES, PLAGES_GUICHET),
    "week-grid-aria-labels.html": (GRID, [("page", "grille", Status.AVAILABLE, "")]),
}


@pytest.mark.parametrize("name", sorted(GUICHETS))
def test_each_saved_page_gives_its_guichets(name: str) -> None:
    target, guichets = GUICHETS[name]
    analysis = parse(name, target)
    reading = analysis.reading
    assert guichets_of(analysis) == guichets
    assert [(c.id, c.label) for c in reading.choices] == [(g[0], g[1]) for g in guichets]
    assert all(0 < len(origin) <= html.READ_FROM_LIMIT for origin in reading.read_from)
    page = Page.from_file(PAGES / name)
    assert html.parse_page(page, target, reference=PAGE_DAY) == reading


def test_every_fixture_says_where_it_comes_from() -> None:
    saved = sorted(path.name for path in PAGES.glob("*.html"))
    sources = (PAGES / "SOURCES.md").read_text(encoding="utf-8")
    assert [name for name in saved if f"`{name}`" not in sources] == []


def test_without_a_guichet_selector_the_page_is_one_guichet_named_after_the_target() -> None:
    target = PREFECTURE.model_copy(update={"guichet_selector": None})
    analysis = parse("prefecture-table-3-slots.html", target)
    assert guichets_of(analysis) == [("page", "nanterre-titres", Status.AVAILABLE, "")]
    assert slots_of(analysis) == [
        ("page", "2026-10-23T14:15:00+02:00", f"{CHOOSE}88121"),
        ("page", "2026-10-27T09:00:00+01:00", f"{CHOOSE}88122"),
        ("page", "2026-12-01T09:30:00+01:00", f"{CHOOSE}88207"),
    ]
    assert english(analysis.reading.detail) == "3 slots"


def test_unreadable_slots_are_counted_when_others_were_read() -> None:
    target = PREFECTURE.model_copy(update={"guichet_selector": None})
    analysis = parse("prefecture-table-unreadable-time.html", target)
    detail = '2 slots without a readable time: "Date à confirmer" (and 1 more)'
    assert guichets_of(analysis) == [("page", "nanterre-titres", Status.AVAILABLE, detail)]
    assert english(analysis.reading.detail) == f"3 slots; {detail}"
    assert [(s.guichet, not s.time_known) for s in analysis.reading.slots] == [
        ("nanterre-titres — Horaire communiqué par courriel", True),
        ("nanterre-titres — Date à confirmer", True),
        ("nanterre-titres", False),
    ]


def test_a_format_that_does_not_fit_falls_back_to_the_common_forms() -> None:
    # Before issue 13 these rows were "unreadable-slots" and the page `unknown`.
    target = PREFECTURE.model_copy(update={"slot_time_format": "%d/%m/%Y %H:%M"})
    analysis = parse("prefecture-table-3-slots.html", target)
    assert (analysis.reading.kind, analysis.reading.status) == ("slots", Status.AVAILABLE)
    assert slots_of(analysis) == TABLE_SLOTS


def test_a_slot_without_its_time_element_is_a_slot_named_by_its_text() -> None:
    target = PREFECTURE.model_copy(update={"slot_time_selector": "td.heure"})
    analysis = parse("prefecture-table-3-slots.html", target)
    text = "Guichet 5 – Étudiants mardi 27 octobre 2026 à 9h Choisir ce créneau"
    assert guichets_of(analysis)[1] == (
        *GUICHET_5,
        Status.AVAILABLE,
        f'1 slot without a readable time: "{text}"',
    )
    assert [s.key for s in analysis.guichets[1].slots] == [f"time-not-read:{text}"]


def test_the_same_page_without_the_none_phrase_configured_is_unknown() -> None:
    target = PREFECTURE.model_copy(update={"none_text": []})
    reading = parse("prefecture-table-no-slot.html", target).reading
    # The row that says "Aucun rendez-vous" is not a slot, and without the target's own
    # phrase it is not "no slot" either: unknown, with what to add.
    assert (reading.kind, reading.status, reading.rule, reading.slots) == (
        "no-slot-words",
        Status.UNKNOWN,
        "NO_SLOT_WORDS",
        (),
    )
    assert english(reading.detail) == (
        'the elements slot_selector matches say there is no slot ("Aucun rendez-vous n’est '
        'disponible pour le moment. De nouveaux créneaux seront …"), but no none_text phrase '
        "names it: add that phrase to none_text"
    )


def test_a_target_of_phrases_only_reads_the_no_slot_page() -> None:
    target = html.Target(
        name="phrases-only",
        url="https://www.consulat-france-geneve.example/rendez-vous",
        none_text=["AUCUN CRENEAU DISPONIBLE"],  # matched without case or accents
    )
    assert parse("consulate-list-no-slot.html", target).reading.status is Status.NONE
    # Slots it cannot see: the phrase is still on the page, so phrases alone would say "none".
    assert parse("consulate-list-4-slots.html", target).reading.status is Status.NONE


def test_without_a_target_the_page_cannot_be_read() -> None:
    reading = html.parse_page(Page.from_file(PAGES / "prefecture-table-3-slots.html"))
    assert (reading.kind, reading.status, english(reading.detail), reading.rule) == (
        "no-target",
        Status.UNKNOWN,
        "the html system needs a target's selectors and phrases to read a page",
        "NO_TARGET",
    )


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (403, "forbidden", Status.BLOCKED),
        (429, "rate-limited", Status.BLOCKED),
        (502, "server-error", Status.OVERLOADED),
        (404, "not-found", Status.ERROR),
    ],
)
def test_http_status_wins_over_slots_on_the_page(status: int, kind: str, expected: Status) -> None:
    reading = parse("prefecture-table-3-slots.html", PREFECTURE, status=status).reading
    assert (reading.kind, reading.status, reading.slots) == (kind, expected, ())


def test_guichet_is_the_nearest_heading_before_the_slot_never_an_ancestor() -> None:
    markup = """<ul><li class="s">Le 02/12/2026 à 08:00</li></ul>
    <section class="bureau"><h3 class="bureau">Bureau A</h3>
      <ul><li class="s">Le 01/12/2026 à 09:30</li></ul></section>"""
    target = html.Target(
        name="t",
        url="https://example.org/rdv",
        slot_selector="li.s",
        slot_time_pattern=r"\d\d/\d\d/\d{4} à \d\d:\d\d",
        slot_time_format="%d/%m/%Y à %H:%M",
        guichet_selector=".bureau",
    )
    analysis = html.analyse(Page("https://example.org/rdv", 200, markup.encode()), target)
    assert slots_of(analysis) == [
        ("bureau-a", "2026-12-01T09:30:00+01:00", "bureau-a@2026-12-01T09:30:00+01:00"),
        ("page", "2026-12-02T08:00:00+01:00", "page@2026-12-02T08:00:00+01:00"),
    ]
    assert [(g.id, g.label) for g in analysis.guichets] == [("bureau-a", "Bureau A"), ("page", "t")]


# --- French dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("mardi 1er décembre 2026 à 9h30", "1 12 2026 a 9:30"),
        ("Mardi 1 er Décembre 2026 à 09 h 30", "1 12 2026 a 09:30"),
        ("mar. 1 déc. 2026, 14h", "1 12 2026, 14:00"),
        ("1 mar. 2027 à 8h05", "1 3 2027 a 8:05"),
        ("jeudi 4 mars 2027 à 09:30", "4 3 2027 a 09:30"),
        ("samedi\u00a015\u00a0août\u00a02026 à\u202f11h15", "15 8 2026 a 11:15"),
        ("Vendredi, 13 févr. 2026 - 16H45", "13 2 2026 - 16:45"),
        ("01/12/2026 09:30", "01/12/2026 09:30"),
    ],
)
def test_french_date_text_is_normalised(text: str, normalised: str) -> None:
    assert html.normalise_french_datetime(text) == normalised


@pytest.mark.parametrize(
    ("time_format", "normalised"),
    [
        ("%A %d %B %Y à %Hh%M", "%d %m %Y a %H:%M"),
        ("%a. %d %b. %Y, %Hh", "%d %m %Y, %H:00"),
        ("%A, %d %B %Y - %H h %M", "%d %m %Y - %H:%M"),
        ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M"),
    ],
)
def test_time_formats_are_normalised_like_the_text(time_format: str, normalised: str) -> None:
    assert html.normalise_time_format(time_format) == normalised


@pytest.mark.parametrize(
    ("text", "time_format", "expected"),
    [
        ("mardi 1er décembre 2026 à 9h30", "%A %d %B %Y à %Hh%M", "2026-12-01T09:30:00+01:00"),
        ("mardi 1er décembre 2026 à 9h30", "%d %B %Y à %Hh%M", "2026-12-01T09:30:00+01:00"),
        ("Mar. 1 déc. 2026 à 09:30", "%a %d %b %Y à %H:%M", "2026-12-01T09:30:00+01:00"),
        ("vendredi 23 octobre 2026 à 14h", "%A %d %B %Y à %Hh", "2026-10-23T14:00:00+02:00"),
        ("lundi 26 octobre 2026 à 14h", "%A %d %B %Y à %Hh%M", "2026-10-26T14:00:00+01:00"),
        ("01/12/2026 09:30", "%d/%m/%Y %H:%M", "2026-12-01T09:30:00+01:00"),
        ("29/03/27 08:45", "%d/%m/%y %H:%M", "2027-03-29T08:45:00+02:00"),
        ("le 15 août 2026 à 11 h 15", "le %d %B %Y à %Hh%M", "2026-08-15T11:15:00+02:00"),
    ],
)
def test_french_dates_are_read_in_the_target_zone(
    text: str, time_format: str, expected: str
) -> None:
    assert html.parse_french_datetime(text, time_format, PARIS).isoformat() == expected


@pytest.mark.parametrize(
    ("text", "time_format"),
    [
        ("mardi 1er décembre à 9h30", "%A %d %B %Y à %Hh%M"),  # no year on the page
        ("31 novembre 2026 à 9h30", "%d %B %Y à %Hh%M"),
        ("1 brumaire 2026 à 9h30", "%d %B %Y à %Hh%M"),
        ("01/12/2026 09:30 (complet)", "%d/%m/%Y %H:%M"),
    ],
)
def test_text_that_does_not_fit_the_format_raises(text: str, time_format: str) -> None:
    with pytest.raises(ValueError, match=r"does not match|unconverted|out of range"):
        html.parse_french_datetime(text, time_format, PARIS)


def test_the_zone_decides_the_offset() -> None:
    start = html.parse_french_datetime("28/03/2027 10:00", "%d/%m/%Y %H:%M", GENEVA)
    assert start.isoformat() == "2027-03-28T10:00:00+02:00"


# --- a slot whose time is not read is a slot (issue 13, point 11) -------------------------------

ISSUE_EXAMPLE = (
    '<ul><li class="plage libre"><a href="/rdv/reserver/81">mardi 8 décembre 2026 à 09h30</a></li>'
    '<li class="plage libre"><a href="/rdv/reserver/82">Horaire à confirmer</a></li></ul>'
)
REMISE = html.Target(
    name="remise-de-titre", url="https://www.prefecture.example/rdv", slot_selector="li.plage.libre"
)


def plages_page(*texts: str, headers: dict[str, str] | None = None) -> Page:
    items = "".join(f'<li class="plage libre"><a href="#">{text}</a></li>' for text in texts)
    body = f"<main><ul>{items}</ul></main>".encode()
    return Page("https://www.prefecture.example/rdv", 200, body, headers or {})


def test_the_issue_example_is_read_with_only_a_slot_selector() -> None:
    # Before issue 13: "unreadable-slots", unknown, 0 slots.
    page = Page("https://www.prefecture.example/rdv", 200, ISSUE_EXAMPLE.encode())
    reading = html.parse_page(page, REMISE)
    assert (reading.kind, reading.status, english(reading.detail), reading.rule) == (
        "slots",
        Status.AVAILABLE,
        '2 slots; 1 slot without a readable time: "Horaire à confirmer"',
        "slot_selector",
    )
    assert [(s.start.isoformat(), s.guichet_id, s.guichet, s.key) for s in reading.slots] == [
        (
            "1970-01-08T04:02:15+01:00",
            "page",
            "remise-de-titre — Horaire à confirmer",
            "time-not-read:Horaire à confirmer",
        ),
        ("2026-12-08T09:30:00+01:00", "page", "remise-de-titre", "/rdv/reserver/81"),
    ]
    assert reading.read_from == (
        "ul > li.plage.libre:nth-of-type(2) (time not read)",
        "ul > li.plage.libre:nth-of-type(1)",
    )


def test_a_page_of_slots_none_of_whose_times_is_read_is_available() -> None:
    reading = html.parse_page(plages_page("Date à confirmer", "Sur convocation"), REMISE)
    assert (reading.kind, reading.status) == ("slots", Status.AVAILABLE)
    assert sorted(s.guichet for s in reading.slots) == [
        "remise-de-titre — Date à confirmer",
        "remise-de-titre — Sur convocation",
    ]
    assert all(not slot.time_known for slot in reading.slots)


def check_result(reading_of: html.Analysis, at: datetime) -> CheckResult:
    status = reading_of.reading.status or Status.UNKNOWN
    return CheckResult("t", "html", "https://x", status, at, guichets=reading_of.guichets)


def test_slots_without_a_time_are_new_once_and_gone_when_they_go() -> None:
    clock = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    texts = ("Horaire communiqué par courriel", "Horaire communiqué par courriel", "Matinée")
    first = html.analyse(plages_page(*texts), REMISE)
    changes = diff_slots([], check_result(first, clock))
    assert len(changes.new) == 3  # two elements of the same text stay two slots
    known = [
        KnownSlot(number, s.guichet_id, s.start, clock, None, s.guichet, s.key)
        for number, s in enumerate(changes.new)
    ]
    again = html.analyse(plages_page(*texts), REMISE)
    seen_again = diff_slots(known, check_result(again, clock + timedelta(minutes=5)))
    assert (seen_again.new, sorted(seen_again.still_open)) == ([], [0, 1, 2])
    # A readable slot appears before them and "Matinée" goes: only those two change.
    later = html.analyse(plages_page("mardi 8 décembre 2026 à 09h30", *texts[:2]), REMISE)
    changed = diff_slots(known, check_result(later, clock + timedelta(minutes=10)))
    assert [s.start.isoformat() for s in changed.new] == ["2026-12-08T09:30:00+01:00"]
    assert [gone.guichet for gone in changed.gone] == ["remise-de-titre — Matinée"]


def test_a_stand_in_start_is_flagged_and_passes_every_alert_filter() -> None:
    from creneau.alerts.outbox import Routing

    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    reading = html.parse_page(Page("https://x", 200, ISSUE_EXAMPLE.encode()), REMISE)
    unread, read = reading.slots
    assert (not unread.time_known, not read.time_known) == (True, False)
    strict = Routing(PARIS, before=now.date() + timedelta(days=1), within=timedelta(hours=1))
    # Its time is unknown: the user is told rather than filtered out.
    assert (strict.worth_alerting(unread, now), strict.worth_alerting(read, now)) == (True, False)


def test_stand_ins_do_not_depend_on_the_run() -> None:
    # Stored slots are matched by their start: a stand-in must never change between versions.
    assert unreadable_time_stand_in("page\nDate à confirmer\n1").isoformat() == (
        "1970-01-16T12:49:57+00:00"
    )


# --- dates in their common forms, without a slot_time_format -------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mardi 8 décembre 2026 à 09h30", "2026-12-08T09:30:00+01:00"),
        ("08/12/2026 09:30", "2026-12-08T09:30:00+01:00"),
        ("le 8 déc. à 9h30", "2026-12-08T09:30:00+01:00"),
        ("8 décembre à 9 h 30", "2026-12-08T09:30:00+01:00"),
        ("lundi 07/12 - 14:00", "2026-12-07T14:00:00+01:00"),
        ("2026-12-08T09:30", "2026-12-08T09:30:00+01:00"),
        ("2026-12-08T08:30:00Z", "2026-12-08T09:30:00+01:00"),
        ("2026-12-08 09:30:00+01:00", "2026-12-08T09:30:00+01:00"),
        # rdv-service-public's forms (config/locales/fr.yml and its slot buttons)
        ("mardi 08 décembre 2026 à 09h30", "2026-12-08T09:30:00+01:00"),
        ("mardi 8/12 à 09h30", "2026-12-08T09:30:00+01:00"),
        ("mardi 8/12 vers 09h30", "2026-12-08T09:30:00+01:00"),
        ("08/12/2026 à 09:30", "2026-12-08T09:30:00+01:00"),
        ("08 décembre 2026 09h 30min 00s", "2026-12-08T09:30:00+01:00"),
        ("Choisir le créneau du mardi 8 déc. à 09:30", "2026-12-08T09:30:00+01:00"),
        # around them
        ("Le 26/03/2027 de 09:30 à 09:45 Réserver", "2027-03-26T09:30:00+01:00"),
        ("09:30 — mardi 8 décembre 2026", "2026-12-08T09:30:00+01:00"),
        ("1er mars à 8h05", "2027-03-01T08:05:00+01:00"),
        ("mar. 1 mar. à 8h", "2027-03-01T08:00:00+01:00"),
        ("08/12/26 9h", "2026-12-08T09:00:00+01:00"),
        ("29/02 à 10h", "2028-02-29T10:00:00+01:00"),
        ("samedi\u00a015\u00a0août\u00a02026 à\u202f11h15", "2026-08-15T11:15:00+02:00"),
    ],
)
def test_common_forms_are_read_without_a_format(text: str, expected: str) -> None:
    start = html.read_common_datetime(text, PARIS, PAGE_DAY)
    assert start is not None
    assert start.isoformat() == expected


@pytest.mark.parametrize(
    "text",
    [
        "Date à confirmer",
        "mardi 8 décembre 2026",  # a day, no time
        "31/11/2026 09:30",
        "08/12/2026 25:00",
        "08/12/2026 09:75",
        "1 brumaire 2026 à 9h30",
        "Guichet 2 – 14h30",  # a time, no day
    ],
)
def test_text_without_a_full_date_and_time_is_not_read(text: str) -> None:
    assert html.read_common_datetime(text, PARIS, PAGE_DAY) is None


def test_a_date_without_a_year_is_the_next_one_on_or_after_the_page_day() -> None:
    today = PAGE_DAY
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    def read(day: date) -> str:
        start = html.read_common_datetime(f"{day:%d/%m} à 10h", PARIS, today)
        return start.date().isoformat() if start else ""

    assert (read(today), read(tomorrow), read(yesterday)) == (
        today.isoformat(),
        tomorrow.isoformat(),
        yesterday.replace(year=today.year + 1).isoformat(),
    )
    # No page day at all: no guess from the real clock.
    assert html.read_common_datetime(f"{today:%d/%m} à 10h", PARIS, None) is None


def test_the_year_comes_from_the_page_date_header_in_the_site_zone() -> None:
    # 23:30 in London on 30 November is already 1 December in Paris: "30/11" is next year's.
    served = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    headers = {"date": format_datetime(served, usegmt=True)}
    reading = html.parse_page(plages_page("30/11 à 09h00", headers=headers), REMISE)
    assert [s.start.isoformat() for s in reading.slots] == ["2027-11-30T09:00:00+01:00"]
    # An explicit day (a check's clock, a test's) wins over the header.
    day = served.date() - timedelta(days=1)
    reading = html.parse_page(plages_page("30/11 à 09h00", headers=headers), REMISE, reference=day)
    assert [s.start.isoformat() for s in reading.slots] == ["2026-11-30T09:00:00+01:00"]
    # Neither: still a slot, its time unread.
    reading = html.parse_page(plages_page("30/11 à 09h00"), REMISE)
    assert reading.status is Status.AVAILABLE
    assert [not s.time_known for s in reading.slots] == [True]


ABBREVIATED_MONTHS = (  # rdv-service-public, config/locales/fr.yml: date.abbr_month_names
    "jan.", "fév.", "mar.", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
)  # fmt: skip


def _hour_words(at: datetime) -> str:
    return f"{at.hour}h{at.minute:02d}" if at.minute else f"{at.hour}h"


def _weekday(at: datetime) -> str:
    return FRENCH_DAYS[at.weekday()]


def _month(at: datetime) -> str:
    return FRENCH_MONTHS[at.month - 1]


def _abbreviated_month(at: datetime) -> str:
    return ABBREVIATED_MONTHS[at.month - 1]


# Each form: how a page writes the moment, and whether the year is written.
WRITTEN_FORMS: list[tuple[str, Any, bool]] = [
    ("french_long", french_long, True),
    ("french_human", french_human, True),
    ("numeric", lambda at: f"{at:%d/%m/%Y %H:%M}", True),
    ("dense", lambda at: f"{at:%d/%m/%Y} à {at:%H:%M}", True),
    ("iso", lambda at: f"{at:%Y-%m-%dT%H:%M}", True),
    ("rails default", lambda at: f"{at:%d} {_month(at)} {at:%Y %Hh %Mmin %Ss}", True),
    ("le d abbr", lambda at: f"le {at.day} {_abbreviated_month(at)} à {_hour_words(at)}", False),
    ("d month h", lambda at: f"{at.day} {_month(at)} à {at.hour} h {at:%M}", False),
    ("weekday dd/mm", lambda at: f"{_weekday(at)} {at:%d/%m} - {at:%H:%M}", False),
    ("rails short", lambda at: f"{_weekday(at)} {at.day}/{at:%m} à {at:%Hh%M}", False),
    (
        "aria-label",
        lambda at: (
            f"Choisir le créneau du {_weekday(at)} {at.day} {_abbreviated_month(at)} à {at:%H:%M}"
        ),
        False,
    ),
]
AROUND = st.sampled_from(
    [("", ""), ("Créneau disponible : ", ""), ("", " — Réserver"), ("Guichet 3 — ", " (15 min)")]
)


@st.composite
def written_slots(draw: st.DrawFn) -> tuple[date, datetime, str]:
    """A page day, a slot's moment on or after it (within the year for forms without one),
    and the moment written in one of the forms."""
    today = draw(st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 12, 31)))
    _, write, has_year = draw(st.sampled_from(WRITTEN_FORMS))
    ahead = draw(st.integers(0, 3 * 365 if has_year else 364))
    day = today + timedelta(days=ahead)
    moment = datetime(
        day.year, day.month, day.day, draw(st.integers(0, 23)), draw(st.integers(0, 59))
    )
    before, after = draw(AROUND)
    return today, moment, f"{before}{write(moment)}{after}"


@settings(max_examples=400, deadline=None)
@given(case=written_slots())
def test_french_date_texts_round_trip_through_the_reader(
    case: tuple[date, datetime, str],
) -> None:
    today, moment, text = case
    start = html.read_common_datetime(text, PARIS, today)
    assert start is not None, text
    assert (start.replace(tzinfo=None), start.tzinfo) == (moment, PARIS), text
    # The same through a whole page whose Date header says the day.
    served = datetime.combine(today, datetime.min.time(), tzinfo=PARIS) + timedelta(hours=12)
    page = plages_page(
        escape(text), headers={"date": format_datetime(served.astimezone(UTC), usegmt=True)}
    )
    reading = html.parse_page(page, REMISE)
    assert [(s.start.replace(tzinfo=None), s.guichet) for s in reading.slots] == [
        (moment, "remise-de-titre")
    ]


# --- slots seen win over a banner (issue 13, point 12) ------------------------------------------


@pytest.mark.parametrize(
    ("banner", "status", "rule"),
    [
        ("Une opération de maintenance est prévue ce soir.", Status.CLOSED, "CLOSED_PHRASES"),
        ("Trop de demandes : réessayez plus tard.", Status.OVERLOADED, "OVERLOADED_PHRASES"),
    ],
)
def test_a_banner_decides_only_when_no_slot_is_seen(banner: str, status: Status, rule: str) -> None:
    with_slot = f"<p>{banner}</p>{ISSUE_EXAMPLE}".encode()
    without = f"<p>{banner}</p><ul></ul>".encode()
    read = html.parse_page(Page("https://x", 200, with_slot), REMISE)
    alone = html.parse_page(Page("https://x", 200, without), REMISE)
    # Before issue 13 the banner won: closed / overloaded with the slots on the page.
    assert (read.status, read.rule, len(read.slots)) == (Status.AVAILABLE, "slot_selector", 2)
    assert (alone.status, alone.rule, alone.slots) == (status, rule, ())


# --- what `creneau parse --explain` will show ---------------------------------------------------


def test_read_from_names_each_slot_element_in_the_order_of_the_slots() -> None:
    reading = parse("plages-slot-selector-only.html", PLAGES).reading
    assert reading.read_from == (
        "main#contenu > ul.plages > li.plage.libre:nth-of-type(1)",
        "main#contenu > ul.plages > li.plage.libre:nth-of-type(2)",
        "main#contenu > ul.plages > li.plage.libre:nth-of-type(3)",
    )
    consulate = parse("consulate-list-4-slots.html", CONSULATE).reading
    services = "div#contenu > div.services > ul.creneaux"
    assert list(zip([s.key for s in consulate.slots], consulate.read_from, strict=True)) == [
        ("/rdv/reserver/4411", f"{services}:nth-of-type(1) > li:nth-of-type(1)"),
        ("/rdv/reserver/5102", f"{services}:nth-of-type(2) > li:nth-of-type(1)"),
        ("/rdv/reserver/4415", f"{services}:nth-of-type(1) > li:nth-of-type(2)"),
        ("/rdv/reserver/5107", f"{services}:nth-of-type(2) > li:nth-of-type(2)"),
    ]


def test_a_long_path_keeps_its_end() -> None:
    deep = "".join(f'<div class="niveau-{n} {"x" * 30}">' for n in range(8))
    markup = f'{deep}<span class="plage libre">08/12/2026 09:30</span>{"</div>" * 8}'
    target = html.Target(name="t", url="https://x", slot_selector="span.plage")
    (origin,) = html.parse_page(Page("https://x", 200, markup.encode()), target).read_from
    assert len(origin) == html.READ_FROM_LIMIT
    assert origin.startswith("…")
    assert origin.endswith("> span.plage.libre")


# --- settings checked at config time -----------------------------------------------------------


def problems(**fields: Any) -> list[str]:
    data = {"name": "t", "url": "https://example.org/rdv", **fields}
    with pytest.raises(ValidationError) as failure:
        html.Target(**data)
    assert isinstance(failure.value, ValueError)  # what config.load_config catches and words
    return describe_errors(failure.value, data)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {},
            'give slot_selector (what one slot looks like), none_text (phrases that mean "no '
            'slot") or both',
        ),
        (
            {"none_text": ["aucun"], "guichet_selector": "h2", "slot_time_pattern": "x"},
            "slot_time_pattern and guichet_selector need slot_selector",
        ),
        (
            {"none_text": ["aucun"], "slot_time_selector": "td"},
            "slot_time_selector needs slot_selector",
        ),
        (
            {"none_text": ["aucun"], "slot_time_format": "%d/%m/%Y %H:%M"},
            "slot_time_format needs slot_selector",
        ),
        (
            {"slot_selector": "tr[class="},
            'slot_selector: not a valid CSS selector "tr[class=": '
            "Malformed attribute selector at position 2",
        ),
        (
            {"slot_selector": "li", "slot_time_selector": "td::before"},
            'slot_time_selector: not a valid CSS selector "td::before": '
            "Pseudo-element found at position 2",
        ),
        (
            {"slot_selector": "li", "guichet_selector": "h2,,h3"},
            'guichet_selector: not a valid CSS selector "h2,,h3": '
            "The combinator ',' at position 3, must have a selector before it",
        ),
        (
            {"slot_selector": "li", "slot_time_pattern": r"(\d+"},
            r'slot_time_pattern: not a valid regular expression "(\d+": '
            "missing ), unterminated subpattern at position 0",
        ),
        (
            {"slot_selector": "li", "slot_time_format": "%d/%m %H:%M"},
            'slot_time_format: "%d/%m %H:%M" lacks a year (%Y or %y) (e.g. "%d/%m/%Y %H:%M")',
        ),
        (
            {"slot_selector": "li", "slot_time_format": "%H:%M"},
            'slot_time_format: "%H:%M" lacks a day (%d), a month (%m, %B or %b) and a year '
            '(%Y or %y) (e.g. "%d/%m/%Y %H:%M")',
        ),
        (
            {"slot_selector": "li", "slot_time_format": "%d/%m/%Y %I:%M %p"},
            'slot_time_format: unsupported directive "%I" in "%d/%m/%Y %I:%M %p" '
            "(use %d %m %B %b %Y %y %H %M %S %A %a %%)",
        ),
        (
            {"slot_selector": "li", "slot_time_format": "%d %m %B %Y %H:%M"},
            'slot_time_format: "%d %m %B %Y %H:%M" reads %m more than once',
        ),
        (
            {"none_text": ["aucun", " "]},
            "none_text: a phrase is empty: it would match every page",
        ),
        (
            {"slot_selector": "li", "timezone": "Europe/Pariss"},
            'timezone: unknown time zone "Europe/Pariss" (e.g. "Europe/Paris")',
        ),
    ],
)
def test_bad_settings_give_one_clear_line(fields: dict[str, Any], message: str) -> None:
    assert problems(**fields) == [message]


def test_good_settings_keep_their_defaults() -> None:
    target = html.Target(name="t", url="https://example.org/rdv", slot_selector="li")
    # No slot_time_format: the common forms are read (before issue 13: "%d/%m/%Y %H:%M").
    assert (target.system, target.none_text, target.slot_time_format, target.timezone) == (
        "html",
        [],
        None,
        "Europe/Paris",
    )


def test_unknown_keys_are_refused() -> None:
    assert problems(slot_selector="li", slot_selectr="li") == ["slot_selectr: unknown key"]


# --- anything a site may serve -----------------------------------------------------------------

PHRASE = "aucun créneau"
FUZZ_TARGET = html.Target(
    name="fuzz",
    url="https://example.org/rdv",
    none_text=[PHRASE],
    slot_selector="li.slot",
    slot_time_selector="span.t",
    guichet_selector="h2",
)
FRAGMENTS = st.sampled_from(
    [
        '<li class="slot"><span class="t">02/12/2026 10:15</span></li>',
        "<p>Aucun créneau disponible.</p>",
        "<h2>Guichet A</h2>",
        '<li class="slot">',
        "</li>",
        '<span class="t">',
        "</span>",
        "01/12/2026 09:30",
        "31/02/2026 25:61",
        "<h2>",
        "</h2>",
        "Guichet",
        "aucun",
        "créneau",
        "Aucun",
        " ",
        "<title>",
        "503",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<table><tr><td>",
        "é",
        "&nbsp;",
        "<li class='slot'><span class=t>",
    ]
)
MARKUP = st.lists(st.one_of(FRAGMENTS, FRAGMENTS, st.text(max_size=12)), max_size=30).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(markup=MARKUP, status=st.sampled_from([*[200] * 6, 403, 404, 429, 500, 503]))
def test_any_page_is_read_without_raising_and_none_needs_the_phrase(
    markup: str, status: int
) -> None:
    page = Page("https://example.org/rdv", status, markup.encode("utf-8", "surrogatepass"))
    analysis = html.analyse(page, FUZZ_TARGET)
    reading = analysis.reading
    assert isinstance(reading.status, Status)
    if reading.status is Status.NONE:
        assert fold(PHRASE) in visible_text(page.text)
    if reading.status is Status.AVAILABLE:
        assert reading.slots
    else:
        assert reading.slots == ()


# --- whole checks against the simulated page ---------------------------------------------------


def client() -> PoliteClient:
    return PoliteClient("t@example.org", lambda host: HostBudget(6000, 60), retry_backoff=0.01)


SIM_SETTINGS: dict[str, dict[str, Any]] = {
    "prefecture": PREFECTURE_SETTINGS,
    "consulate": CONSULATE_SETTINGS,
    "plages": {"slot_selector": "li.plage.libre"},
}


def sim_target(server: SimulatorServer, site: HtmlBookingSite) -> html.Target:
    settings = SIM_SETTINGS[site.layout]
    return html.Target(name=f"sim-{site.layout}", url=f"{server.url}{site.path}", **settings)


async def check(server: SimulatorServer, site: HtmlBookingSite) -> FlowOutcome:
    target = sim_target(server, site)
    async with client().session(target.name, target.url) as session:
        return await html.check(target, session)


@pytest.fixture
def prefecture_site() -> HtmlBookingSite:
    return HtmlBookingSite("prefecture", today=date(2026, 10, 22))  # a Thursday


@pytest.fixture
def consulate_site() -> HtmlBookingSite:
    return HtmlBookingSite("consulate", "/consulat/rdv", zone=GENEVA, today=date(2027, 3, 25))


def page_hits(server: SimulatorServer) -> list[tuple[str, str, int]]:
    """What creneau asked the site, robots.txt aside (the HTTP client's business)."""
    return [(h.method, h.path, h.status) for h in server.hits if h.path != "/robots.txt"]


def outcome_slots(outcome: FlowOutcome) -> list[tuple[str, str, str]]:
    return sorted(
        (slot.guichet_id, slot.start.isoformat(), slot.key)
        for guichet in outcome.guichets
        for slot in guichet.slots
    )


async def test_released_slots_are_found_exactly_with_one_request(
    prefecture_site: HtmlBookingSite,
) -> None:
    first = prefecture_site.release("guichet-1-remise-de-titre", 6)
    other = prefecture_site.release("guichet-3-etudiants", 1)
    with SimulatorServer(sites=[prefecture_site]) as server:
        outcome = await check(server, prefecture_site)
        hits = page_hits(server)
    assert outcome.status is Status.AVAILABLE
    assert outcome_slots(outcome) == sorted(
        (slot.guichet_id, slot.start.isoformat(), f"/rendez-vous/choisir?creneau={slot.number}")
        for slot in [*first, *other]
    )
    # Friday before the October clock change, then Monday after it.
    assert [slot.start.isoformat() for slot in first][-2:] == [
        "2026-10-23T15:45:00+02:00",
        "2026-10-26T09:00:00+01:00",
    ]
    assert [(g.id, g.label, g.status) for g in outcome.guichets] == [
        ("guichet-1-remise-de-titre", "Guichet 1 – Remise de titre", Status.AVAILABLE),
        ("guichet-3-etudiants", "Guichet 3 – Étudiants", Status.AVAILABLE),
    ]
    assert hits == [("GET", "/rendez-vous", 200)]
    assert prefecture_site.violations == []


async def test_taken_slots_disappear_and_then_the_page_says_none(
    prefecture_site: HtmlBookingSite,
) -> None:
    released = prefecture_site.release("guichet-3-etudiants", 3)
    prefecture_site.take("guichet-3-etudiants", 2)
    with SimulatorServer(sites=[prefecture_site]) as server:
        left = await check(server, prefecture_site)
        prefecture_site.take("guichet-3-etudiants")
        none = await check(server, prefecture_site)
    assert [key for _, _, key in outcome_slots(left)] == [
        f"/rendez-vous/choisir?creneau={released[2].number}"
    ]
    assert (none.status, english(none.detail)) == (Status.NONE, NONE_DETAIL_PREFECTURE)
    assert [(g.id, g.status) for g in none.guichets] == [("page", Status.NONE)]


async def test_consulate_lists_slots_per_service_in_its_own_zone(
    consulate_site: HtmlBookingSite,
) -> None:
    visas = consulate_site.release("visas", 6)
    with SimulatorServer(sites=[consulate_site]) as server:
        outcome = await check(server, consulate_site)
    assert outcome.status is Status.AVAILABLE
    assert outcome_slots(outcome) == [
        ("visas", slot.start.isoformat(), f"/consulat/rdv/reserver/{slot.number}") for slot in visas
    ]
    assert [slot.start.isoformat() for slot in visas][4:] == [
        "2027-03-26T15:45:00+01:00",
        "2027-03-29T09:00:00+02:00",  # Geneva's clocks went forward on the Sunday
    ]
    assert [(g.id, g.status, english(g.detail)) for g in outcome.guichets] == [
        ("passeports-et-cartes-d-identite", Status.NONE, "no slot listed for this guichet"),
        ("visas", Status.AVAILABLE, ""),
    ]


async def test_a_consulate_without_slots_says_none_for_each_service(
    consulate_site: HtmlBookingSite,
) -> None:
    with SimulatorServer(sites=[consulate_site]) as server:
        outcome = await check(server, consulate_site)
    assert outcome.status is Status.NONE
    assert [(g.id, g.status) for g in outcome.guichets] == [
        ("passeports-et-cartes-d-identite", Status.NONE),
        ("visas", Status.NONE),
    ]


@pytest.mark.parametrize(
    ("behaviour", "status"),
    [
        ("changed", Status.UNKNOWN),
        ("forbidden", Status.BLOCKED),
        ("rate-limited", Status.BLOCKED),
        ("unavailable", Status.OVERLOADED),
        ("overloaded", Status.OVERLOADED),
        ("maintenance", Status.CLOSED),
        ("captcha", Status.CAPTCHA),
    ],
)
@pytest.mark.parametrize("layout", ["prefecture", "consulate", "plages"])
async def test_a_page_that_is_not_the_listing_is_never_read_as_none(
    layout: Layout, behaviour: str, status: Status
) -> None:
    site = HtmlBookingSite(layout, today=date(2026, 10, 22))
    site.release(site.guichets[0].id, 2)
    site.set_behaviour(behaviour)
    with SimulatorServer(sites=[site]) as server:
        outcome = await check(server, site)
        hits = page_hits(server)
    assert (outcome.status, outcome.guichets) == (status, ())
    assert {(method, path) for method, path, _ in hits} == {("GET", "/rendez-vous")}
    assert site.violations == []


async def test_a_changed_layout_without_slots_is_unknown_too(
    prefecture_site: HtmlBookingSite,
) -> None:
    prefecture_site.set_behaviour("changed")
    with SimulatorServer(sites=[prefecture_site]) as server:
        outcome = await check(server, prefecture_site)
    assert outcome.status is Status.UNKNOWN
    assert english(outcome.detail).endswith("the layout may have changed")


def test_the_simulator_refuses_unknown_behaviours_and_guichets() -> None:
    site = HtmlBookingSite()
    with pytest.raises(ValueError, match="unknown behaviour 'broken'"):
        site.set_behaviour("broken")
    with pytest.raises(KeyError, match="no guichet 'nope'"):
        site.release("nope", 1)


def test_simulated_dates_are_written_as_prefectures_write_them() -> None:
    assert french_long(datetime(2026, 12, 1, 9, 30, tzinfo=PARIS)) == (
        "mardi 1er décembre 2026 à 9h30"
    )
    assert french_long(datetime(2026, 8, 15, 14, 0, tzinfo=PARIS)) == "samedi 15 août 2026 à 14h"


def test_the_plages_are_written_as_the_issue_writes_them() -> None:
    assert french_human(datetime(2026, 12, 8, 9, 30, tzinfo=PARIS)) == (
        "mardi 8 décembre 2026 à 09h30"
    )


# --- only a slot_selector, against the simulated page (issue 13, point 11) ----------------------


async def check_with(
    server: SimulatorServer, site: HtmlBookingSite, **settings: Any
) -> FlowOutcome:
    target = html.Target(name="seul", url=f"{server.url}{site.path}", **settings)
    async with client().session(target.name, target.url) as session:
        return await html.check(target, session)


async def test_a_slot_selector_is_all_the_plages_page_needs() -> None:
    site = HtmlBookingSite("plages", "/rdv/plages", today=date(2026, 12, 4))  # a Friday
    released = site.release("page", 3)
    with SimulatorServer(sites=[site]) as server:
        outcome = await check_with(server, site, slot_selector="li.plage.libre")
        site.take("page")
        emptied = await check_with(server, site, slot_selector="li.plage.libre")
    assert outcome.status is Status.AVAILABLE
    assert outcome_slots(outcome) == [
        ("page", slot.start.isoformat(), f"/rdv/plages/reserver/{slot.number}") for slot in released
    ]
    assert [slot.start.isoformat() for slot in released] == [
        "2026-12-07T09:00:00+01:00",
        "2026-12-07T09:30:00+01:00",
        "2026-12-07T10:15:00+01:00",
    ]
    # No slot, and no phrase given that says so: unknown, never none.
    assert (emptied.status, emptied.guichets) == (Status.UNKNOWN, ())
    assert site.violations == []


@pytest.mark.parametrize(
    ("layout", "selector"),
    [("prefecture", "table.rdv-disponibles tbody tr"), ("consulate", "ul.creneaux li")],
)
async def test_the_other_layouts_need_no_time_settings_either(
    layout: Layout, selector: str
) -> None:
    site = HtmlBookingSite(layout, today=date(2026, 10, 22))
    released = site.release(site.guichets[1].id, 4)
    with SimulatorServer(sites=[site]) as server:
        outcome = await check_with(server, site, slot_selector=selector)
    booking = "choisir?creneau=" if layout == "prefecture" else "reserver/"
    assert outcome.status is Status.AVAILABLE
    assert outcome_slots(outcome) == [
        ("page", slot.start.isoformat(), f"{site.path}/{booking}{slot.number}") for slot in released
    ]


@pytest.mark.parametrize("behaviour", ["maintenance-notice", "busy-notice"])
@pytest.mark.parametrize("layout", ["prefecture", "consulate", "plages"])
async def test_slots_under_a_banner_are_available(layout: Layout, behaviour: str) -> None:
    # Before issue 13 the banner won: closed or overloaded, the slots unannounced.
    site = HtmlBookingSite(layout, today=date(2026, 10, 22))
    released = site.release(site.guichets[0].id, 2)
    site.set_behaviour(behaviour)
    with SimulatorServer(sites=[site]) as server:
        outcome = await check(server, site)
    assert outcome.status is Status.AVAILABLE
    assert [start for _, start, _ in outcome_slots(outcome)] == [
        slot.start.isoformat() for slot in released
    ]
    assert "a banner is on the page too" in english(outcome.detail)
