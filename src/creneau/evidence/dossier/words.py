"""The dossier's own words in French and English: the coverage figures, the calendar's
legend, the hours tried.

TO REPLACE when they land on main (the lead switches): `coverage_warning` by
creneau.evidence.texts.coverage_warning, and OUTCOME_COLOURS / OUTCOME_LABELS by those of
creneau.evidence.calendar (helper "cover" writes both in parallel)."""

from __future__ import annotations

from creneau.dates import MONTHS, WEEKDAYS
from creneau.evidence.coverage import MIN_DAYS, MIN_WEEKS, Coverage, DayOutcome, Thinness
from creneau.evidence.times import plural

# TO REPLACE by creneau.evidence.calendar's (cover helper): fill colour and a mark each, so
# that the calendar also reads printed in black and white.
OUTCOME_COLOURS = {
    DayOutcome.SLOTS: "#9be39b",
    DayOutcome.NO_SLOT: "#f4a6a6",
    DayOutcome.NO_ANSWER: "#f8d77a",
    DayOutcome.NOT_TRIED: "#ffffff",
}
OUTCOME_MARKS = {
    DayOutcome.SLOTS: "✓",
    DayOutcome.NO_SLOT: "✗",
    DayOutcome.NO_ANSWER: "?",
    DayOutcome.NOT_TRIED: "·",
}
OUTCOME_LABELS = {
    "fr": {
        DayOutcome.SLOTS: "au moins un créneau proposé",
        DayOutcome.NO_SLOT: "le site a dit qu'il n'y avait aucun créneau",
        DayOutcome.NO_ANSWER: "tenté, sans voir les disponibilités",
        DayOutcome.NOT_TRIED: "aucune tentative",
    },
    "en": {
        DayOutcome.SLOTS: "at least one slot offered",
        DayOutcome.NO_SLOT: "the site said there was no slot",
        DayOutcome.NO_ANSWER: "tried, availability not seen",
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
