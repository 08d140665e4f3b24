"""dossier.pdf: the record as one printable A4 document, French first, then English — the
cover (who, which démarche, which period, what was seen), the coverage and its calendar, the
attempts day by day and week by week, the pages as a person saw them, the letter, the
fingerprint of RECORD.sha256 and the references of the decisions cited.

Made with ReportLab (pure Python; the measurements that chose it are in
docs/performance.md) and the DejaVu fonts carried in `creneau/evidence/fonts`, embedded and
subset, so the PDF prints the same on every machine. Every text goes through
`printing.para`: data is never read as markup."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.platypus import Flowable, PageBreak, SimpleDocTemplate

from creneau import __version__
from creneau.evidence.coverage import Coverage
from creneau.evidence.dossier.parts import attempts, fingerprint, fingerprint_en, letter_part
from creneau.evidence.dossier.printing import GREY, MARGIN, SANS, printable, register_fonts
from creneau.evidence.dossier.seen import pages_seen
from creneau.evidence.dossier.statements import TITLE_FR, cover, coverage_fr, english
from creneau.evidence.facts import Facts
from creneau.evidence.renderings import Rendering

DOSSIER = "dossier.pdf"


def write_dossier(
    path: Path,
    facts: Facts,
    coverage: Coverage,
    renderings: Sequence[Rendering],
    letter: str,
    record_sha256: str,
    applicant: str | None = None,
    renderings_problem: str = "",
) -> None:
    """Writes the dossier at `path`; the renderings' images are read relative to its folder
    (`Rendering.image`, "renderings/<sha256>.png")."""

    def story(draft: bool) -> list[Flowable]:
        return [
            *cover(facts, coverage, applicant),
            PageBreak(),
            *coverage_fr(facts, coverage),
            PageBreak(),
            *attempts(facts, coverage),
            PageBreak(),
            *pages_seen(path.parent, renderings, renderings_problem, draft=draft),
            PageBreak(),
            *letter_part(letter),
            PageBreak(),
            *fingerprint(record_sha256),
            PageBreak(),
            *english(facts, coverage),
            *fingerprint_en(record_sha256),
        ]

    register_fonts()
    footer = f"{facts.target} — {_period_short(facts)}"
    # The first layout counts the pages ("page X / Y"), with blank boxes for the images.
    pages = _build(io.BytesIO(), facts, story(draft=True), footer, total=0)
    _build(path, facts, story(draft=False), footer, total=pages)


def _period_short(facts: Facts) -> str:
    start = facts.period.start.astimezone(facts.zone)
    last = (facts.period.end - timedelta(microseconds=1)).astimezone(facts.zone)
    return f"{start:%d/%m/%Y} – {last:%d/%m/%Y}"


def _build(
    out: Path | io.BytesIO, facts: Facts, story: list[Flowable], footer: str, total: int
) -> int:
    """Lays the story out into `out`; returns the number of pages."""
    document = SimpleDocTemplate(
        str(out) if isinstance(out, Path) else out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=printable(f"{TITLE_FR} — {facts.target}"),
        author="creneau",
        creator=f"creneau {__version__}",
        initialFontName=SANS,
        lang="fr-FR",  # the document's first language (readers, screen readers)
    )
    seen = [0]
    on_page = _footer(printable(footer), total, seen)
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return seen[0]


def _footer(text: str, total: int, seen: list[int]) -> Callable[[Any, Any], None]:
    def draw(canvas: Any, _document: Any) -> None:
        number = canvas.getPageNumber()
        seen[0] = max(seen[0], number)
        canvas.saveState()
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN / 2, text)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN / 2, f"page {number} / {total}")
        canvas.restoreState()

    return draw


__all__ = ["DOSSIER", "write_dossier"]
