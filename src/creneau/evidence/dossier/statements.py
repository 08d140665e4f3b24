"""The dossier's statements: the cover (who, which démarche, which period, what was seen),
the coverage in figures, and the English part that states the same facts."""

from __future__ import annotations

from datetime import datetime

from reportlab.platypus import Flowable, Spacer

from creneau import __version__
from creneau.evidence.coverage import Coverage
from creneau.evidence.dossier.printing import para
from creneau.evidence.dossier.tables import calendar, hours_table
from creneau.evidence.facts import Facts
from creneau.evidence.texts import coverage_warning, statement, verdict_en, verdict_fr
from creneau.evidence.times import hour_spans, long_fr, plural, utc_clock

TITLE_FR = "Relevé des tentatives de prise de rendez-vous"
TITLE_EN = "Record of the attempts to book an appointment"
BLANK = "_" * 48  # a line to fill in by hand


def cover(facts: Facts, coverage: Coverage, applicant: str | None) -> list[Flowable]:
    return [
        para(TITLE_FR, "title"),
        para(f"{TITLE_EN} (English version at the end of this document)", "small"),
        Spacer(0, 8),
        para("Demandeur ou demandeuse", "h2"),
        para(applicant if applicant else BLANK),
        para("Démarche", "h2"),
        para(f"Nom : {facts.target}"),
        para(f"Système de prise de rendez-vous : {facts.system}"),
        para(f"Adresse publique : {facts.url}", "mono"),
        para("Période", "h2"),
        para(statement("period_fr", facts)),
        para("Constat", "h2"),
        para(verdict_fr(facts), "strong"),
        para(
            f"{plural(coverage.attempts, 'tentative', 'tentatives')} sur "
            f"{plural(coverage.weeks_tried, 'semaine ISO distincte', 'semaines ISO distinctes')} "
            f"et {plural(coverage.days_tried, 'jour', 'jours')}."
        ),
        *_warning(coverage, "fr"),
        Spacer(0, 8),
        para(_generated_fr(facts.generated_at, facts), "small"),
    ]


def _generated_fr(at: datetime, facts: Facts) -> str:
    return (
        f"Document établi le {long_fr(at, facts.zone)} ({utc_clock(at)} UTC) par creneau "
        f"{__version__}, à partir des vérifications enregistrées par le logiciel."
    )


def _warning(coverage: Coverage, language: str) -> list[Flowable]:
    text = coverage_warning(coverage, language)
    return [para(text, "warning")] if text else []


def coverage_fr(facts: Facts, coverage: Coverage) -> list[Flowable]:
    offered = "oui" if coverage.slots_offered else "non"
    return [
        para("Couverture de la période", "h1"),
        para(f"Tentatives : {coverage.attempts}"),
        para(f"Semaines ISO distinctes avec au moins une tentative : {coverage.weeks_tried} "
             f"(sur {len(coverage.weeks)} touchées par la période)"),
        para(f"Jours avec au moins une tentative : {coverage.days_tried} "
             f"(sur {plural(len(coverage.days), 'jour', 'jours')})"),
        para(f"Heures de la journée essayées ({facts.zone.key}) : "
             f"{_hours(coverage, 'fr')}"),
        para(f"Un créneau a-t-il été proposé au moins une fois ? {offered}", "strong"),
        *_warning(coverage, "fr"),
        para("Tentatives par heure de la journée", "h2"),
        hours_table(coverage),
        para("Calendrier", "h2"),
        *calendar(coverage, "fr"),
    ]  # fmt: skip


def english(facts: Facts, coverage: Coverage) -> list[Flowable]:
    offered = "yes" if coverage.slots_offered else "no"
    return [
        para(f"English version: {TITLE_EN.lower()}", "h1"),
        para(f"Target: {facts.target} ({facts.system}), {facts.url}"),
        para("Period", "h2"),
        para(statement("period_en", facts)),
        para("Finding", "h2"),
        para(verdict_en(facts), "strong"),
        para("Coverage", "h2"),
        para(f"Attempts: {coverage.attempts}"),
        para(f"Distinct ISO weeks with at least one attempt: {coverage.weeks_tried} "
             f"(of {len(coverage.weeks)} the period touches)"),
        para(f"Days with at least one attempt: {coverage.days_tried} "
             f"(of {plural(len(coverage.days), 'day', 'days')})"),
        para(f"Hours of the day tried ({facts.zone.key}): {_hours(coverage, 'en')}"),
        para(f"Was a slot ever offered? {offered}", "strong"),
        *_warning(coverage, "en"),
        para("Calendar", "h2"),
        *calendar(coverage, "en"),
        para("The tables of attempts, the pages as seen, the letter and the record's "
             "fingerprint are in the French part above; every check is listed in checks.csv.",
             "small"),
    ]  # fmt: skip


def _hours(coverage: Coverage, language: str) -> str:
    return hour_spans(coverage.hour_ranges, language) or "—"
