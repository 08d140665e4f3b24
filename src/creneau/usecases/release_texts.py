"""The next release and its burst's cost as people read them, in French or English and the
configured time zone: the same words in `creneau status`, `history summary`, `run`'s start
line and the dashboard. Plain text: each screen escapes it its own way (Rich markup in the
terminal, HTML on a page)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from creneau.alerts.release_messages import PREPARE_SENTENCE
from creneau.dates import day_and_time, day_in_words
from creneau.details import render
from creneau.expected import BurstCost, ExpectedRelease, Source
from creneau.history.announced import AnnouncedOutcomes
from creneau.learned import learned_detail
from creneau.usecases.releases import NextRelease
from creneau.usecases.session_notice import SessionNotice

SOURCE_WORDS: dict[str, dict[Source, str]] = {
    "fr": {"announced": "annoncée par le site", "learned": "apprise de l'historique"},
    "en": {"announced": "announced by the site", "learned": "learned from history"},
}
NONE_KNOWN = {"fr": "aucune connue", "en": "none known"}
NEXT_RELEASE = {"fr": "prochaine mise en ligne", "en": "next release"}


def release_text(found: NextRelease | ExpectedRelease | None, zone: ZoneInfo, language: str) -> str:
    """'le site annonce mardi 9 décembre à 10:00 (semaine du 15 décembre)' / 'the site says
    Tuesday 9 December at 10:00 (week of 15 December)'; a learned one as `learned_text`
    says it; 'aucune connue' / 'none known'."""
    expected = found.expected if isinstance(found, NextRelease) else found
    if expected is None:
        return NONE_KNOWN[language]
    if expected.source == "learned":
        return learned_text(expected, zone, language)
    moment = moment_text(expected, zone, language)
    return f"le site annonce {moment}" if language == "fr" else f"the site says {moment}"


def moment_text(expected: ExpectedRelease, zone: ZoneInfo, language: str) -> str:
    """'mardi 9 décembre à 10:00 (semaine du 15 décembre)' for an announced release (what
    the dashboard shows beside `source_text`); a learned one as `learned_text` says it."""
    if expected.source == "learned":
        return learned_text(expected, zone, language)
    text = day_and_time(expected.at, zone, language)
    if expected.week is not None:
        week = day_in_words(expected.week, zone, language, weekday=False)
        text += f" (semaine du {week})" if language == "fr" else f" (week of {week})"
    return text


def learned_text(expected: ExpectedRelease, zone: ZoneInfo, language: str) -> str:
    """'lundi vers 09:00 ±10 min, 7 des 8 dernières semaines' / 'Mondays around 09:00 ±10
    min, 7 of the last 8 weeks': a release learned from history (creneau.learned's words)."""
    return render(learned_detail(expected), language, zone)


def source_text(expected: ExpectedRelease, language: str) -> str:
    """'annoncée par le site' / 'apprise de l'historique' (and in English)."""
    return SOURCE_WORDS[language][expected.source]


def burst_text(cost: BurstCost, zone: ZoneInfo, language: str) -> str:
    """'next burst: 9 checks, 9 requests at 10:00; budget 6/min, bursts of 10: fits', or
    '…: does not fit: 6 on time, the others delayed' (and in French)."""
    clock = f"{cost.at.astimezone(zone):%H:%M}"
    rate = _number(cost.budget.per_minute, language)
    if language == "fr":
        verdict = (
            "tient"
            if cost.fits
            else f"ne tient pas : {cost.on_time} à l'heure, les autres retardées"
        )
        return (
            f"prochaine rafale : {cost.checks} vérifications, {cost.requests} requêtes à "
            f"{clock} ; budget {rate}/min, rafales de {cost.budget.burst} : {verdict}"
        )
    verdict = "fits" if cost.fits else f"does not fit: {cost.on_time} on time, the others delayed"
    return (
        f"next burst: {cost.checks} checks, {cost.requests} requests at {clock}; "
        f"budget {rate}/min, bursts of {cost.budget.burst}: {verdict}"
    )


def release_and_burst_text(found: NextRelease | None, zone: ZoneInfo, language: str) -> str:
    """`release_text`, then `burst_text` when the burst's cost is known."""
    text = release_text(found, zone, language)
    if found is not None and found.cost is not None:
        text += f"{' ; ' if language == 'fr' else '; '}{burst_text(found.cost, zone, language)}"
    return text


def next_release_line(
    name: str,
    found: NextRelease | None,
    zone: ZoneInfo,
    language: str,
    notice: SessionNotice | None = None,
) -> str:
    """'nanterre — prochaine mise en ligne : le site annonce … ; prochaine rafale : …': one
    target's line in the terminal, then what `session_text` says of its site session."""
    colon = " : " if language == "fr" else ": "
    line = (
        f"{name} — {NEXT_RELEASE[language]}{colon}{release_and_burst_text(found, zone, language)}"
    )
    said = session_text(notice, zone, language)
    return f"{line}{' ; ' if language == 'fr' else '; '}{said}" if said else line


NOT_READY = {
    "fr": "Aucune session n'était prête à {at} : creneau a vérifié quand même",
    "en": "No session was ready at {at}: creneau checked anyway",
}


def session_text(notice: SessionNotice | None, zone: ZoneInfo, language: str) -> str:
    """'Mise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant 09:55 pour que creneau
    regarde dès 10:00' (the prepare alert's words), or 'Aucune session n'était prête à
    10:00 : creneau a vérifié quand même' (and in English); "" without a notice."""
    if notice is None:
        return ""
    at = f"{notice.at.astimezone(zone):%H:%M}"
    if notice.kind == "not_ready" or notice.solve_before is None:
        return NOT_READY[language].format(at=at)
    before = f"{notice.solve_before.astimezone(zone):%H:%M}"
    return PREPARE_SENTENCE[language].format(at=at, solve_before=before)


def announced_text(outcomes: AnnouncedOutcomes, language: str) -> str:
    """'Annonces du site : 5 (4 suivies de créneaux, vus en médiane 23 s après l'heure
    annoncée ; 1 sans créneau ; 0 retirée)' / 'Site announcements: 5 (4 followed by slots,
    seen a median 23 s after the announced time; 1 without slots; 0 withdrawn)'; those moved
    to another instant and those still to come only when there are some."""
    seen = outcomes.seen_after_s
    delay = f"{_number(round(seen), language)} s" if seen is not None else ""
    if language == "fr":
        released = _fr(outcomes.released, "suivie") + " de créneaux"
        released += f", vus en médiane {delay} après l'heure annoncée" if delay else ""
        parts = [released, f"{outcomes.no_slots} sans créneau", _fr(outcomes.withdrawn, "retirée")]
        parts += [_fr(outcomes.changed, "déplacée")] if outcomes.changed else []
        parts += [f"{outcomes.pending} à venir"] if outcomes.pending else []
        return f"Annonces du site : {outcomes.announced} ({' ; '.join(parts)})"
    released = f"{outcomes.released} followed by slots"
    released += f", seen a median {delay} after the announced time" if delay else ""
    parts = [released, f"{outcomes.no_slots} without slots", f"{outcomes.withdrawn} withdrawn"]
    parts += [f"{outcomes.changed} moved"] if outcomes.changed else []
    parts += [f"{outcomes.pending} to come"] if outcomes.pending else []
    return f"Site announcements: {outcomes.announced} ({'; '.join(parts)})"


def _fr(count: int, word: str) -> str:
    """'0 retirée', '1 retirée', '2 retirées': French counts with their agreement."""
    return f"{count} {word}{'s' if count > 1 else ''}"


def _number(value: float, language: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if language == "fr" else text
