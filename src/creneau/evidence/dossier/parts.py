"""The dossier's parts after the coverage: the tables of attempts, the pages as a person saw
them (their band as text above each image), the letter, and the record's fingerprint with the
references of the decisions cited."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, PageBreak, Table, TableStyle

from creneau.evidence import references
from creneau.evidence.coverage import Coverage
from creneau.evidence.dossier.printing import MARGIN, RULE, SANS, para, styles
from creneau.evidence.dossier.tables import days_table, weeks_table
from creneau.evidence.facts import Facts
from creneau.evidence.renderings import Rendering

RECORD = "RECORD.sha256"
# The frame the platypus lays out in, less the heading above each image.
FRAME_WIDTH = A4[0] - 2 * MARGIN
FRAME_HEIGHT = A4[1] - 2 * MARGIN - 30 * mm
# The image's frame: a thin box right around it (and its font set: see tables.GRID).
FLUSH = [("FONT", (0, 0), (-1, -1), SANS, 8)] + [
    (f"{side}PADDING", (0, 0), (-1, -1), 0) for side in ("LEFT", "RIGHT", "TOP", "BOTTOM")
]


def attempts(facts: Facts, coverage: Coverage) -> list[Flowable]:
    return [
        para("Tentatives jour par jour", "h1"),
        para(
            f"Chaque jour avec au moins une tentative (heures locales, {facts.zone.key}). "
            "Chaque vérification, avec son heure exacte et la réponse du site, est listée "
            "dans le fichier checks.csv du relevé."
        ),
        days_table(facts, coverage),
        para("Tentatives par semaine ISO", "h2"),
        weeks_table(coverage),
    ]


def pages_seen(folder: Path, renderings: Sequence[Rendering], problem: str) -> list[Flowable]:
    """Each rendering on its own page, as large as fits, its band printed as text above it."""
    heading = para("Les pages telles qu'elles ont été vues", "h1")
    if not renderings:
        return [heading, para(problem or "Aucune page n'a été conservée pour cette période.")]
    parts: list[Flowable] = [heading]
    if problem:
        parts.append(para(problem))
    for number, rendering in enumerate(renderings, start=1):
        if number > 1:
            parts.append(PageBreak())
        parts.append(para(f"Page {number} / {len(renderings)}", "h2"))
        parts.extend(para(line, "band") for line in rendering.band)
        parts.append(para(f"{rendering.page_file} — {rendering.image}", "band"))
        parts.append(_image(folder, rendering))
    return parts


def _image(folder: Path, rendering: Rendering) -> Flowable:
    file = folder / rendering.image
    if not file.is_file() or rendering.width <= 0 or rendering.height <= 0:
        return para(f"Image absente : {rendering.image}")
    band_height = (len(rendering.band) + 1) * styles()["band"].leading
    scale = min(FRAME_WIDTH / rendering.width, (FRAME_HEIGHT - band_height) / rendering.height)
    image = Image(str(file), width=rendering.width * scale, height=rendering.height * scale)
    framed = Table([[image]])
    framed.setStyle(TableStyle([*FLUSH, ("BOX", (0, 0), (-1, -1), 0.5, RULE)]))
    return framed


def letter_part(letter: str) -> list[Flowable]:
    return [para("Lettre à la préfecture", "h1"), para(letter, keep_newlines=True)]


def fingerprint(record_sha256: str) -> list[Flowable]:
    return [
        para("Empreinte", "h1"),
        para(
            f"Empreinte SHA-256 du fichier {RECORD}, qui donne l'empreinte de chaque fichier "
            "du relevé (pages reçues, vérifications, images, lettre) :"
        ),
        para(record_sha256, "mono"),
        para(
            f"Pour le vérifier, dans le dossier du relevé : « sha256sum {RECORD} » affiche "
            f"cette empreinte, puis « sha256sum -c {RECORD} » vérifie chaque fichier."
        ),
        para("Références", "h1"),
        para(
            "Décisions publiques citées pour ce qu'elles ont jugé ; ce relevé ne constitue pas "
            "un conseil juridique."
        ),
        *_references("fr"),
    ]


def fingerprint_en(record_sha256: str) -> list[Flowable]:
    return [
        para("Fingerprint", "h2"),
        para(f"SHA-256 of {RECORD}, which lists the SHA-256 of every file of the record:"),
        para(record_sha256, "mono"),
        para(f"Check: « sha256sum {RECORD} » prints it; « sha256sum -c {RECORD} » checks "
             "every file."),
        para("References", "h2"),
        para("Public decisions cited for what they held; this record is not legal advice."),
        *_references("en"),
    ]  # fmt: skip


def _references(language: str) -> list[Flowable]:
    decisions = references.DECISIONS
    if not decisions:
        none = "Aucune référence." if language == "fr" else "No reference."
        return [para(none)]
    parts: list[Flowable] = []
    for decision in decisions:
        parts.append(para(decision.citation, "h2"))
        parts.append(para(decision.held_fr if language == "fr" else decision.held_en))
        if decision.source:
            parts.append(para(decision.source, "band"))
    return parts
