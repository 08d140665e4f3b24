"""The calendar picture of a period (issue 27): one cell a day in its ISO week's row, the
colour and the black-and-white sign of each outcome, the labels in French and English, every
text escaped, and XML that parses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from creneau.evidence.calendar import (
    OUTCOME_COLOURS,
    OUTCOME_LABELS,
    OUTCOME_MARKS,
    calendar_svg,
)
from creneau.evidence.coverage import Coverage, DayCoverage, DayOutcome, WeekCoverage

SVG = "{http://www.w3.org/2000/svg}"


def day(day_: date, no_slot: int = 0, slots: int = 0, no_answer: int = 0) -> DayCoverage:
    return DayCoverage(day_, no_slot + slots + no_answer, no_slot, slots, no_answer, None, None)


# Wednesday 4 to Tuesday 10 November 2026: the end of 2026-W45 and the start of 2026-W46.
COVERAGE = Coverage(
    days=(
        day(date(2026, 11, 4), no_slot=12, no_answer=2),
        day(date(2026, 11, 5)),
        day(date(2026, 11, 6), slots=1, no_slot=3),
        day(date(2026, 11, 7), no_answer=4),
        day(date(2026, 11, 8)),
        day(date(2026, 11, 9), no_slot=1),
        day(date(2026, 11, 10)),
    ),
    weeks=(
        WeekCoverage(2026, 45, date(2026, 11, 2), 22, 3),
        WeekCoverage(2026, 46, date(2026, 11, 9), 1, 1),
    ),
    hours=(0,) * 24,
    slots_offered=True,
)


def cells(svg: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if "data-day" in g.attrib]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def test_one_cell_a_day_coloured_and_marked_by_its_outcome() -> None:
    drawn = cells(calendar_svg(COVERAGE, "fr"))
    assert [(g.attrib["data-day"], g.attrib["data-outcome"]) for g in drawn] == [
        ("2026-11-04", "no_slot"),
        ("2026-11-05", "not_tried"),
        ("2026-11-06", "slots"),
        ("2026-11-07", "no_answer"),
        ("2026-11-08", "not_tried"),
        ("2026-11-09", "no_slot"),
        ("2026-11-10", "not_tried"),
    ]
    fills = [g.find(f"{SVG}rect").attrib["fill"] for g in drawn]  # type: ignore[union-attr]
    assert fills == ["#c62828", "#ffffff", "#1a7f3c", "#f6d860", "#ffffff", "#c62828", "#ffffff"]
    assert [texts(g) for g in drawn] == [
        ["4", "×"],
        ["5", ""],
        ["6", "●"],
        ["7", "?"],
        ["8", ""],
        ["9", "×"],
        ["10", ""],
    ]
    # Each outcome has its own colour and its own sign: black and white tells them apart.
    assert len(set(OUTCOME_COLOURS.values())) == len(set(OUTCOME_MARKS.values())) == 4
    assert set(OUTCOME_COLOURS) == set(OUTCOME_MARKS) == set(DayOutcome)


def test_rows_are_iso_weeks_monday_first() -> None:
    svg = calendar_svg(COVERAGE, "fr")
    drawn = cells(svg)
    x = {g.attrib["data-day"]: float(g.find(f"{SVG}rect").attrib["x"]) for g in drawn}  # type: ignore[union-attr]
    y = {g.attrib["data-day"]: float(g.find(f"{SVG}rect").attrib["y"]) for g in drawn}  # type: ignore[union-attr]
    assert x["2026-11-09"] < x["2026-11-04"] < x["2026-11-08"]  # Monday, Wednesday, Sunday
    assert x["2026-11-10"] == x["2026-11-09"] + 46
    assert y["2026-11-04"] == y["2026-11-08"] < y["2026-11-09"] == y["2026-11-10"]
    root_texts = texts(ET.fromstring(svg))
    assert "S45" in root_texts
    assert "S46" in root_texts
    assert "02/11/2026" in root_texts
    assert "09/11/2026" in root_texts
    assert [t for t in root_texts if t in {"lun", "mar", "mer", "jeu", "ven", "sam", "dim"}] == [
        "lun",
        "mar",
        "mer",
        "jeu",
        "ven",
        "sam",
        "dim",
    ]
    english = texts(ET.fromstring(calendar_svg(COVERAGE, "en")))
    assert "W45" in english
    assert "2026-11-09" in english
    assert "S45" not in english


@pytest.mark.parametrize(
    ("language", "title", "tooltips", "legend"),
    [
        (
            "fr",
            "Tentatives par jour, du 4 novembre 2026 au 10 novembre 2026",
            [
                "mercredi 4 novembre 2026 : 14 tentatives (aucun créneau (le site l'indique) : "
                "12 ; créneaux proposés : 0 ; sans réponse lisible : 2)",
                "jeudi 5 novembre 2026 : aucune tentative",
            ],
            [
                "créneaux proposés : 1 jour",
                "aucun créneau (le site l'indique) : 2 jours",
                "tentatives sans réponse lisible (refus, surcharge, erreur…) : 1 jour",
                "aucune tentative : 3 jours",
            ],
        ),
        (
            "en",
            "Attempts per day, 4 November 2026 to 10 November 2026",
            [
                "Wednesday 4 November 2026: 14 attempts (no slot (the site said so): 12; "
                "slots offered: 0; no readable answer: 2)",
                "Thursday 5 November 2026: no attempt",
            ],
            [
                "slots offered: 1 day",
                "no slot (the site said so): 2 days",
                "attempts without a readable answer (refused, overloaded, error…): 1 day",
                "no attempt: 3 days",
            ],
        ),
    ],
)
def test_labels_follow_the_language(
    language: str, title: str, tooltips: list[str], legend: list[str]
) -> None:
    root = ET.fromstring(calendar_svg(COVERAGE, language))
    assert root.find(f"{SVG}title").text == title  # type: ignore[union-attr]
    assert root.attrib["aria-label"] == title
    drawn = cells(calendar_svg(COVERAGE, language))
    assert [g.find(f"{SVG}title").text for g in drawn[:2]] == tooltips  # type: ignore[union-attr]
    keys = [g for g in root.iter(f"{SVG}g") if "data-legend" in g.attrib]
    assert [g.attrib["data-legend"] for g in keys] == [o.value for o in DayOutcome]
    assert [texts(g)[-1] for g in keys] == legend
    assert [texts(g)[0] for g in keys] == ["●", "×", "?", ""]
    assert set(OUTCOME_LABELS[language]) == set(DayOutcome)


def test_the_file_is_well_formed_and_escaped() -> None:
    svg = calendar_svg(COVERAGE, "fr")
    root = ET.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG}svg"
    assert "l&#x27;indique" in svg  # the apostrophe of an attribute-safe text
    assert "<script" not in svg
    assert "url(" not in svg
    assert svg.endswith("</svg>\n")


def test_a_period_without_attempts_counts_its_days_in_each_language() -> None:
    empty = Coverage(
        days=(day(date(2026, 12, 31)), day(date(2027, 1, 1))),
        weeks=(WeekCoverage(2026, 53, date(2026, 12, 28), 0, 0),),
        hours=(0,) * 24,
        slots_offered=False,
    )
    legends = {}
    for language in ("fr", "en"):
        root = ET.fromstring(calendar_svg(empty, language))
        legends[language] = [
            texts(g)[-1] for g in root.iter(f"{SVG}g") if "data-legend" in g.attrib
        ]
    assert legends == {
        "fr": [
            "créneaux proposés : 0 jour",
            "aucun créneau (le site l'indique) : 0 jour",
            "tentatives sans réponse lisible (refus, surcharge, erreur…) : 0 jour",
            "aucune tentative : 2 jours",
        ],
        "en": [
            "slots offered: 0 days",
            "no slot (the site said so): 0 days",
            "attempts without a readable answer (refused, overloaded, error…): 0 days",
            "no attempt: 2 days",
        ],
    }
    assert [g.attrib["data-outcome"] for g in cells(calendar_svg(empty, "en"))] == [
        "not_tried",
        "not_tried",
    ]
