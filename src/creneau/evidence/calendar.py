"""The period as a calendar picture (calendar.svg, and inline in summary.html): one cell a
local day, one row an ISO week (Monday first, its number at the left), each cell coloured by
what the day saw (`DayOutcome`) and marked with a sign that tells the same in black and white,
its day of the month in the corner and its counts in a tooltip. French or English.

`OUTCOME_COLOURS`, `OUTCOME_MARKS` and `OUTCOME_LABELS` are what the cells mean, for any other
drawing of the same calendar (the PDF). Same conventions as the history heatmap
(creneau.history.svg): a standalone SVG, white background, every text escaped."""

from __future__ import annotations

from datetime import date

from creneau.dates import MONTHS, SHORT_WEEKDAYS, WEEKDAYS
from creneau.evidence.coverage import Coverage, DayCoverage, DayOutcome, WeekCoverage
from creneau.evidence.times import plural
from creneau.terminal import html_text

OUTCOME_COLOURS: dict[DayOutcome, str] = {
    DayOutcome.SLOTS: "#1a7f3c",
    DayOutcome.NO_SLOT: "#c62828",
    DayOutcome.NO_ANSWER: "#f6d860",
    DayOutcome.NOT_TRIED: "#ffffff",
}
# The sign in each cell: the calendar reads the same printed in black and white.
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
WEEK_LETTER = {"fr": "S", "en": "W"}
SHORT_DAYS = {"fr": ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"), "en": SHORT_WEEKDAYS}
TITLE = {
    "fr": "Tentatives par jour, du {first} au {last}",
    "en": "Attempts per day, {first} to {last}",
}
LEGEND_DAYS = {"fr": ("jour", "jours"), "en": ("day", "days")}

CELL_W, CELL_H = 46, 40
LEFT, TOP = 84, 62  # room for the week labels, the title and the weekday names
LEGEND_LINE = 22
WIDTH = 520


def calendar_svg(coverage: Coverage, language: str) -> str:
    """The period as a standalone SVG calendar, its texts in `language` ("fr" or "en")."""
    rows = coverage.calendar()
    legend_top = TOP + len(rows) * CELL_H + 18
    height = legend_top + len(DayOutcome) * LEGEND_LINE + 8
    title = TITLE[language].format(
        first=_long_day(coverage.days[0].day, language),
        last=_long_day(coverage.days[-1].day, language),
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11" '
        f'role="img" aria-label="{html_text(title)}">',
        f"<title>{html_text(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="20" font-size="14" font-weight="bold">{html_text(title)}</text>',
        *_weekday_names(language),
    ]
    for index, (week, cells) in enumerate(zip(coverage.weeks, rows, strict=True)):
        top = TOP + index * CELL_H
        parts.append(_week_label(week, top, language))
        parts += [
            _cell(day, LEFT + n * CELL_W, top, language) for n, day in enumerate(cells) if day
        ]
    parts += _legend(coverage, legend_top, language)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _long_day(day: date, language: str) -> str:
    """'2 novembre 2026' / '2 November 2026'."""
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


def _weekday_names(language: str) -> list[str]:
    return [
        f'<text x="{LEFT + (n + 0.5) * CELL_W}" y="{TOP - 8}" text-anchor="middle">'
        f"{html_text(name)}</text>"
        for n, name in enumerate(SHORT_DAYS[language])
    ]


def _week_label(week: WeekCoverage, top: int, language: str) -> str:
    """'S45' with its Monday under it ('02/11/2026', '2026-11-02')."""
    monday = week.monday.strftime("%d/%m/%Y" if language == "fr" else "%Y-%m-%d")
    return (
        f'<text x="{LEFT - 8}" y="{top + 17}" text-anchor="end" font-weight="bold">'
        f"{WEEK_LETTER[language]}{week.week:02d}</text>"
        f'<text x="{LEFT - 8}" y="{top + 31}" text-anchor="end" font-size="9">{monday}</text>'
    )


def _cell(day: DayCoverage, x: int, y: int, language: str) -> str:
    outcome = day.outcome
    ink = OUTCOME_INK[outcome]
    dashed = ' stroke-dasharray="3 2"' if outcome == DayOutcome.NOT_TRIED else ""
    return (
        f'<g data-day="{day.day.isoformat()}" data-outcome="{outcome.value}">'
        f"<title>{html_text(_tooltip(day, language))}</title>"
        f'<rect x="{x + 1}" y="{y + 1}" width="{CELL_W - 2}" height="{CELL_H - 2}" '
        f'fill="{OUTCOME_COLOURS[outcome]}" stroke="#555555"{dashed}/>'
        f'<text x="{x + 5}" y="{y + 13}" font-size="10" fill="{ink}">{day.day.day}</text>'
        f'<text x="{x + CELL_W / 2}" y="{y + 31}" text-anchor="middle" font-size="15" '
        f'fill="{ink}">{OUTCOME_MARKS[outcome]}</text></g>'
    )


def _tooltip(day: DayCoverage, language: str) -> str:
    """'mardi 3 novembre 2026 : 12 tentatives (aucun créneau : 10 ; …)'."""
    name = f"{WEEKDAYS[language][day.day.weekday()]} {_long_day(day.day, language)}"
    labels = OUTCOME_LABELS[language]
    if language == "fr":
        if not day.attempts:
            return f"{name} : aucune tentative"
        return (
            f"{name} : {plural(day.attempts, 'tentative', 'tentatives')} "
            f"({labels[DayOutcome.NO_SLOT]} : {day.no_slot} ; "
            f"{labels[DayOutcome.SLOTS]} : {day.slots} ; sans réponse lisible : {day.no_answer})"
        )
    if not day.attempts:
        return f"{name}: no attempt"
    return (
        f"{name}: {plural(day.attempts, 'attempt', 'attempts')} "
        f"({labels[DayOutcome.NO_SLOT]}: {day.no_slot}; {labels[DayOutcome.SLOTS]}: "
        f"{day.slots}; no readable answer: {day.no_answer})"
    )


def _legend(coverage: Coverage, top: int, language: str) -> list[str]:
    """One line per outcome: its swatch and sign, what it means and how many days."""
    one, many = LEGEND_DAYS[language]
    colon = " : " if language == "fr" else ": "
    lines = []
    for n, outcome in enumerate(DayOutcome):
        y = top + n * LEGEND_LINE
        days = sum(1 for day in coverage.days if day.outcome == outcome)
        # French counts none as one: « 0 jour ».
        count = f"{days} {one}" if language == "fr" and days == 0 else plural(days, one, many)
        label = f"{OUTCOME_LABELS[language][outcome]}{colon}{count}"
        dashed = ' stroke-dasharray="3 2"' if outcome == DayOutcome.NOT_TRIED else ""
        lines.append(
            f'<g data-legend="{outcome.value}">'
            f'<rect x="8" y="{y}" width="24" height="18" fill="{OUTCOME_COLOURS[outcome]}" '
            f'stroke="#555555"{dashed}/>'
            f'<text x="20" y="{y + 14}" text-anchor="middle" font-size="13" '
            f'fill="{OUTCOME_INK[outcome]}">{OUTCOME_MARKS[outcome]}</text>'
            f'<text x="40" y="{y + 13}">{html_text(label)}</text></g>'
        )
    return lines
