"""The evidence export (`creneau evidence`): a dated, verifiable record of every check of one
target over a period, for an association or a lawyer bringing a « référé mesures utiles ».

This module owns the period, what is read from the store for it, the facts the summary states,
and the files written:

    summary.html     the document to print or attach: French first, then English
    summary.csv      the same facts, one per row
    checks.csv       one row per recorded check
    hours.csv        hourly counts, for the part of the period older than the retention
    pages/           the pages as received, named by their SHA-256
    MANIFEST.sha256  the SHA-256 of every other file (`sha256sum -c MANIFEST.sha256`)

Nothing from the config is written but the target's name, system and URL (redacted) and the
time zone: no notification URL, no `${ENV}` value, no contact address.

Text from the pages (guichet labels, a check's detail) is data: in summary.html it is
HTML-escaped, and in every CSV cell it is one line without control characters, with a leading
apostrophe when a spreadsheet would take it for a formula (`=`, `+`, `-`, `@`): these files
are opened by people, in spreadsheets (see `creneau.terminal`)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from creneau import __version__
from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS, local_time
from creneau.page import Page
from creneau.redact import redact
from creneau.results import Status
from creneau.store import pages as archive
from creneau.terminal import csv_row, html_text

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.store import Store
    from creneau.targets import TargetBase

DEFAULT_MAX_PAGES = 5000
MANIFEST = "MANIFEST.sha256"
PAGES = "pages"
STATUSES = [status.value for status in Status]
NO_ANSWER = [s for s in STATUSES if s not in (Status.AVAILABLE.value, Status.NONE.value)]

NO_PAGE = "no page received"
NOT_KEPT = "not kept"
ALTERED = "not included: the kept copy is unreadable or does not match its SHA-256"
WITHHELD = "withheld: contains a secret from the config"

STATUS_FR = {
    "available": "créneaux disponibles",
    "none": "aucun créneau (le site l'indique)",
    "blocked": "accès refusé par le site (403, 429) ou pause imposée après un refus",
    "overloaded": "site surchargé ou en erreur serveur (5xx)",
    "closed": "prise de rendez-vous fermée ou en maintenance",
    "captcha": "CAPTCHA demandé",
    "error": "échec technique (réseau, délai dépassé, réponse trop grande)",
    "unknown": "page non reconnue",
}


class EvidenceError(ValueError):
    """A request that cannot be exported (bad dates, an unusable folder): one line."""


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end): both tz-aware UTC."""

    start: datetime
    end: datetime


def parse_period(since: str, until: str | None, zone: ZoneInfo, now: datetime) -> Period:
    """`--since 2026-11-01` starts at local midnight; `--until 2026-11-30` ends at the end of
    that day (local); a time (`2026-11-01T08:00`, local unless it has an offset) is exact.
    Without `--until`, the period ends now."""
    start = _moment("--since", since, zone, end_of_day=False)
    end = _moment("--until", until, zone, end_of_day=True) if until else now.astimezone(UTC)
    if end <= start:
        raise EvidenceError(
            f"the period is empty: its end ({_iso_utc(end)}) is not after its start "
            f"({_iso_utc(start)})"
        )
    return Period(start, end)


