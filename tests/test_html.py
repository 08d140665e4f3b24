"""The `html` system: target settings checked at config time, French dates, every saved page
parsed exactly, pages it cannot recognise never read as "no slot", and whole checks against
the simulated page (loopback only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES
from creneau.config import describe_errors
from creneau.http import HostBudget, PoliteClient
from creneau.page import Page
from creneau.results import Status
from creneau.simulator.html import HtmlBookingSite, Layout, french_long
from creneau.simulator.server import SimulatorServer
from creneau.sources import FlowOutcome, html
from creneau.sources.common import fold, visible_text

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
    return html.analyse(page, target)


def guichets_of(analysis: html.Analysis) -> list[tuple[str, str, Status, str]]:
    return [(g.id, g.label, g.status, g.detail) for g in analysis.guichets]


def slots_of(analysis: html.Analysis) -> list[tuple[str, str, str]]:
    return [(s.guichet_id, s.start.isoformat(), s.key) for s in analysis.reading.slots]


# --- every saved page, parsed exactly ----------------------------------------------------------

NONE_DETAIL_PREFECTURE = 'the page says "Aucun rendez-vous n\'est disponible"'
NONE_DETAIL_CONSULATE = 'the page says "aucun créneau disponible"'
EXPECTED: dict[str, tuple[html.Target, str, Status, str, list[Any], list[Any]]] = {
    "prefecture-table-3-slots.html": (
        PREFECTURE,
        "slots",
        Status.AVAILABLE,
        "3 slots at 2 guichets",
        [(*GUICHET_2, Status.AVAILABLE, ""), (*GUICHET_5, Status.AVAILABLE, "")],
        [
            (GUICHET_2[0], "2026-10-23T14:15:00+02:00", f"{CHOOSE}88121"),
            (GUICHET_5[0], "2026-10-27T09:00:00+01:00", f"{CHOOSE}88122"),
            (GUICHET_2[0], "2026-12-01T09:30:00+01:00", f"{CHOOSE}88207"),
        ],
    ),
    "prefecture-table-unreadable-time.html": (
        PREFECTURE,
        "slots",
        Status.AVAILABLE,
        "1 slot at 2 guichets; Guichet 2 – Remise de titre: 1 slot unread: cannot read the time "
        'of "Date à confirmer"; Guichet 5 – Étudiants: cannot read the time of '
        '"Horaire communiqué par courriel"',
        [
            (
                *GUICHET_2,
                Status.AVAILABLE,
                '1 slot unread: cannot read the time of "Date à confirmer"',
            ),
            (
                *GUICHET_5,
                Status.UNKNOWN,
                'cannot read the time of "Horaire communiqué par courriel"',
            ),
        ],
        [(GUICHET_2[0], "2026-10-29T10:45:00+01:00", f"{CHOOSE}88140")],
    ),
    "prefecture-table-no-slot.html": (
        PREFECTURE,
        "no-slot",
        Status.NONE,
        NONE_DETAIL_PREFECTURE,
        [("page", "nanterre-titres", Status.NONE, NONE_DETAIL_PREFECTURE)],
        [],
    ),
    "prefecture-changed-layout.html": (
        PREFECTURE,
        "unknown",
        Status.UNKNOWN,
        'no element matches slot_selector "table.rdv-disponibles tbody tr" and none of the '
        'none_text phrases is on the page ("Aucun rendez-vous n\'est disponible"): '
        "the layout may have changed",
        [],
        [],
    ),
    "prefecture-overloaded.html": (
        PREFECTURE,
        "overloaded",
        Status.OVERLOADED,
        "the site says it is overloaded",
        [],
        [],
    ),
    "prefecture-maintenance.html": (
        PREFECTURE,
        "closed",
        Status.CLOSED,
        'the site says: "service est actuellement en maintenance"',
        [],
        [],
    ),
    "consulate-list-4-slots.html": (
        CONSULATE,
        "slots",
        Status.AVAILABLE,
        "4 slots at 3 guichets",
        [
            (*PASSEPORTS, Status.AVAILABLE, ""),
            (*ETAT_CIVIL, Status.NONE, "no slot listed for this guichet"),
            (*VISAS, Status.AVAILABLE, ""),
        ],
        [
            (PASSEPORTS[0], "2027-03-26T09:30:00+01:00", "/rdv/reserver/4411"),
            (VISAS[0], "2027-03-29T08:45:00+02:00", "/rdv/reserver/5102"),
            (PASSEPORTS[0], "2027-03-30T14:00:00+02:00", "/rdv/reserver/4415"),
            (VISAS[0], "2027-04-02T10:00:00+02:00", "/rdv/reserver/5107"),
        ],
    ),
    "consulate-list-no-slot.html": (
        CONSULATE,
        "no-slot",
        Status.NONE,
        NONE_DETAIL_CONSULATE,
        [
            (*PASSEPORTS, Status.NONE, NONE_DETAIL_CONSULATE),
            (*ETAT_CIVIL, Status.NONE, NONE_DETAIL_CONSULATE),
            (*VISAS, Status.NONE, NONE_DETAIL_CONSULATE),
        ],
        [],
    ),
    "consulate-captcha.html": (
        CONSULATE,
        "captcha",
        Status.CAPTCHA,
        "the site asks for a CAPTCHA",
        [],
        [],
    ),
    "consulate-forbidden-403.html": (
        CONSULATE,
        "forbidden",
        Status.BLOCKED,
        "HTTP 403: the site refuses our requests",
        [],
        [],
    ),
    "consulate-unavailable-503.html": (
        CONSULATE,
        "server-error",
        Status.OVERLOADED,
        "HTTP 503 from the site",
        [],
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_saved_page_is_parsed_exactly(name: str) -> None:
    target, kind, status, detail, guichets, slots = EXPECTED[name]
    analysis = parse(name, target)
    reading = analysis.reading
    assert (reading.kind, reading.status, reading.detail) == (kind, status, detail)
    assert guichets_of(analysis) == guichets
    assert slots_of(analysis) == slots
    assert [(c.id, c.label) for c in reading.choices] == [(g[0], g[1]) for g in guichets]
    assert html.parse_page(Page.from_file(PAGES / name), target) == reading


def test_every_fixture_is_covered_by_a_test() -> None:
    assert {path.name for path in PAGES.iterdir()} == set(EXPECTED)


def test_without_a_guichet_selector_the_page_is_one_guichet_named_after_the_target() -> None:
    target = PREFECTURE.model_copy(update={"guichet_selector": None})
    analysis = parse("prefecture-table-3-slots.html", target)
    assert guichets_of(analysis) == [("page", "nanterre-titres", Status.AVAILABLE, "")]
    assert slots_of(analysis) == [
        ("page", "2026-10-23T14:15:00+02:00", f"{CHOOSE}88121"),
        ("page", "2026-10-27T09:00:00+01:00", f"{CHOOSE}88122"),
        ("page", "2026-12-01T09:30:00+01:00", f"{CHOOSE}88207"),
    ]
    assert analysis.reading.detail == "3 slots"


def test_unreadable_slots_are_counted_when_others_were_read() -> None:
    target = PREFECTURE.model_copy(update={"guichet_selector": None})
    analysis = parse("prefecture-table-unreadable-time.html", target)
    detail = '2 slots unread: cannot read the time of "Date à confirmer" (and 1 more)'
    assert guichets_of(analysis) == [("page", "nanterre-titres", Status.AVAILABLE, detail)]
    assert analysis.reading.detail == f"1 slot; {detail}"


def test_a_page_of_slots_whose_times_are_all_unreadable_is_unknown_not_none() -> None:
    target = PREFECTURE.model_copy(update={"slot_time_format": "%d/%m/%Y %H:%M"})
    analysis = parse("prefecture-table-3-slots.html", target)
    assert analysis.reading.status is Status.UNKNOWN
    assert analysis.reading.kind == "unreadable-slots"
    assert analysis.reading.slots == ()
    assert guichets_of(analysis) == [
        (
            *GUICHET_2,
            Status.UNKNOWN,
            'cannot read the time of "vendredi 23 octobre 2026 à 14h15" (and 1 more)',
        ),
        (*GUICHET_5, Status.UNKNOWN, 'cannot read the time of "mardi 27 octobre 2026 à 9h"'),
    ]


def test_a_slot_without_its_time_element_is_reported_with_its_text() -> None:
    target = PREFECTURE.model_copy(update={"slot_time_selector": "td.heure"})
    analysis = parse("prefecture-table-3-slots.html", target)
    assert analysis.guichets[1].status is Status.UNKNOWN
    assert analysis.guichets[1].detail == (
        'cannot read the time of "Guichet 5 – Étudiants mardi 27 octobre 2026 à 9h Choisir ce '
        'créneau"'
    )


def test_the_same_page_without_the_none_phrase_configured_is_unknown() -> None:
    target = PREFECTURE.model_copy(update={"none_text": []})
    reading = parse("prefecture-table-no-slot.html", target).reading
    # The "no slot" row now reads as a slot whose time is unreadable: unknown, never none.
    assert (reading.kind, reading.status) == ("unreadable-slots", Status.UNKNOWN)
    assert reading.detail.startswith('0 slots; cannot read the time of "Aucun rendez-vous')


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
    assert (reading.kind, reading.status, reading.detail) == (
        "no-target",
        Status.UNKNOWN,
        "the html system needs a target's selectors and phrases to read a page",
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
    assert (target.system, target.none_text, target.slot_time_format, target.timezone) == (
        "html",
        [],
        "%d/%m/%Y %H:%M",
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


def sim_target(server: SimulatorServer, site: HtmlBookingSite) -> html.Target:
    settings = PREFECTURE_SETTINGS if site.layout == "prefecture" else CONSULATE_SETTINGS
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
    assert (none.status, none.detail) == (Status.NONE, NONE_DETAIL_PREFECTURE)
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
    assert [(g.id, g.status, g.detail) for g in outcome.guichets] == [
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
@pytest.mark.parametrize("layout", ["prefecture", "consulate"])
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
    assert outcome.detail.endswith("the layout may have changed")


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
