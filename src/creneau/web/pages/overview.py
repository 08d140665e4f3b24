"""The overview (`/`): each target's status as a word and a colour, when it was checked and
will be next, the earliest slot shown per guichet with its booking link, its last release,
its next one when known (announced by the site or learned from history), its host's state,
and a 24 h strip of statuses. `/fragments/overview` is the same list alone, which the page
fetches again every 20 s (htmx); without JavaScript the page is whole."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from creneau.dates import local_time, long_datetime
from creneau.details import render
from creneau.fetch.politeness import HostState
from creneau.history.attention import needing_a_person_first
from creneau.redact import booking_link
from creneau.results import Slot
from creneau.store import CheckRecord, Store
from creneau.store import dashboard as queries
from creneau.store.dashboard import BucketCount, OpenSlot, ReleasedAt
from creneau.targets import TargetBase
from creneau.usecases import release_texts as words
from creneau.usecases.releases import ReleaseRecords, next_releases, read_releases
from creneau.usecases.session_notice import target_notice
from creneau.web.context import WebContext
from creneau.web.pages.common import booking_page, page, shown, target_path
from creneau.web.pages.strips import DAY, Period, Strip, strips_of
from creneau.web.pages.texts import (
    STATUS_WORDS,
    checked_ago,
    next_check_text,
    short_moment,
    slots_count,
)

REFRESH_SECONDS = 20
TIME_NOT_READ = {"fr": "heure non lue", "en": "time not read"}


@dataclass(frozen=True)
class SlotLine:
    guichet: str
    when: str
    link: str  # where to book it ("" when unknown)


@dataclass(frozen=True)
class HostLine:
    name: str
    state: str  # "ok", or why no request goes to it now, until when
    trouble: bool


@dataclass(frozen=True)
class NextReleaseLine:
    """A target's next release as people read it: when (or 'aucune connue'), where it comes
    from, the cost of the burst at an announced one ("" otherwise), and what to say of the
    site session it needs (`session`: "" for nothing; `solve`: with the CAPTCHA's link)."""

    known: bool
    when: str
    source: str
    burst: str
    session: str = ""
    solve: bool = False


@dataclass(frozen=True)
class TargetLine:
    """One target as the overview (and the top of its page) shows it."""

    name: str
    path: str
    system: str
    status: str  # a status value, or "never"
    status_word: str
    checked: str
    checked_at: str  # the exact local time
    detail: str
    next_check: str
    slots: tuple[SlotLine, ...]  # the earliest shown per guichet
    last_release: str
    next_release: NextReleaseLine
    host: HostLine
    strip: Strip
    booking_page: str
    captcha_path: str  # the CAPTCHA hand-off, when one waits for a person ("" otherwise)


@dataclass(frozen=True)
class Records:
    """What the store says of some targets, read in one go on the dashboard's thread."""

    latest: dict[str, CheckRecord]
    slots: list[OpenSlot]
    releases: list[ReleasedAt]
    next_checks: dict[str, datetime | None]
    hosts: dict[str, HostState]
    counts: list[BucketCount]
    upcoming: ReleaseRecords  # what the next releases are decided from


@dataclass
class RecordsMemo:
    """The last records read, kept until a check is recorded or the strip's period moves:
    phones refreshing the overview every 20 s, and several people, cost one small query."""

    key: tuple[object, ...] = ()
    records: Records | None = None
    strips_key: tuple[object, ...] = ()  # the records, and what the strips' words depend on
    strips: dict[str, Strip] = field(default_factory=dict)

    def strips_of(
        self,
        records: Records,
        names: Sequence[str],
        period: Period,
        context: WebContext,
        now: datetime,
    ) -> dict[str, Strip]:
        settings = context.config.creneau
        zone, language = settings.zone, settings.language
        if records is not self.records:  # not the memo's: nothing to keep
            return strips_of(records.counts, names, period, zone, now, language)
        key = (self.key, now.astimezone(zone).date(), zone, language)
        if key != self.strips_key:
            self.strips = strips_of(records.counts, names, period, zone, now, language)
            self.strips_key = key
        return self.strips


def read_records(
    store: Store, names: Sequence[str], period: Period, memo: RecordsMemo | None = None
) -> Records:
    key = (tuple(names), period.start, queries.last_check_id(store))
    if memo is not None and memo.key == key and memo.records is not None:
        return memo.records
    records = _read_records(store, names, period)
    if memo is not None:
        memo.key, memo.records = key, records
    return records


def records_of_one(store: Store, name: str, period: Period, latest: CheckRecord | None) -> Records:
    """The records of one target whose latest check the caller read already (a target page
    reads its recent checks)."""
    return Records(
        latest={name: latest} if latest is not None else {},
        slots=queries.open_slots(store, [name]),
        releases=queries.last_releases(store, [name]),
        next_checks=store.next_checks(),
        hosts=store.host_states(),
        counts=queries.status_counts(store, [name], period.start, period.bucket, period.buckets),
        upcoming=read_releases(store, [name]),
    )


def _read_records(store: Store, names: Sequence[str], period: Period) -> Records:
    return Records(
        latest=queries.latest_checks(store, names),
        slots=queries.open_slots(store, names),
        releases=queries.last_releases(store, names),
        next_checks=store.next_checks(),
        hosts=store.host_states(),
        counts=queries.status_counts(store, names, period.start, period.bucket, period.buckets),
        upcoming=read_releases(store, names),
    )


async def target_lines(
    context: WebContext,
    targets: Sequence[TargetBase],
    now: datetime,
    memo: RecordsMemo | None = None,
) -> list[TargetLine]:
    """The overview's lines for these targets, those that need a person first (slots, a
    CAPTCHA, trouble), next checks live from the daemon when it runs in this process, else as
    it last saved them."""
    period = Period.ending_at(now, *DAY)
    names = [target.name for target in targets]
    records = await context.db(read_records, context.store, names, period, memo)
    statuses = {name: check.status for name, check in records.latest.items()}
    ordered = needing_a_person_first(targets, statuses)
    return lines_of(context, ordered, records, period, now, memo)


def lines_of(
    context: WebContext,
    targets: Sequence[TargetBase],
    records: Records,
    period: Period,
    now: datetime,
    memo: RecordsMemo | None = None,
) -> list[TargetLine]:
    """The lines of these targets from their records (`period`: the strips')."""
    next_checks: Mapping[str, datetime | None] = (
        context.live.next_checks() if context.live is not None else records.next_checks
    )
    names = [target.name for target in targets]
    strips = (memo or RecordsMemo()).strips_of(records, names, period, context, now)
    return [
        line_of(target, records, next_checks, strips[target.name], context, now)
        for target in targets
    ]


def line_of(
    target: TargetBase,
    records: Records,
    next_checks: Mapping[str, datetime | None],
    strip: Strip,
    context: WebContext,
    now: datetime,
) -> TargetLine:
    language, zone = context.config.creneau.language, context.config.creneau.zone
    check = records.latest.get(target.name)
    status = check.status if check else "never"
    mine = [slot for slot in records.slots if slot.target == target.name]
    return TargetLine(
        name=target.name,
        path=target_path(target.name),
        system=target.system,
        status=status,
        status_word=STATUS_WORDS[language].get(status, status),
        checked=checked_ago(check.started_at, now, language) if check else "",
        checked_at=local_time(check.started_at if check else None, zone),
        detail=shown(render(check.said, language, zone)) if check else "",
        next_check=next_check_text(next_checks.get(target.name), now, zone, language),
        slots=tuple(earliest_per_guichet(mine, target, check, zone, language)),
        last_release=release_text(
            [r for r in records.releases if r.target == target.name], now, zone, language
        ),
        next_release=next_release_line(target, records.upcoming, context, now, status),
        host=host_line(target.host, records.hosts.get(target.host), now, zone, language),
        strip=strip,
        booking_page=booking_page(target),
        captcha_path=f"/captcha/{quote(target.name, safe='')}" if status == "captcha" else "",
    )


def earliest_per_guichet(
    slots: Sequence[OpenSlot],
    target: TargetBase,
    check: CheckRecord | None,
    zone: ZoneInfo,
    language: str,
) -> list[SlotLine]:
    """The earliest slot of each guichet (slots come by guichet, then start)."""
    earliest: dict[str, OpenSlot] = {}
    for slot in slots:
        earliest.setdefault(slot.guichet_id, slot)
    return [slot_line(slot, target, check, zone, language) for slot in earliest.values()]


def slot_line(
    slot: OpenSlot, target: TargetBase, check: CheckRecord | None, zone: ZoneInfo, language: str
) -> SlotLine:
    """A slot with where to book it: its own page when the site gave one (ANTS), else the
    target's."""
    known = Slot(slot.start, slot.guichet_id, slot.guichet, slot.key).time_known
    when = long_datetime(slot.start, zone, language) if known else TIME_NOT_READ[language]
    own = booking_link(check.booking_url(slot.key)) if check else ""
    return SlotLine(shown(slot.guichet), when, own or booking_page(target))


def release_text(
    released: Sequence[ReleasedAt], now: datetime, zone: ZoneInfo, language: str
) -> str:
    """'lun. 4 mars 09:20 — 3 créneaux (Guichet 2)'; '' when none was seen."""
    if not released:
        return ""
    where = ", ".join(
        f"{slots_count(part.slots, language)} ({shown(part.guichet)})" for part in released
    )
    return f"{short_moment(released[0].seen_at, now, zone, language)} — {where}"


def next_release_line(
    target: TargetBase,
    upcoming: ReleaseRecords,
    context: WebContext,
    now: datetime,
    status: str = "never",
) -> NextReleaseLine:
    settings = context.config.creneau
    zone, language = settings.zone, settings.language
    budgets = {target.name: context.config.budget_for(target.host)}
    found = next_releases(upcoming, [target.name], now, zone, budgets)[target.name]
    notice = target_notice(target, upcoming.announced, {target.name: status}, now)
    session = words.session_text(notice, zone, language)
    solve = notice is not None and notice.kind == "solve_captcha"
    if found is None:
        none = words.release_text(None, zone, language)
        return NextReleaseLine(False, none, "", "", session, solve)
    burst = words.burst_text(found.cost, zone, language) if found.cost is not None else ""
    return NextReleaseLine(
        True,
        words.moment_text(found.expected, zone, language),
        words.source_text(found.expected, language),
        burst,
        session,
        solve,
    )


def host_line(
    host: str, state: HostState | None, now: datetime, zone: ZoneInfo, language: str
) -> HostLine:
    if state and state.open_until and state.open_until > now:
        until = short_moment(state.open_until, now, zone, language)
        said = render(state.reason, language, zone)
        reason = f" ({shown(said)})" if said else ""
        text = f"en pause jusqu'à {until}" if language == "fr" else f"cooling down until {until}"
        return HostLine(host, text + reason, True)
    if state and state.not_before and state.not_before > now:
        until = short_moment(state.not_before, now, zone, language)
        text = (
            f"Retry-After : jusqu'à {until}" if language == "fr" else f"Retry-After until {until}"
        )
        return HostLine(host, text, True)
    return HostLine(host, "ok", False)


def routes(context: WebContext) -> list[BaseRoute]:
    memo = RecordsMemo()  # used on the dashboard's database thread only
    return [
        Route("/", partial(overview, context, memo), methods=["GET"]),
        Route("/fragments/overview", partial(fragment, context, memo), methods=["GET"]),
    ]


async def overview(context: WebContext, memo: RecordsMemo, request: Request) -> Response:
    """/: every target's line, refreshed by the fragment below."""
    lines = await target_lines(context, context.config.targets, context.now(), memo)
    return page(request, context, "overview.html", lines=lines, refresh=REFRESH_SECONDS)


async def fragment(context: WebContext, memo: RecordsMemo, request: Request) -> Response:
    """/fragments/overview: the overview's list alone."""
    lines = await target_lines(context, context.config.targets, context.now(), memo)
    return page(request, context, "overview_list.html", lines=lines)
