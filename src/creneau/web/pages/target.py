"""A target's page (`/targets/<name>`): the slots shown now by guichet, its next release and
the cost of the burst at an announced one, its checks over 24 h and 7 days, its latest
checks, its releases, how long its slots stay, what its site answered per day, what the site
says of its releases, the weekday × hour heatmap (an image served at
`/targets/<name>/heatmap.svg`, drawn by `creneau.history`) and the evidence export of a chosen
period: first what the period covers (`/targets/<name>/evidence?since=…&until=…`, the
coverage the export states, with its warning when the record is thin), then the export as one
zip (`/targets/<name>/evidence.zip?since=…&until=…`). An unknown name is a 404."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from creneau import history
from creneau.dates import table_duration
from creneau.details import render
from creneau.evidence import EvidenceError, Period, parse_period
from creneau.evidence.calendar import calendar_svg
from creneau.evidence.texts import coverage_warning
from creneau.evidence.times import hour_spans
from creneau.history import Lifetime, Release, Scope, UptimeDay
from creneau.results import ReleaseAnnouncement
from creneau.store import CheckRecord, Store
from creneau.store import dashboard as queries
from creneau.store.dashboard import BucketCount
from creneau.store.evidence import TargetPeriod
from creneau.targets import TargetBase
from creneau.usecases.evidence import (
    DEFAULT_MAX_PAGES,
    Preview,
    export,
    preview,
    records_of,
)
from creneau.usecases.release_texts import announced_text
from creneau.usecases.timestamp import SealFailed, sealer
from creneau.web.context import WebContext
from creneau.web.pages.common import configured_target, page, problem, shown, target_path
from creneau.web.pages.overview import (
    Records,
    SlotLine,
    TargetLine,
    lines_of,
    records_of_one,
    slot_line,
)
from creneau.web.pages.strips import DAY, WEEK, Strip, strips_of
from creneau.web.pages.strips import Period as StripPeriod
from creneau.web.pages.texts import (
    STATUS_WORDS,
    day_text,
    of_total,
    percent,
    period_words,
    short_moment,
    slot_offered_words,
)

RECENT_CHECKS = 10
RELEASES_OVER = timedelta(days=30)
RELEASES_SHOWN = 100
LIFETIMES_OVER = timedelta(days=90)
UPTIME_DAYS = 14
SLOTS_PER_GUICHET = 50
EVIDENCE_DAYS = 30  # the period the form proposes
CLEAR = ("available", "none")


@dataclass(frozen=True)
class GuichetSlots:
    guichet: str
    slots: tuple[SlotLine, ...]
    more: int  # slots shown beyond those listed


@dataclass(frozen=True)
class CheckLine:
    when: str
    status: str
    status_word: str
    detail: str


@dataclass(frozen=True)
class ReleaseLine:
    seen_at: str
    previous_check: str
    guichet: str
    slots: int
    dates: str
    gone_after: str


@dataclass(frozen=True)
class LifetimeLine:
    guichet: str
    slots: int
    gone: int
    censored: int
    median: str
    p90: str


@dataclass(frozen=True)
class UptimeLine:
    day: str
    checks: int
    clear: str
    others: str  # the other answers' shares, most first


@dataclass(frozen=True)
class TargetPage:
    line: TargetLine
    guichets: tuple[GuichetSlots, ...]
    week: Strip
    recent: tuple[CheckLine, ...]
    releases: tuple[ReleaseLine, ...]
    lifetimes: tuple[LifetimeLine, ...]
    uptime: tuple[UptimeLine, ...]
    site_says: tuple[str, ...]
    announced: str  # what became of the releases the site announced ("" for none)
    heatmap_path: str
    evidence_path: str
    evidence_since: str
    evidence_until: str


@dataclass(frozen=True)
class History:
    """What the target page reads, its overview line's records included, in one go on the
    dashboard's thread."""

    records: Records  # the overview's, of this target alone
    week: list[BucketCount]
    recent: list[CheckRecord]
    releases: list[Release]
    lifetimes: list[Lifetime]
    uptime: list[UptimeDay]
    site_says: ReleaseAnnouncement | None
    announced: history.AnnouncedOutcomes

    @property
    def latest(self) -> CheckRecord | None:
        return self.recent[0] if self.recent else None

    @property
    def slots(self) -> list[queries.OpenSlot]:
        return self.records.slots


