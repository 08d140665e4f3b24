"""The dossier's parts after the coverage: the tables of attempts, the letter, and the
record's fingerprint with the references of the decisions cited (the pages as a person saw
them are `seen`'s)."""

from __future__ import annotations

from reportlab.platypus import Flowable

from creneau.evidence import references
from creneau.evidence.coverage import Coverage
from creneau.evidence.dossier.printing import para
from creneau.evidence.dossier.tables import days_table, weeks_table
from creneau.evidence.facts import Facts

RECORD = "RECORD.sha256"


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
