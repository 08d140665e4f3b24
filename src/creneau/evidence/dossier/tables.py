"""The dossier's tables: the calendar of the period (one cell a day, one row an ISO week,
Monday first, coloured by what the day saw and marked so it reads in black and white), the
attempts of each day and of each ISO week."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from creneau.dates import WEEKDAYS
from creneau.evidence.calendar import OUTCOME_COLOURS, OUTCOME_INK, OUTCOME_LABELS, OUTCOME_MARKS
from creneau.evidence.coverage import Coverage, DayCoverage, DayOutcome
from creneau.evidence.dossier.printing import BOLD, RULE, SANS, para
from creneau.evidence.facts import Facts

OUTSIDE = colors.HexColor("#e6e6e6")  # a day of the week outside the period
# Every cell's font set: a cell left at ReportLab's default names Helvetica, not embedded.
GRID = [
    ("FONT", (0, 0), (-1, -1), SANS, 8),
    ("GRID", (0, 0), (-1, -1), 0.5, RULE),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
]
HEADER = [("FONT", (0, 0), (-1, 0), BOLD, 8), ("BACKGROUND", (0, 0), (-1, 0), OUTSIDE)]


def calendar(coverage: Coverage, language: str) -> list[Flowable]:
    """The calendar and its legend."""
    header = [para("", "day")] + [para(WEEKDAYS[language][i][:3], "day") for i in range(7)]
    rows: list[list[Paragraph]] = [header]
    style = [*GRID, ("BACKGROUND", (0, 0), (-1, 0), OUTSIDE)]
    for row_index, (week, days) in enumerate(zip(coverage.weeks, coverage.calendar(), strict=True)):
        rows.append([para(week.label, "day")] + [_day_cell(day, language) for day in days])
        for column, day in enumerate(days, start=1):
            fill = colors.HexColor(OUTCOME_COLOURS[day.outcome]) if day else OUTSIDE
            style.append(("BACKGROUND", (column, row_index + 1), (column, row_index + 1), fill))
    table = Table(rows, colWidths=[22 * mm] + [21 * mm] * 7, repeatRows=1)
    table.setStyle(TableStyle(style))
    return [table, Spacer(0, 4), *_legend(language)]


def _day_cell(day: DayCoverage | None, language: str) -> Paragraph:
    if day is None:
        return para("", "day")
    mark = f"{day.day:%d/%m}\n{OUTCOME_MARKS[day.outcome]} {day.attempts}".rstrip()
    return para(mark, "day", keep_newlines=True, ink=OUTCOME_INK[day.outcome])


def _legend(language: str) -> list[Flowable]:
    cells = []
    for outcome in DayOutcome:
        mark = para(OUTCOME_MARKS[outcome], "day", ink=OUTCOME_INK[outcome])
        cells.append([mark, para(OUTCOME_LABELS[language][outcome], "small")])
    table = Table(cells, colWidths=[8 * mm, 80 * mm], hAlign="LEFT")
    style = [
        *GRID[:1],
        ("GRID", (0, 0), (0, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for row, outcome in enumerate(DayOutcome):
        style.append(("BACKGROUND", (0, row), (0, row), colors.HexColor(OUTCOME_COLOURS[outcome])))
    table.setStyle(TableStyle(style))
    number = "nombre de tentatives du jour" if language == "fr" else "the day's attempts"
    return [
        table,
        Spacer(0, 3),
        para(
            f"Chaque case : le jour, la marque, puis le {number}."
            if language == "fr"
            else f"Each cell: the day, the mark, then {number}.",
            "small",
        ),
    ]


DAY_HEADER_FR = ("Date", "Jour", "Tentatives", "Première", "Dernière", "Aucun créneau",
                 "Créneaux", "Sans réponse")  # fmt: skip


def days_table(facts: Facts, coverage: Coverage) -> Table:
    """One row per day with attempts (local times; "—" when known from hourly counts only)."""
    rows: list[Sequence[str]] = [DAY_HEADER_FR]
    for day in coverage.days:
        if not day.attempts:
            continue
        first = day.first.astimezone(facts.zone).strftime("%H:%M") if day.first else "—"
        last = day.last.astimezone(facts.zone).strftime("%H:%M") if day.last else "—"
        rows.append((day.day.strftime("%d/%m/%Y"), WEEKDAYS["fr"][day.day.weekday()],
                     str(day.attempts), first, last, str(day.no_slot), str(day.slots),
                     str(day.no_answer)))  # fmt: skip
    return _plain_table(rows, [22 * mm, 20 * mm, 18 * mm, 17 * mm, 17 * mm, 24 * mm, 17 * mm,
                               22 * mm])  # fmt: skip


def weeks_table(coverage: Coverage) -> Table:
    rows: list[Sequence[str]] = [("Semaine ISO", "Du lundi", "Jours tentés (sur 7)", "Tentatives")]
    for week in coverage.weeks:
        rows.append((week.label, week.monday.strftime("%d/%m/%Y"), str(week.days_tried),
                     str(week.attempts)))  # fmt: skip
    return _plain_table(rows, [30 * mm, 30 * mm, 30 * mm, 30 * mm])


def hours_table(coverage: Coverage) -> Table:
    """Attempts per local hour of the day, 0 to 23."""
    rows: list[Sequence[str]] = [
        [f"{hour}" for hour in range(24)],
        [str(n) for n in coverage.hours],
    ]
    table = Table(rows, colWidths=[7.2 * mm] * 24, hAlign="LEFT")
    table.setStyle(TableStyle([*GRID, *HEADER, ("FONT", (0, 1), (-1, -1), SANS, 6.5),
                               ("FONT", (0, 0), (-1, 0), BOLD, 6.5),
                               ("ALIGN", (0, 0), (-1, -1), "CENTER")]))  # fmt: skip
    return table


def _plain_table(rows: list[Sequence[str]], widths: list[float]) -> Table:
    """Cells drawn as plain strings (no markup is read in them), the header repeated on each
    page."""
    table = Table([list(row) for row in rows], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*GRID, *HEADER, ("FONT", (0, 1), (-1, -1), SANS, 8),
                               ("ALIGN", (2, 1), (-1, -1), "RIGHT")]))  # fmt: skip
    return table
