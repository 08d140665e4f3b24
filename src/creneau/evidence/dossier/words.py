"""The dossier's own words in French and English: the calendar's legend, the hours tried,
the warning of a thin record.

TO REPLACE when they land on main (the lead switches; every other module imports them from
here, so the switch is this file only): `coverage_warning` by
creneau.evidence.texts.coverage_warning, and OUTCOME_COLOURS / OUTCOME_MARKS / OUTCOME_INK /
OUTCOME_LABELS by those of creneau.evidence.calendar (helper "cover" writes both in
parallel, with the same names and signatures)."""

from __future__ import annotations

from creneau.dates import MONTHS, WEEKDAYS
from creneau.evidence.coverage import MIN_DAYS, MIN_WEEKS, Coverage, DayOutcome, Thinness
from creneau.evidence.times import plural

# TO REPLACE by creneau.evidence.calendar's (cover helper's branch, same names and values):
# a fill colour, the ink on it, and a mark each, so that the calendar also reads in black and
# white.
OUTCOME_COLOURS: dict[DayOutcome, str] = {
    DayOutcome.SLOTS: "#1a7f3c",
    DayOutcome.NO_SLOT: "#c62828",
    DayOutcome.NO_ANSWER: "#f6d860",
    DayOutcome.NOT_TRIED: "#ffffff",
}
OUTCOME_MARKS: dict[DayOutcome, str] = {
    DayOutcome.SLOTS: "●",
    DayOutcome.NO_SLOT: "×",
    DayOutcome.NO_ANSWER: "?",
    DayOutcome.NOT_TRIED: "",
}
OUTCOME_INK: dict[DayOutcome, str] = {  # the text on each colour
    DayOutcome.SLOTS: "#ffffff",
    DayOutcome.NO_SLOT: "#ffffff",
    DayOutcome.NO_ANSWER: "#000000",
    DayOutcome.NOT_TRIED: "#555555",
}
OUTCOME_LABELS: dict[str, dict[DayOutcome, str]] = {
    "fr": {
        DayOutcome.SLOTS: "créneaux proposés",
        DayOutcome.NO_SLOT: "aucun créneau (le site l'indique)",
        DayOutcome.NO_ANSWER: "tentatives sans réponse lisible (refus, surcharge, erreur…)",
        DayOutcome.NOT_TRIED: "aucune tentative",
    },
    "en": {
        DayOutcome.SLOTS: "slots offered",
        DayOutcome.NO_SLOT: "no slot (the site said so)",
        DayOutcome.NO_ANSWER: "attempts without a readable answer (refused, overloaded, error…)",
        DayOutcome.NOT_TRIED: "no attempt",
    },
}


def coverage_warning(coverage: Coverage, language: str) -> str:
    """TO REPLACE by creneau.evidence.texts.coverage_warning: "" when the record is not
    thinner than the decisions cited."""
    thin = coverage.thinness
    if not thin:
        return ""
    weeks, days = coverage.weeks_tried, coverage.days_tried
    if language == "fr":
        found = []
        if Thinness.FEW_WEEKS in thin:
            found.append(f"{plural(weeks, 'semaine', 'semaines')} ISO (moins de {MIN_WEEKS})")
        if Thinness.FEW_DAYS in thin:
            found.append(f"{plural(days, 'jour', 'jours')} (moins de {MIN_DAYS})")
        return (
            "Attention : ce relevé est plus mince que ceux retenus par les décisions citées : "
            f"des tentatives sur {' et '.join(found)}."
        )
    found = []
    if Thinness.FEW_WEEKS in thin:
        found.append(f"{plural(weeks, 'ISO week', 'ISO weeks')} (fewer than {MIN_WEEKS})")
    if Thinness.FEW_DAYS in thin:
        found.append(f"{plural(days, 'day', 'days')} (fewer than {MIN_DAYS})")
    return (
        "Warning: this record is thinner than those the cited decisions accepted: attempts "
        f"in {' and on '.join(found)}."
    )


def hour_ranges(hours: list[int]) -> str:
    """[8, 9, 10, 14] -> '08:00–10:59, 14:00–14:59' (local hours with an attempt)."""
    runs: list[list[int]] = []
    for hour in hours:
        if runs and hour == runs[-1][-1] + 1:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    return ", ".join(f"{run[0]:02d}:00–{run[-1]:02d}:59" for run in runs) or "—"


def weekday(day_index: int, language: str) -> str:
    return WEEKDAYS[language][day_index]


def month(month_number: int, language: str) -> str:
    return MONTHS[language][month_number - 1]
