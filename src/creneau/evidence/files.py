"""The files of an export: summary.html (from the templates), summary.csv, checks.csv,
hours.csv and calendar.svg (the period's calendar, in French), and the manifest of their
SHA-256. Every CSV cell is one line that no spreadsheet
takes for a formula (`creneau.terminal.csv_row`)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from creneau import __version__
from creneau.details import render
from creneau.evidence.calendar import calendar_svg
from creneau.evidence.coverage import Coverage, build_coverage
from creneau.evidence.facts import Facts
from creneau.evidence.texts import coverage_warning, summary_html, verdict_en, verdict_fr
from creneau.evidence.times import hours_compact, iso_local, iso_utc
from creneau.redact import redact
from creneau.terminal import csv_row

MANIFEST = "MANIFEST.sha256"  # every file of the export, the dossier included
RECORD = "RECORD.sha256"  # the files the dossier presents: the record without the dossier
CHECK_COLUMNS = [
    "utc",
    "local",
    "url",
    "status",
    "http_status",
    "slots",
    "detail_fr",  # what the check found, in French then in English, as every statement
    "detail_en",
    "page_sha256",
    "page_file",
]
HOUR_COLUMNS = ["hour_utc", "hour_local", "status", "checks"]


CALENDAR = "calendar.svg"


def write_files(folder: Path, facts: Facts, coverage: Coverage | None = None) -> None:
    """summary.html, summary.csv, checks.csv, hours.csv and calendar.svg; `coverage`: the
    facts' own, when already built."""
    coverage = coverage or build_coverage(facts)
    (folder / "summary.html").write_bytes(summary_html(facts, coverage).encode("utf-8"))
    summary = [["field", "value"], *summary_rows(facts, coverage)]
    (folder / "summary.csv").write_bytes(csv_bytes(summary))
    (folder / CALENDAR).write_bytes(calendar_svg(coverage, "fr").encode("utf-8"))
    (folder / "checks.csv").write_bytes(csv_bytes([CHECK_COLUMNS, *check_rows(facts)]))
    if facts.records.hours:
        (folder / "hours.csv").write_bytes(csv_bytes([HOUR_COLUMNS, *hour_rows(facts)]))


def csv_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(csv_row(row) for row in rows)
    # The BOM lets spreadsheet programs read the accents right.
    return buffer.getvalue().encode("utf-8-sig")


def check_rows(facts: Facts) -> list[list[str]]:
    return [
        [
            iso_utc(check.started_at),
            iso_local(check.started_at, facts.zone),
            facts.url,
            check.status,
            "" if check.http_status is None else str(check.http_status),
            str(check.slot_count),
            redact(render(check.said, "fr", facts.zone)),
            redact(render(check.said, "en", facts.zone)),
            check.page_sha256 or "",
            facts.pages.of(check.page_sha256),
        ]
        for check in facts.checks
    ]


def hour_rows(facts: Facts) -> list[list[str]]:
    return [
        [iso_utc(hour.hour), iso_local(hour.hour, facts.zone), hour.status, str(hour.checks)]
        for hour in facts.records.hours
    ]


def summary_rows(facts: Facts, coverage: Coverage | None = None) -> list[list[str]]:
    """The facts, one per row; `coverage`: the facts' own, when already built."""
    coverage = coverage or build_coverage(facts)

    def when(at: datetime | None) -> str:
        return iso_utc(at) if at else ""

    rows = [
        ["target", facts.target],
        ["system", facts.system],
        ["url", facts.url],
        ["time_zone", facts.zone.key],
        ["period_start_utc", iso_utc(facts.period.start)],
        ["period_end_utc", iso_utc(facts.period.end)],
        ["period_start_local", iso_local(facts.period.start, facts.zone)],
        ["period_end_local", iso_local(facts.period.end, facts.zone)],
        ["checks_total", str(facts.total)],
        ["checks_detailed", str(facts.detailed)],
        ["checks_hourly_counts_only", str(facts.hourly)],
    ]
    rows += [[f"status_{s}", str(sum(n))] for s, n in facts.by_status().items()]
    rows += [
        ["detailed_checks_reaching_site", str(facts.reached)],
        ["first_check_utc", when(facts.first)],
        ["last_check_utc", when(facts.last)],
        ["slots_offered", "yes" if facts.slots_offered else "no"],
        ["checks_with_slots", str(facts.checks_with_slots)],
        ["slots_seen", str(len(facts.records.slots))],
        *coverage_rows(coverage),
        ["pages_included", str(facts.pages_included)],
        ["checks_page_not_kept", str(facts.checks_page_not_kept)],
        ["pages_left_out_by_max_pages", str(facts.pages.left_out)],
        ["statement_fr", verdict_fr(facts)],
        ["statement_en", verdict_en(facts)],
        ["generated_at_utc", iso_utc(facts.generated_at)],
        ["creneau_version", __version__],
    ]
    return rows


def coverage_rows(coverage: Coverage) -> list[list[str]]:
    weeks = ";".join(f"{week.label}:{week.attempts}" for week in coverage.weeks)
    return [
        ["days_in_period", str(len(coverage.days))],
        ["weeks_covered", str(coverage.weeks_tried)],
        ["days_tried", str(coverage.days_tried)],
        ["attempts_per_week", weeks],
        ["hours_tried", hours_compact(coverage.hour_ranges)],
        ["thinness", ";".join(coverage.thinness)],
        ["coverage_warning_fr", coverage_warning(coverage, "fr")],
        ["coverage_warning_en", coverage_warning(coverage, "en")],
    ]


def listed(folder: Path) -> list[str]:
    """The files of the folder, as the manifest lists them (relative, sorted)."""
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )


def manifest(folder: Path, files: Sequence[str]) -> bytes:
    """`sha256sum` lines ("<hex>  <path>"), hashed from what is on disk."""
    lines = [f"{_file_sha256(folder / name)}  {name}\n" for name in files]
    return "".join(lines).encode("ascii")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()