def _moment(option: str, text: str, zone: ZoneInfo, end_of_day: bool) -> datetime:
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EvidenceError(
            f'{option}: expected a date such as 2026-11-01 or 2026-11-01T08:00 (got "{text}")'
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


# --- what the store knows of the period ---------------------------------------------------------


@dataclass(frozen=True)
class CheckLine:
    at: datetime
    status: str
    http_status: int | None
    slot_count: int
    detail: str
    page_sha256: str | None

    @property
    def saw_slots(self) -> bool:
        return self.slot_count > 0 or self.status == Status.AVAILABLE.value


@dataclass(frozen=True)
class HourLine:
    """Checks rolled up after the retention period: how many, per UTC hour and status."""

    hour: datetime
    status: str
    checks: int


@dataclass(frozen=True)
class SlotLine:
    guichet: str
    start: datetime
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class History:
    checks: list[CheckLine]
    hours: list[HourLine]
    slots: list[SlotLine]


def read_history(store: Store, target: str, period: Period) -> History:
    """The raw checks started in the period; the hourly counts of every hour that overlaps it
    (an edge hour counts its whole hour); the slots seen at some time within it."""
    from sqlalchemy import select

    from creneau.store.schema import CheckHourRow, CheckRow, SlotRow

    checks = (
        select(CheckRow)
        .where(
            CheckRow.target == target,
            CheckRow.started_at >= period.start,
            CheckRow.started_at < period.end,
        )
        .order_by(CheckRow.started_at, CheckRow.id)
    )
    hours = (
        select(CheckHourRow)
        .where(
            CheckHourRow.target == target,
            CheckHourRow.hour > period.start - timedelta(hours=1),
            CheckHourRow.hour < period.end,
        )
        .order_by(CheckHourRow.hour, CheckHourRow.status)
    )
    slots = (
        select(SlotRow)
        .where(
            SlotRow.target == target,
            SlotRow.first_seen < period.end,
            SlotRow.last_seen >= period.start,
        )
        .order_by(SlotRow.start, SlotRow.guichet, SlotRow.first_seen)
    )
    with store.read() as session:
        return History(
            checks=[
                CheckLine(
                    row.started_at,
                    row.status,
                    row.http_status,
                    row.slot_count,
                    row.detail,
                    row.page_sha256,
                )
                for row in session.scalars(checks)
            ],
            hours=[HourLine(row.hour, row.status, row.checks) for row in session.scalars(hours)],
            slots=[
                SlotLine(row.guichet, row.start, row.first_seen, row.last_seen)
                for row in session.scalars(slots)
            ],
        )


# --- the pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageOutcome:
    """What became of one distinct page: its file in the export, or why there is none."""

    file: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return self.file or self.note


@dataclass(frozen=True)
class Pages:
    outcomes: dict[str, PageOutcome]
    max_pages: int
    left_out: int  # distinct kept pages not copied because of the bound

    def of(self, sha256: str | None) -> str:
        if sha256 is None:
            return NO_PAGE
        return self.outcomes[sha256].label

    def count(self, predicate: Callable[[PageOutcome], bool]) -> int:
        return sum(1 for outcome in self.outcomes.values() if predicate(outcome))


def copy_pages(
    checks: Sequence[CheckLine], pages_dir: Path, destination: Path, max_pages: int
) -> Pages:
    """Each distinct page once, in the order checks first saw it, up to `max_pages` files,
    byte for byte as received."""
    limit_note = f"not included: --max-pages {max_pages} reached"
    outcomes: dict[str, PageOutcome] = {}
    copied = left_out = 0
    for sha256 in _distinct(check.page_sha256 for check in checks):
        if not archive.page_path(pages_dir, sha256).exists():
            outcomes[sha256] = PageOutcome(note=NOT_KEPT)
        elif copied >= max_pages:
            outcomes[sha256] = PageOutcome(note=limit_note)
            left_out += 1
        else:
            outcomes[sha256] = _copy_page(pages_dir, sha256, destination)
            copied += outcomes[sha256].file is not None
    return Pages(outcomes, max_pages, left_out)


def _distinct(hashes: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(sha256 for sha256 in hashes if sha256))


def _copy_page(pages_dir: Path, sha256: str, destination: Path) -> PageOutcome:
    try:
        body = archive.read_kept(pages_dir, sha256)
    except (OSError, EOFError, zlib.error):
        body = None
    if body is None or hashlib.sha256(body).hexdigest() != sha256:
        return PageOutcome(note=ALTERED)
    # A page can echo what was sent, a URL with a token in it: such a page stays out, since
    # it cannot be masked without changing its SHA-256.
    text = body.decode("utf-8", errors="replace")
    if redact(text) != text:
        return PageOutcome(note=WITHHELD)
    suffix = ".json" if Page("", 200, body).is_json else ".html"
    destination.mkdir(parents=True, exist_ok=True)
    (destination / f"{sha256}{suffix}").write_bytes(body)
    return PageOutcome(file=f"{PAGES}/{sha256}{suffix}")


# --- the facts stated -------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    target: str
    system: str
    url: str
    zone: ZoneInfo
    period: Period
    history: History
    pages: Pages
    keep_pages: bool
    retention: timedelta
    generated_at: datetime

    @property
    def checks(self) -> list[CheckLine]:
        return self.history.checks

    @property
    def detailed(self) -> int:
        return len(self.checks)

    @property
    def hourly(self) -> int:
        return sum(hour.checks for hour in self.history.hours)

    @property
    def total(self) -> int:
        return self.detailed + self.hourly

    def by_status(self) -> dict[str, tuple[int, int]]:
        """Each status: (detailed checks, checks known only from hourly counts)."""
        detailed = Counter(check.status for check in self.checks)
        hourly: Counter[str] = Counter()
        for hour in self.history.hours:
            hourly[hour.status] += hour.checks
        known = STATUSES + sorted((set(detailed) | set(hourly)) - set(STATUSES))
        return {status: (detailed[status], hourly[status]) for status in known}

    def count(self, statuses: Iterable[str]) -> int:
        counts = self.by_status()
        return sum(sum(counts.get(status, (0, 0))) for status in statuses)

    @property
    def reached(self) -> int:
        """Detailed checks that got an HTTP answer (hourly counts do not tell)."""
        return sum(1 for check in self.checks if check.http_status is not None)

    @property
    def first(self) -> datetime | None:
        return self.checks[0].at if self.checks else None

    @property
    def last(self) -> datetime | None:
        return self.checks[-1].at if self.checks else None

    @property
    def shortest_spacing(self) -> timedelta | None:
        gaps = [b.at - a.at for a, b in zip(self.checks, self.checks[1:], strict=False)]
        return min(gaps, default=None)

    @property
    def slot_checks(self) -> list[CheckLine]:
        return [check for check in self.checks if check.saw_slots]

    @property
    def slot_hours(self) -> list[HourLine]:
        return [h for h in self.history.hours if h.status == Status.AVAILABLE.value and h.checks]

    @property
    def checks_with_slots(self) -> int:
        return len(self.slot_checks) + sum(hour.checks for hour in self.slot_hours)

    @property
    def slots_offered(self) -> bool:
        """Any trace of a slot within the period: never claim "no slot" past one."""
        return bool(self.checks_with_slots or self.history.slots)

    @property
    def hours_span(self) -> tuple[datetime, datetime] | None:
        if not self.history.hours:
            return None
        hours = [hour.hour for hour in self.history.hours]
        return min(hours), max(hours) + timedelta(hours=1)

    @property
    def pages_included(self) -> int:
        return self.pages.count(lambda outcome: outcome.file is not None)

    @property
    def checks_page_not_kept(self) -> int:
        return sum(1 for c in self.checks if self.pages.of(c.page_sha256) == NOT_KEPT)


def build_facts(
    config: Config,
    target: TargetBase,
    period: Period,
    history: History,
    pages: Pages,
    now: datetime,
) -> Facts:
    return Facts(
        target=target.name,
        system=target.system,
        url=redact(target.url),
        zone=config.creneau.zone,
        period=period,
        history=history,
        pages=pages,
        keep_pages=config.creneau.keep_pages,
        retention=config.creneau.retention,
        generated_at=now.astimezone(UTC),
    )


# --- the sentences ----------------------------------------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def verdict_fr(facts: Facts) -> str:
    checks = _plural(facts.total, "vérification", "vérifications")
    if facts.total == 0:
        return (
            "Aucune vérification n'a été enregistrée pendant cette période : ce relevé ne "
            "permet rien d'affirmer sur la disponibilité de créneaux."
        )
    if facts.slots_offered:
        seen = facts.checks_with_slots
        verb = "en a vu" if seen == 1 else "en ont vu"
        return (
            "Des créneaux ONT été proposés pendant cette période : "
            f"{seen} des {checks} {verb} (liste ci-dessous)."
        )
    during = (
        "de la seule vérification effectuée"
        if facts.total == 1
        else f"des {facts.total} vérifications effectuées"
    )
    return f"Sur cette période, aucun créneau n'a été proposé lors {during}."


def verdict_en(facts: Facts) -> str:
    checks = _plural(facts.total, "check", "checks")
    if facts.total == 0:
        return (
            "No check was recorded in this period: this record cannot tell whether slots "
            "were offered."
        )
    if facts.slots_offered:
        return (
            "Slots WERE offered in this period: "
            f"{facts.checks_with_slots} of the {checks} saw some (listed below)."
        )
    during = "the only check made" if facts.total == 1 else f"any of the {checks} made"
    return f"In this period, no slot was offered in {during}."


def answers_fr(facts: Facts) -> str:
    none = facts.count(["none"])
    failed = facts.count(NO_ANSWER)
    unanswered = _plural(failed, "vérification n'a", "vérifications n'ont")
    return (
        f"Le site a indiqué explicitement l'absence de créneau {_plural(none, 'fois', 'fois')} ; "
        f"{unanswered} pas permis de "
        "consulter les disponibilités (accès refusé, site surchargé, fermé, CAPTCHA, erreur "
        "ou page non reconnue)."
    )


def answers_en(facts: Facts) -> str:
    none = facts.count(["none"])
    failed = facts.count(NO_ANSWER)
    return (
        f"The site said explicitly that there was no slot {_plural(none, 'time', 'times')}; "
        f"{_plural(failed, 'check', 'checks')} could not see the availability (refused, "
        "overloaded, closed, CAPTCHA, error or page not recognised)."
    )


def period_fr(facts: Facts) -> str:
    start, end = facts.period.start, facts.period.end
    return (
        f"Du {_long_fr(start, facts.zone)} au {_long_fr(end, facts.zone)} "
        f"(heure légale, fuseau {facts.zone.key}), soit du {_utc(start)} au {_utc(end)} (UTC), "
        "fin exclue."
    )


def period_en(facts: Facts) -> str:
    start, end = facts.period.start, facts.period.end
    return (
        f"From {local_time(start, facts.zone)} to {local_time(end, facts.zone)} ({facts.zone.key} "
        f"time), that is {_utc(start)} to {_utc(end)} (UTC), end excluded."
    )


def reached_fr(facts: Facts) -> str:
    detailed = _plural(facts.detailed, _detailed_fr(facts), _detailed_fr(facts, plural=True))
    return f"{facts.reached} des {detailed} ont reçu une réponse du site (un code HTTP)."


def first_last_fr(facts: Facts) -> str:
    if facts.first is None or facts.last is None:
        return ""
    first, last = facts.first, facts.last
    what = _detailed_fr(facts)
    return (
        f"Première {what} : {_long_fr(first, facts.zone)} ({_utc(first)} UTC). "
        f"Dernière {what} : {_long_fr(last, facts.zone)} ({_utc(last)} UTC)."
    )


def _detailed_fr(facts: Facts, plural: bool = False) -> str:
    """Once part of the period is only known as hourly counts, say which checks are meant."""
    noun = "vérifications" if plural else "vérification"
    if not facts.hourly:
        return noun
    return f"{noun} détaillée{'s' if plural else ''}"


def hours_fr(facts: Facts) -> str:
    span = facts.hours_span
    if span is None:
        return ""
    return (
        f"Du {_long_fr(span[0], facts.zone)} au {_long_fr(span[1], facts.zone)}, creneau ne "
        f"conserve plus le détail de chaque vérification (durée de conservation : "
        f"{_days_fr(facts.retention)}) : seuls des totaux par heure et par résultat subsistent, "
        f"soit {_plural(facts.hourly, 'vérification', 'vérifications')}. Ils figurent "
        "ci-dessous (par jour) et dans hours.csv (par heure) ; aucune ligne par vérification "
        "n'existe pour cette partie. Une heure à cheval sur le début ou la fin de la période "
        "est comptée en entier."
    )


def hours_en(facts: Facts) -> str:
    span = facts.hours_span
    if span is None:
        return ""
    return (
        f"From {local_time(span[0], facts.zone)} to {local_time(span[1], facts.zone)}, only hourly "
        f"counts per result remain ({_plural(facts.hourly, 'check', 'checks')}); no per-check "
        "row exists there (hours.csv)."
    )


def method_fr(facts: Facts) -> str:
    spacing = facts.shortest_spacing
    observed = (
        f" (intervalle le plus court constaté ici : {round(spacing.total_seconds())} s)"
        if spacing is not None
        else ""
    )
    return (
        "creneau consulte la page de prise de rendez-vous sans jamais réserver ni résoudre de "
        "CAPTCHA, en s'identifiant auprès du site. Sur un site réel, deux vérifications d'une "
        f"même page sont toujours espacées d'au moins 60 secondes{observed}. Chaque "
        "vérification est enregistrée au moment où elle a lieu, avec le résultat lu sur la "
        "page, le code HTTP et l'empreinte SHA-256 de la page telle que reçue. Les pages du "
        "dossier pages/ sont les octets exacts reçus, nommés par leur empreinte : recalculer "
        "l'empreinte d'un fichier (sha256sum) montre qu'il n'a pas été modifié et le rattache "
        "aux lignes de checks.csv. Le fichier MANIFEST.sha256 donne l'empreinte de chaque "
        "fichier du relevé ; la commande « sha256sum -c MANIFEST.sha256 », lancée dans ce "
        "dossier, vérifie l'ensemble. L'adresse indiquée est celle de la page surveillée "
        "dans la configuration de creneau."
    )


def method_en(facts: Facts) -> str:
    spacing = facts.shortest_spacing
    observed = (
        f" (shortest spacing here: {round(spacing.total_seconds())} s)"
        if spacing is not None
        else ""
    )
    return (
        "creneau reads the booking page; it never books and never solves a CAPTCHA. On a "
        f"real site, two checks of a page are always at least 60 seconds apart{observed}. "
        "Each check is recorded when it happens, with the result read on the page, the HTTP "
        "status and the SHA-256 of the page as received. The files in pages/ are the exact "
        "bytes received, named by their SHA-256. MANIFEST.sha256 lists the SHA-256 of every "
        "file; run `sha256sum -c MANIFEST.sha256` in this folder to verify them all."
    )


def pages_fr(facts: Facts) -> str:
    parts = [
        f"{_plural(facts.pages_included, 'page incluse', 'pages incluses')} dans pages/, "
        "chacune une seule fois quel que soit le nombre de vérifications qui l'ont reçue."
    ]
    if facts.checks_page_not_kept:
        why = "" if facts.keep_pages else " (keep_pages était désactivé)"
        parts.append(
            f"Pour {_plural(facts.checks_page_not_kept, 'vérification', 'vérifications')}, "
            f"la page n'a pas été conservée{why} : checks.csv l'indique (« not kept »), "
            "l'empreinte enregistrée reste."
        )
    if facts.pages.left_out:
        left_out = _plural(
            facts.pages.left_out,
            "autre page conservée n'est pas incluse",
            "autres pages conservées ne sont pas incluses",
        )
        parts.append(
            f"Limite atteinte (--max-pages {facts.pages.max_pages}) : {left_out} ; "
            "checks.csv l'indique pour chaque vérification concernée."
        )
    withheld = facts.pages.count(lambda outcome: outcome.note == WITHHELD)
    if withheld:
        parts.append(
            f"{_plural(withheld, 'page est retenue', 'pages sont retenues')} : elles "
            "contiennent un secret de la configuration."
        )
    return " ".join(parts)


def generated_fr(facts: Facts) -> str:
    return (
        f"Relevé établi le {_long_fr(facts.generated_at, facts.zone)} "
        f"({_utc(facts.generated_at)} UTC) par creneau {__version__}, à partir de sa base de "
        "données."
    )


# --- time formats ---------------------------------------------------------------------------


def _iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _isolocal_time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).replace(microsecond=0).isoformat()


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _short_fr(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def _long_fr(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    day, month = FRENCH_DAYS[local.weekday()], FRENCH_MONTHS[local.month - 1]
    return f"{day} {local.day} {month} {local.year} à {local:%H:%M:%S}"


def _days_fr(value: timedelta) -> str:
    days = value.total_seconds() / 86400
    return _plural(round(days), "jour", "jours") if days >= 1 else f"{value}"


# --- the files --------------------------------------------------------------------------------


def _csv(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(csv_row(row) for row in rows)
    # The BOM lets spreadsheet programs read the accents right.
    return buffer.getvalue().encode("utf-8-sig")


CHECK_COLUMNS = [
    "utc",
    "local",
    "url",
    "status",
    "http_status",
    "slots",
    "detail",
    "page_sha256",
    "page_file",
]


def check_rows(facts: Facts) -> list[list[str]]:
    return [
        [
            _iso_utc(check.at),
            _isolocal_time(check.at, facts.zone),
            facts.url,
            check.status,
            "" if check.http_status is None else str(check.http_status),
            str(check.slot_count),
            redact(check.detail),
            check.page_sha256 or "",
            facts.pages.of(check.page_sha256),
        ]
        for check in facts.checks
    ]


HOUR_COLUMNS = ["hour_utc", "hour_local", "status", "checks"]


def hour_rows(facts: Facts) -> list[list[str]]:
    return [
        [_iso_utc(hour.hour), _isolocal_time(hour.hour, facts.zone), hour.status, str(hour.checks)]
        for hour in facts.history.hours
    ]


def summary_rows(facts: Facts) -> list[list[str]]:
    def when(at: datetime | None) -> str:
        return _iso_utc(at) if at else ""

    rows = [
        ["target", facts.target],
        ["system", facts.system],
        ["url", facts.url],
        ["time_zone", facts.zone.key],
        ["period_start_utc", _iso_utc(facts.period.start)],
        ["period_end_utc", _iso_utc(facts.period.end)],
        ["period_start_local", _isolocal_time(facts.period.start, facts.zone)],
        ["period_end_local", _isolocal_time(facts.period.end, facts.zone)],
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
        ["slots_seen", str(len(facts.history.slots))],
        ["pages_included", str(facts.pages_included)],
        ["checks_page_not_kept", str(facts.checks_page_not_kept)],
        ["pages_left_out_by_max_pages", str(facts.pages.left_out)],
        ["statement_fr", verdict_fr(facts)],
        ["statement_en", verdict_en(facts)],
        ["generated_at_utc", _iso_utc(facts.generated_at)],
        ["creneau_version", __version__],
    ]
    return rows


# --- summary.html -------------------------------------------------------------------------------

_CSS = """
body { font-family: Georgia, "Times New Roman", serif; color: #111; max-width: 60em;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #999; padding: .2em .5em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { border: 2px solid #111; padding: .6em 1em; font-size: 1.1em; font-weight: bold; }
.verdict.offered { border-color: #a00; color: #a00; }
.small { font-size: .9em; color: #333; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .9em; word-break: break-all; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  tr, .verdict { break-inside: avoid; }
  .verdict.offered { color: #000; }
}
"""


def _e(text: object) -> str:
    """Text between tags (never an attribute: quotes stay as they are)."""
    return html_text(text, quote=False)


def _table(head: Sequence[str] | None, rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    cells = "".join(f"<th>{_e(cell)}</th>" for cell in head or ())
    body = [
        "<tr>"
        + "".join(
            f'<td class="n">{_e(cell)}</td>' if index in numeric else f"<td>{_e(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    ]
    thead = f"<thead><tr>{cells}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _p(text: str, css: str = "") -> str:
    if not text:
        return ""
    return f'<p class="{css}">{_e(text)}</p>' if css else f"<p>{_e(text)}</p>"


def _status_table(facts: Facts) -> str:
    counts = [(s, n) for s, n in facts.by_status().items() if sum(n)]
    if not facts.hourly:
        rows = [[s, STATUS_FR.get(s, s), detailed] for s, (detailed, _) in counts]
        rows.append(["", "Total", facts.detailed])
        return _table(["résultat", "signification", "vérifications"], rows, {2})
    rows = [[s, STATUS_FR.get(s, s), d, h, d + h] for s, (d, h) in counts]
    rows.append(["", "Total", facts.detailed, facts.hourly, facts.total])
    head = ["résultat", "signification", "détaillées", "totaux horaires", "total"]
    return _table(head, rows, {2, 3, 4})


def _slots_section(facts: Facts) -> str:
    if not facts.slots_offered:
        return ""
    parts = ["<h2>Créneaux proposés pendant la période / Slots offered</h2>"]
    if facts.slot_checks:
        parts.append(
            _table(
                ["vérification (heure locale)", "UTC", "créneaux vus"],
                (
                    [_short_fr(c.at, facts.zone), _utc(c.at), c.slot_count]
                    for c in facts.slot_checks
                ),
                {2},
            )
        )
    if facts.slot_hours:
        parts.append(
            _table(
                ["heure (locale)", "UTC", "vérifications avec créneaux"],
                ([_short_fr(h.hour, facts.zone), _utc(h.hour), h.checks] for h in facts.slot_hours),
                {2},
            )
        )
    if facts.history.slots:
        parts.append(
            _table(
                ["guichet", "créneau", "vu pour la première fois", "vu pour la dernière fois"],
                (
                    [
                        slot.guichet,
                        _short_fr(slot.start, facts.zone),
                        _short_fr(slot.first_seen, facts.zone),
                        _short_fr(slot.last_seen, facts.zone),
                    ]
                    for slot in facts.history.slots
                ),
                set(),
            )
        )
    return "".join(parts)


def _hours_section(facts: Facts) -> str:
    if not facts.history.hours:
        return ""
    days: dict[date, Counter[str]] = {}
    for hour in facts.history.hours:
        days.setdefault(hour.hour.astimezone(facts.zone).date(), Counter())[hour.status] += (
            hour.checks
        )
    shown = [s for s in facts.by_status() if any(day[s] for day in days.values())]
    rows = [
        [day.strftime("%d/%m/%Y"), *(counts[s] for s in shown), sum(counts.values())]
        for day, counts in sorted(days.items())
    ]
    return (
        "<h2>Période connue par totaux horaires / Hourly counts only</h2>"
        + _p(hours_fr(facts))
        + _table(["jour (local)", *shown, "total"], rows, set(range(1, len(shown) + 2)))
        + _p(hours_en(facts), "small")
    )


def summary_html(facts: Facts) -> str:
    offered = " offered" if facts.slots_offered else ""
    identity = _table(
        None,
        [
            ["Démarche surveillée (cible)", facts.target],
            ["Page de prise de rendez-vous", facts.url],
            ["Système de réservation", facts.system],
            ["Fuseau horaire", facts.zone.key],
        ],
        set(),
    )
    body = [
        f"<h1>Relevé des vérifications de disponibilité de rendez-vous — {_e(facts.target)}</h1>",
        _p("Record of appointment availability checks (English summary below).", "small"),
        identity,
        "<h2>Période</h2>",
        _p(period_fr(facts)),
        "<h2>Résultat</h2>",
        f'<p class="verdict{offered}">{_e(verdict_fr(facts))}</p>',
        _p(answers_fr(facts)) if facts.total else "",
        _p(reached_fr(facts)) if facts.detailed else "",
        _p(first_last_fr(facts)),
        _status_table(facts),
        _slots_section(facts),
        _hours_section(facts),
        "<h2>Pages reçues</h2>",
        _p(pages_fr(facts)),
        "<h2>Méthode</h2>",
        _p(method_fr(facts)),
        _p(generated_fr(facts), "small"),
        "<h2>Summary in English</h2>",
        _p(period_en(facts)),
        f'<p class="verdict{offered}">{_e(verdict_en(facts))}</p>',
        _p(answers_en(facts)) if facts.total else "",
        _p(method_en(facts)),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Relevé creneau — {_e(facts.target)}</title>\n<style>{_CSS}</style>\n"
        "</head>\n<body>\n" + "\n".join(part for part in body if part) + "\n</body>\n</html>\n"
    )


# --- the export -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    facts: Facts
    directory: Path
    files: list[str]  # relative paths listed in the manifest
    manifest_sha256: str


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise EvidenceError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise EvidenceError(f"--out {out}: the folder is not empty (choose a new one)")


def export(
    store: Store,
    config: Config,
    target: TargetBase,
    period: Period,
    out: Path,
    max_pages: int = DEFAULT_MAX_PAGES,
    now: datetime | None = None,
) -> Exported:
    """Write the export into a fresh folder beside `out`, then move it to `out`: an
    interrupted export never leaves a partial record under the final name."""
    check_out_dir(out)
    staging = out.parent / f".{out.name}.{os.getpid()}.partial"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as failure:
        raise EvidenceError(f"--out {out}: cannot create the folder: {failure}") from None
    try:
        history = read_history(store, target.name, period)
        pages = copy_pages(history.checks, config.creneau.pages_dir, staging / PAGES, max_pages)
        facts = build_facts(config, target, period, history, pages, now or datetime.now(UTC))
        _write(staging, facts)
        files = _listed(staging)
        manifest = _manifest(staging, files)
        (staging / MANIFEST).write_bytes(manifest)
        if out.is_dir():
            out.rmdir()  # empty, checked above; replaced by the finished export
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Exported(facts, out, files, hashlib.sha256(manifest).hexdigest())


def _write(folder: Path, facts: Facts) -> None:
    (folder / "summary.html").write_bytes(summary_html(facts).encode("utf-8"))
    (folder / "summary.csv").write_bytes(_csv([["field", "value"], *summary_rows(facts)]))
    (folder / "checks.csv").write_bytes(_csv([CHECK_COLUMNS, *check_rows(facts)]))
    if facts.history.hours:
        (folder / "hours.csv").write_bytes(_csv([HOUR_COLUMNS, *hour_rows(facts)]))


def _listed(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )


def _manifest(folder: Path, files: Sequence[str]) -> bytes:
    """`sha256sum` lines ("<hex>  <path>"), hashed from what is on disk."""
    lines = [f"{_file_sha256(folder / name)}  {name}\n" for name in files]
    return "".join(lines).encode("ascii")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()