def read_history(
    store: Store, name: str, zone: ZoneInfo, now: datetime, week: StripPeriod
) -> History:
    recent = queries.recent_checks(store, name, RECENT_CHECKS)
    latest = recent[0] if recent else None
    first_day = datetime.combine(now.astimezone(zone).date(), time(0), zone) - timedelta(
        days=UPTIME_DAYS - 1
    )
    # One read of the releases of the lifetimes' period; the list shows its recent part.
    over_lifetimes = history.releases(store, Scope(since=now - LIFETIMES_OVER, target=name))
    shown_since = now - RELEASES_OVER
    return History(
        records=records_of_one(store, name, StripPeriod.ending_at(now, *DAY), latest),
        week=queries.status_counts(store, [name], week.start, week.bucket, week.buckets),
        recent=recent,
        releases=[release for release in over_lifetimes if release.seen_at >= shown_since],
        lifetimes=history.lifetimes_of(over_lifetimes),
        uptime=history.uptime(store, zone, Scope(since=first_day, target=name)),
        site_says=history.site_release_facts(store, Scope(target=name)).get(name),
        announced=history.announced_of(store, name, Scope(since=now - LIFETIMES_OVER)),
    )


class HistoryMemo:
    """Each target's history as last read, kept until a check is recorded or the strips'
    buckets move on: the page is read again and again, the history rarely changes. One
    entry per configured target at most."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[tuple[object, ...], History]] = {}

    def read(
        self, store: Store, name: str, zone: ZoneInfo, now: datetime, week: StripPeriod
    ) -> History:
        day = StripPeriod.ending_at(now, *DAY)
        key = (zone, week.start, day.start, queries.last_check_id(store))
        kept = self._kept.get(name)
        if kept is not None and kept[0] == key:
            return kept[1]
        found = read_history(store, name, zone, now, week)
        self._kept[name] = (key, found)
        return found


async def target_page(
    context: WebContext, target: TargetBase, now: datetime, memo: HistoryMemo | None = None
) -> TargetPage:
    zone, language = context.config.creneau.zone, context.config.creneau.language
    week = StripPeriod.ending_at(now, *WEEK)
    reader = memo.read if memo is not None else read_history
    read = await context.db(reader, context.store, target.name, zone, now, week)
    (line,) = lines_of(context, [target], read.records, StripPeriod.ending_at(now, *DAY), now)
    today = now.astimezone(zone).date()
    path = target_path(target.name)
    return TargetPage(
        line=line,
        guichets=guichets_of(read, target, zone, language),
        week=strips_of(read.week, [target.name], week, zone, now, language)[target.name],
        recent=tuple(check_line(check, now, zone, language) for check in read.recent),
        releases=tuple(
            release_line(release, now, zone, language)
            for release in reversed(read.releases[-RELEASES_SHOWN:])
        ),
        lifetimes=tuple(lifetime_line(lifetime, language) for lifetime in read.lifetimes),
        uptime=tuple(uptime_line(day, now, zone, language) for day in reversed(read.uptime)),
        site_says=tuple(site_says(read.site_says, now, zone, language)),
        announced=announced_text(read.announced, language) if read.announced.announced else "",
        heatmap_path=f"{path}/heatmap.svg",
        evidence_path=f"{path}/evidence",
        evidence_since=(today - timedelta(days=EVIDENCE_DAYS)).isoformat(),
        evidence_until=today.isoformat(),
    )


def guichets_of(
    read: History, target: TargetBase, zone: ZoneInfo, language: str
) -> tuple[GuichetSlots, ...]:
    """The slots shown now, by guichet (in the store's order: guichet id, then start)."""
    by_guichet: dict[str, list[queries.OpenSlot]] = {}
    for slot in read.slots:
        by_guichet.setdefault(slot.guichet_id, []).append(slot)
    return tuple(
        GuichetSlots(
            shown(slots[-1].guichet),
            tuple(
                slot_line(slot, target, read.latest, zone, language)
                for slot in slots[:SLOTS_PER_GUICHET]
            ),
            max(0, len(slots) - SLOTS_PER_GUICHET),
        )
        for slots in by_guichet.values()
    )


def check_line(check: CheckRecord, now: datetime, zone: ZoneInfo, language: str) -> CheckLine:
    return CheckLine(
        short_moment(check.started_at, now, zone, language),
        check.status,
        STATUS_WORDS[language].get(check.status, check.status),
        shown(render(check.said, language, zone)),
    )


def release_line(release: Release, now: datetime, zone: ZoneInfo, language: str) -> ReleaseLine:
    previous = release.previous_check_at
    lasted = release.all_gone_after
    return ReleaseLine(
        seen_at=short_moment(release.seen_at, now, zone, language),
        previous_check=short_moment(previous, now, zone, language) if previous else "—",
        guichet=shown(release.guichet),
        slots=release.slot_count,
        dates=dates_offered(release.slot_starts, now, zone, language),
        gone_after=duration(lasted, language) if lasted is not None else "",
    )


def dates_offered(starts: Sequence[datetime], now: datetime, zone: ZoneInfo, language: str) -> str:
    days = sorted({start.astimezone(zone).date() for start in starts})
    shown_days = [day_text(_noon(day, zone), now, zone, language) for day in days]
    if len(days) <= 3:
        return ", ".join(shown_days)
    count = f"{len(days)} {'jours' if language == 'fr' else 'days'}"
    return f"{shown_days[0]} → {shown_days[-1]} ({count})"


def _noon(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(12), zone)


def duration(value: timedelta | None, language: str) -> str:
    """'45 s', '12 min', '1 h 05', '2 j 3 h' / '2 d 3 h', '—'."""
    text = table_duration(value)
    return text.replace(" d ", " j ") if language == "fr" else text


def lifetime_line(lifetime: Lifetime, language: str) -> LifetimeLine:
    return LifetimeLine(
        guichet=shown(lifetime.guichet),
        slots=lifetime.gone + lifetime.censored,
        gone=lifetime.gone,
        censored=lifetime.censored,
        median=duration(lifetime.median, language),
        p90=duration(lifetime.p90, language),
    )


def uptime_line(day: UptimeDay, now: datetime, zone: ZoneInfo, language: str) -> UptimeLine:
    words = STATUS_WORDS[language]
    others = sorted(
        (status for status in day.counts if status not in CLEAR and day.counts[status]),
        key=lambda status: -day.counts[status],
    )
    return UptimeLine(
        day=day_text(_noon(day.day, zone), now, zone, language),
        checks=day.checks,
        clear=percent(day.clear),
        others=", ".join(f"{words.get(s, s)} {percent(day.share(s))}" for s in others),
    )


def site_says(
    said: ReleaseAnnouncement | None, now: datetime, zone: ZoneInfo, language: str
) -> list[str]:
    """RDV Préfecture's own words on its releases, as lines."""
    last, upcoming = {
        "fr": ("Dernière mise en ligne", "Prochaine mise en ligne"),
        "en": ("Slots last put online", "Next put online"),
    }[language]
    if said is None:
        return []
    lines = []
    for label, at, week in (
        (last, said.last_at, said.last_week),
        (upcoming, said.next_at, said.next_week),
    ):
        if at is None:
            continue
        text = (
            f"{label}{' : ' if language == 'fr' else ': '}{short_moment(at, now, zone, language)}"
        )
        if week is not None:
            of_week = day_text(_noon(week, zone), now, zone, language)
            text += f" (semaine du {of_week})" if language == "fr" else f" (week of {of_week})"
        lines.append(text)
    return lines


# --- the heatmap and the evidence export ---------------------------------------------------------


def heatmap_svg(store: Store, name: str, zone: ZoneInfo, language: str) -> str:
    grid = history.heatmap(store, zone, Scope(target=name))
    what = "Probabilité de mise en ligne" if language == "fr" else "Release probability"
    return history.heatmap_svg(grid, f"{what} — {name} ({zone.key})")


def export_zip(
    context: WebContext, target: TargetBase, period: Period, records: TargetPeriod, folder: Path
) -> tuple[Path, BinaryIO]:
    """The evidence export of the period, written into `folder` then zipped beside it: off
    the database thread (Chromium renders its pages, the PDF is laid out meanwhile)."""
    settings = context.config.creneau
    out = folder / export_name(target.name, period, settings.zone)
    # The config's authority time-stamps the zip's manifest (Sealer runs its own event loop).
    seal = sealer(context.config, settings.tsa, settings.tsa_ca)
    now = context.now()
    export(records, context.config, target, period, out, DEFAULT_MAX_PAGES, now, seal=seal)
    return out, open_zip(out)


def open_zip(out: Path) -> BinaryIO:
    """The export folder zipped, open for reading: the caller may delete the files at once,
    so that nothing is left on disk however the download ends."""
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                zipped.write(path, f"{out.name}/{path.relative_to(out).as_posix()}")
    return archive.open("rb")


def chunks_of(archive: BinaryIO, size: int = 1 << 16) -> Iterator[bytes]:
    with archive:
        while chunk := archive.read(size):
            yield chunk


def export_name(name: str, period: Period, zone: ZoneInfo) -> str:
    """'creneau-evidence-<target>-<first day>-<last day>', in ASCII (a header carries it)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    first = period.start.astimezone(zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    return f"creneau-evidence-{safe}-{first.isoformat()}-{last.isoformat()}"


def asked_period(request: Request, context: WebContext) -> Period:
    """The period of `?since=…&until=…`, as `creneau evidence` reads them (EvidenceError)."""
    since = request.query_params.get("since", "").strip()
    until = request.query_params.get("until", "").strip() or None
    if not since:
        raise EvidenceError("since: a first day is needed, e.g. 2026-11-01")
    try:
        return parse_period(since, until, context.config.creneau.zone, context.now())
    except EvidenceError as failure:
        said = str(failure).replace("--since", "since").replace("--until", "until")
        raise EvidenceError(said) from None


# --- the evidence preview: what the period covers, before the download --------------------------


@dataclass(frozen=True)
class CoverageShown:
    period: str
    attempts: int
    weeks: str  # distinct ISO weeks with an attempt, of those the period touches
    days: str
    hours: str
    slot_offered: str
    warning: str  # "" when the record is not thinner than the decisions cited
    calendar: Markup  # creneau's own SVG drawing, its texts escaped
    download: str  # the zip of the same period: path and query, after the root


@dataclass(frozen=True)
class EvidencePage:
    name: str
    target_path: str
    action: str  # the preview's own path: the form asks it again for another period
    since: str  # as typed
    until: str
    error: str  # why the period cannot be previewed ("" when it can)
    coverage: CoverageShown | None


def asked_bounds(request: Request) -> tuple[str, str]:
    return (
        request.query_params.get("since", "").strip(),
        request.query_params.get("until", "").strip(),
    )


def evidence_page(
    target: TargetBase,
    bounds: tuple[str, str],
    previewed: Preview | None,
    language: str,
    error: str = "",
) -> EvidencePage:
    path = target_path(target.name)
    since, until = bounds
    query = urlencode({"since": since, "until": until} if until else {"since": since})
    return EvidencePage(
        name=target.name,
        target_path=path,
        action=f"{path}/evidence",
        since=since,
        until=until,
        error=error,
        coverage=(
            coverage_shown(previewed, f"{path}/evidence.zip?{query}", language)
            if previewed is not None
            else None
        ),
    )


def coverage_shown(previewed: Preview, download: str, language: str) -> CoverageShown:
    facts, coverage = previewed.facts, previewed.coverage
    slots = facts.records.slots
    guichets = dict.fromkeys(shown(slot.guichet) for slot in slots)
    return CoverageShown(
        period=period_words(facts.period.start, facts.period.end, facts.zone, language),
        attempts=coverage.attempts,
        weeks=of_total(coverage.weeks_tried, len(coverage.weeks), language),
        days=of_total(coverage.days_tried, len(coverage.days), language),
        hours=hour_spans(coverage.hour_ranges, language) or "—",
        slot_offered=slot_offered_words(coverage.slots_offered, len(slots), [*guichets], language),
        warning=coverage_warning(coverage, language),
        calendar=Markup(calendar_svg(coverage, language)),
        download=download,
    )


def routes(context: WebContext) -> list[BaseRoute]:
    memo = HistoryMemo()  # used on the dashboard's database thread only
    return [
        Route("/targets/{name}", partial(target, context, memo), methods=["GET"]),
        Route("/targets/{name}/heatmap.svg", partial(heatmap, context), methods=["GET"]),
        Route("/targets/{name}/evidence", partial(evidence_preview, context), methods=["GET"]),
        Route("/targets/{name}/evidence.zip", partial(evidence, context), methods=["GET"]),
    ]


async def target(context: WebContext, memo: HistoryMemo, request: Request) -> Response:
    """/targets/<name>: the target's page."""
    found = configured_target(context, request.path_params["name"])
    if found is None:
        return _missing(context, request)
    shown_page = await target_page(context, found, context.now(), memo)
    return page(request, context, "target.html", page=shown_page)


async def heatmap(context: WebContext, request: Request) -> Response:
    """/targets/<name>/heatmap.svg: its weekday × hour map."""
    found = configured_target(context, request.path_params["name"])
    if found is None:
        return _missing(context, request)
    settings = context.config.creneau
    svg = await context.db(heatmap_svg, context.store, found.name, settings.zone, settings.language)
    return Response(svg, media_type="image/svg+xml")


async def evidence(context: WebContext, request: Request) -> Response:
    """/targets/<name>/evidence.zip: the evidence export of the period asked."""
    found = configured_target(context, request.path_params["name"])
    if found is None:
        return _missing(context, request)
    try:
        period = asked_period(request, context)
    except EvidenceError as failure:
        return problem(request, context, 400, str(failure))
    folder = Path(tempfile.mkdtemp(prefix="creneau-evidence-"))
    try:
        records = await context.db(records_of, context.store, found, period)
        out, archive = await run_in_threadpool(export_zip, context, found, period, records, folder)
    except SealFailed as failure:
        return problem(request, context, 502, str(failure))
    except EvidenceError as failure:
        return problem(request, context, 400, str(failure))
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the open zip stays readable
    return StreamingResponse(
        iterate_in_threadpool(chunks_of(archive)),
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{out.name}.zip"',
            "content-length": str(os.fstat(archive.fileno()).st_size),
        },
    )


async def evidence_preview(context: WebContext, request: Request) -> Response:
    """/targets/<name>/evidence: what the period asked covers, and the link to its zip."""
    found = configured_target(context, request.path_params["name"])
    if found is None:
        return _missing(context, request)
    bounds, language = asked_bounds(request), context.config.creneau.language
    try:
        period = asked_period(request, context)
        previewed = await context.db(
            preview, context.store, context.config, found, period, context.now()
        )
    except EvidenceError as failure:
        shown_page = evidence_page(found, bounds, None, language, error=str(failure))
        return page(request, context, "evidence.html", status=400, page=shown_page)
    shown_page = evidence_page(found, bounds, previewed, language)
    return page(request, context, "evidence.html", page=shown_page)


def _missing(context: WebContext, request: Request) -> Response:
    name = shown(request.path_params["name"], 100)
    language = context.config.creneau.language
    what = f"Aucune cible nommée {name}." if language == "fr" else f"No target named {name}."
    return problem(request, context, 404, what)
