"""The evidence export (`creneau evidence`): a dated, verifiable record of every check of one
target over a period, for an association or a lawyer bringing a « référé mesures utiles »,
presented as one printable dossier. Beside it, `report` writes `creneau report NAME`'s folder:
the last pages kept for a target, scrubbed, for the person fixing creneau when a site changed.

The package owns the period (`period`), the facts the summary states (`facts`), how well they
cover the period (`coverage`) and its picture (`calendar`), the decisions cited
(`references`), the pages copied (`pages`) and rendered by a browser (`renderings`, through
`chromium`), every text in French and English (`texts`, from the Jinja2 templates in
`templates/`), the letter (`letter`), the files written (`files`), the PDF (`dossier`), the
trusted timestamp (`timestamp`, through `openssl`) and the verification (`verify`); the store
reads the records (`creneau.store.evidence`) and the use case creneau.usecases.evidence runs
the export:

    dossier.pdf      the record as one printable document: French first, then English
    summary.html     the same facts as a web page; summary.csv, one per row
    checks.csv       one row per recorded check
    hours.csv        hourly counts, for the part of the period older than the retention
    calendar.svg     the period, one cell a day
    lettre.txt       the letter to the préfecture, to edit
    pages/           the pages as received, named by their SHA-256
    renderings/      the pages as a browser shows them, under a band naming their SHA-256
    RECORD.sha256    the SHA-256 of every file above but the dossier (what the dossier presents)
    MANIFEST.sha256  the SHA-256 of every other file (`sha256sum -c MANIFEST.sha256`)
    MANIFEST.sha256.tsr, tsa-chain.pem, TIMESTAMP.sha256   with --tsa: the RFC 3161 token

Nothing from the config is written but the target's name, system and URL (redacted) and the
time zone: no notification URL, no `${ENV}` value, no contact address.

Text from the pages (guichet labels, a check's detail) is data: in summary.html it is
HTML-escaped, in the PDF never read as markup, and in every CSV cell it is one line without
control characters, with a leading apostrophe when a spreadsheet would take it for a formula
(`=`, `+`, `-`, `@`): these files are opened by people, in spreadsheets (see
`creneau.terminal`)."""

from creneau.evidence.calendar import (
    OUTCOME_COLOURS,
    OUTCOME_INK,
    OUTCOME_LABELS,
    OUTCOME_MARKS,
    calendar_svg,
)
from creneau.evidence.coverage import Coverage, DayOutcome, Thinness, build_coverage
from creneau.evidence.facts import Facts, build_facts
from creneau.evidence.files import CALENDAR, MANIFEST, check_rows, hour_rows, summary_rows
from creneau.evidence.pages import Pages, copy_pages
from creneau.evidence.period import EvidenceError, Period, parse_period
from creneau.evidence.texts import (
    coverage_statement,
    coverage_warning,
    statement,
    summary_html,
    verdict_en,
    verdict_fr,
)

__all__ = [
    "CALENDAR",
    "MANIFEST",
    "OUTCOME_COLOURS",
    "OUTCOME_INK",
    "OUTCOME_LABELS",
    "OUTCOME_MARKS",
    "Coverage",
    "DayOutcome",
    "EvidenceError",
    "Facts",
    "Pages",
    "Period",
    "Thinness",
    "build_coverage",
    "build_facts",
    "calendar_svg",
    "check_rows",
    "copy_pages",
    "coverage_statement",
    "coverage_warning",
    "hour_rows",
    "parse_period",
    "statement",
    "summary_html",
    "summary_rows",
    "verdict_en",
    "verdict_fr",
]
