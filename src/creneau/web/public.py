"""`/public/…`, only with `[web] public = true` (404 otherwise): what an association may
publish of "when are slots released at this préfecture", read only, for anyone.

- `/public/`: the targets, each with its last release and what its site says;
- `/public/<name>`: the weekday × hour heatmap, the recent releases, what the site says of
  its releases, with links to the same as data:
- `/public/<name>/heatmap.svg`, `/public/<name>/data.json` (heatmap cells, recent releases
  and what the site says, in the shapes of `creneau history heatmap|releases --json`),
  `/public/<name>/releases.csv`, `/public/<name>/heatmap.csv` (the columns of `--csv`), and
  `/public/<name>/feed.atom`: one entry per release, its id derived from the release itself
  (target, guichet, when it was seen), so it never changes.

Nothing here names a notification channel, shows a kept page, a target's URL or anything a
person typed: only the release history of the configured targets. Every text from a site
(guichet labels, what it says) is data, escaped by the templates and `creneau.terminal`."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from creneau import __version__
from creneau.dates import MONTHS, WEEKDAYS, long_datetime
from creneau.store import STORE_FAILURES
from creneau.terminal import clean, csv_row
from creneau.web.context import WebContext

if TYPE_CHECKING:
    from creneau.history import Heatmap, Release
    from creneau.results import ReleaseAnnouncement

RECENT = timedelta(days=28)  # the releases a page lists
MOST_RELEASES = 200  # and at most these, the newest
# A minute in the reader's browser (checks are minutes apart); not in a shared cache, since
# the dashboard may set its session cookie on any answer.
CACHE = "private, max-age=60"
FEED_NAMESPACE = uuid.UUID("5b0c6f3e-6a43-5d7e-9f0c-6372656e6561")  # creneau's, for entry ids

WORDS = {
    "fr": {
        "title": "Mises en ligne de rendez-vous",
        "intro": "Quand des créneaux apparaissent, d'après les vérifications de creneau.",
        "no_target": "Aucune cible publiée.",
        "last_release": "Dernière mise en ligne vue",
        "none_yet": "aucune encore",
        "site_says": "Le site indique",
        "site_last": "dernière mise en ligne le",
        "site_next": "prochaine le",
        "for_week": "pour la semaine du",
        "heatmap": "Probabilité de mise en ligne (jour × heure)",
        "heatmap_alt": "Carte jour × heure : part des heures observées avec une mise en ligne",
        "recent": "Mises en ligne récentes",
        "no_release": "Aucune mise en ligne ces 28 derniers jours.",
        "seen_at": "vue le",
        "after": "après une vérification à",
        "guichet": "guichet",
        "slots": "créneaux",
        "dates": "dates proposées",
        "data": "Les mêmes données",
        "feed": "flux Atom",
        "released": "créneaux mis en ligne",
        "released_one": "créneau mis en ligne",
        "between": "entre",
        "and": "et",
        "all_targets": "Toutes les cibles",
        "zone": "Heures de",
        "colon": " :",
        "csv_releases": "CSV des mises en ligne",
        "csv_heatmap": "CSV de la carte jour × heure",
    },
    "en": {
        "title": "Appointment releases",
        "intro": "When slots appear, from creneau's checks.",
        "no_target": "No target published.",
        "last_release": "Last release seen",
        "none_yet": "none yet",
        "site_says": "The site says",
        "site_last": "slots last put online",
        "site_next": "next",
        "for_week": "for the week of",
        "heatmap": "Release probability (weekday × hour)",
        "heatmap_alt": "Weekday × hour map: share of observed hours with a release",
        "recent": "Recent releases",
        "no_release": "No release in the last 28 days.",
        "seen_at": "seen",
        "after": "after a check at",
        "guichet": "guichet",
        "slots": "slots",
        "dates": "dates offered",
        "data": "The same as data",
        "feed": "Atom feed",
        "released": "slots released",
        "released_one": "slot released",
        "between": "between",
        "and": "and",
        "all_targets": "All targets",
        "zone": "Times in",
        "colon": ":",
        "csv_releases": "releases as CSV",
        "csv_heatmap": "weekday × hour map as CSV",
    },
}


# --- what a page shows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicTarget:
    """One target's public history: its heatmap (all history), its recent releases (newest
    first) and what its site last said of its releases."""

    name: str
    heatmap: Heatmap | None
    releases: tuple[Release, ...]
    last_release: Release | None
    site_says: ReleaseAnnouncement | None = None


def public_targets(
    context: WebContext, now: datetime, wanted: str | None = None
) -> list[PublicTarget]:
    """The configured targets' public history (only `wanted` when given; its heatmap only
    then): on the database thread."""
    from creneau import history

    store, zone = context.store, context.config.creneau.zone
    scope = history.Scope(target=wanted)
    every: dict[str, list[Release]] = {}
    for release in history.releases(store, scope):
        every.setdefault(release.target, []).append(release)
    said = history.site_release_facts(store, scope)
    found = []
    for target in context.config.targets:
        if wanted not in (None, target.name):
            continue
        mine = every.get(target.name, [])
        recent = [release for release in mine if release.seen_at >= now - RECENT]
        grid = history.heatmap(store, zone, scope) if wanted else None
        newest = tuple(reversed(recent[-MOST_RELEASES:]))
        last = mine[-1] if mine else None
        found.append(PublicTarget(target.name, grid, newest, last, said.get(target.name)))
    return found


def _day(day: date, language: str) -> str:
    return f"{day:%d/%m/%Y}" if language == "fr" else day.isoformat()


def site_says_text(said: ReleaseAnnouncement | None, zone: ZoneInfo, language: str) -> str:
    """'dernière mise en ligne le lundi 4 mars 2030 à 09:00, pour la semaine du …'."""
    if said is None:
        return ""
    words = WORDS[language]
    parts = []
    for label, at, week in (
        (words["site_last"], said.last_at, said.last_week),
        (words["site_next"], said.next_at, said.next_week),
    ):
        if at is None:
            continue
        for_week = f", {words['for_week']} {_day(week, language)}" if week else ""
        parts.append(f"{label} {long_datetime(at, zone, language)}{for_week}")
    return "; ".join(parts)


def release_line(release: Release, zone: ZoneInfo, language: str) -> dict[str, str]:
    """A release as a page and a feed entry read it."""
    words = WORDS[language]
    days = sorted({start.astimezone(zone).date() for start in release.slot_starts})
    offered = ", ".join(day_text(day, language) for day in days)
    if len(days) > 3:
        first, last = day_text(days[0], language), day_text(days[-1], language)
        offered = f"{first} → {last} ({len(days)})"
    released = words["released_one" if release.slot_count == 1 else "released"]
    after = ""
    if release.previous_check_at is not None:
        after = f"{words['after']} {release.previous_check_at.astimezone(zone):%H:%M}"
    return {
        "seen": long_datetime(release.seen_at, zone, language),
        "after": after,
        "guichet": clean(release.guichet),
        "slots": str(release.slot_count),
        "dates": offered,
        "title": f"{release.slot_count} {released} — {clean(release.guichet)}",
    }


def day_text(day: date, language: str) -> str:
    """'jeudi 7 mars' / 'Thursday 7 March'."""
    return f"{WEEKDAYS[language][day.weekday()]} {day.day} {MONTHS[language][day.month - 1]}"


def entry_id(release: Release) -> str:
    """The release's feed id: the same for the same release, wherever it is served from."""
    identity = f"{release.target}\n{release.guichet_id}\n{release.seen_at.isoformat()}"
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, identity)}"


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_row(header))
    writer.writerows(csv_row(row) for row in rows)
    return buffer.getvalue()


def data_json(found: PublicTarget, zone: ZoneInfo) -> dict[str, Any]:
    grid = found.heatmap
    return {
        "target": found.name,
        "timezone": zone.key,
        "site_says": found.site_says.as_facts() if found.site_says else {},
        "releases": [release.to_json() for release in reversed(found.releases)],  # oldest first
        "heatmap": {
            "releases": grid.releases if grid else 0,
            "observed_hours": grid.observed_hours if grid else 0,
            "unplaced": grid.unplaced if grid else 0,
            "cells": [cell.to_json() for cell in grid.cells] if grid else [],
        },
    }


# --- the routes -----------------------------------------------------------------------------------


def routes(context: WebContext) -> list[BaseRoute]:
    return [
        Route("/public/", partial(index, context), methods=["GET"]),
        Route("/public/{name}", partial(target_page, context), methods=["GET"]),
        Route("/public/{name}/heatmap.svg", partial(heatmap_svg, context), methods=["GET"]),
        Route("/public/{name}/data.json", partial(data, context), methods=["GET"]),
        Route("/public/{name}/releases.csv", partial(releases_csv, context), methods=["GET"]),
        Route("/public/{name}/heatmap.csv", partial(heatmap_csv, context), methods=["GET"]),
        Route("/public/{name}/feed.atom", partial(feed, context), methods=["GET"]),
    ]


async def index(context: WebContext, request: Request) -> Response:
    """/public/: the targets, each with its last release and what its site says."""
    if not context.config.web.public:
        return _not_found()
    try:
        found = await context.db(public_targets, context, context.now())
    except STORE_FAILURES:
        return PlainTextResponse("the database cannot be read", 503)
    language, zone = _locale(context)
    page = context.render(
        "public_index.html",
        **_page(request, language, zone),
        targets=[_summary(target, zone, language) for target in found],
    )
    return _public(HTMLResponse(page))


async def target_page(context: WebContext, request: Request) -> Response:
    """/public/<name>: its heatmap, its recent releases, what its site says."""
    found = await _one(context, request)
    if isinstance(found, Response):
        return found
    language, zone = _locale(context)
    summary = _summary(found, zone, language)
    page = context.render(
        "public_target.html",
        **_page(request, language, zone),
        target=summary,
        releases=[release_line(r, zone, language) for r in found.releases],
        has_heatmap=bool(found.heatmap and found.heatmap.observed_hours),
    )
    return _public(HTMLResponse(page))


async def heatmap_svg(context: WebContext, request: Request) -> Response:
    from creneau.history import heatmap_svg as draw

    found = await _one(context, request)
    if isinstance(found, Response):
        return found
    if found.heatmap is None:
        return _not_found()
    title = f"{found.name} — {WORDS[context.config.creneau.language]['heatmap']}"
    return _public(Response(draw(found.heatmap, title), media_type="image/svg+xml"))


async def data(context: WebContext, request: Request) -> Response:
    found = await _one(context, request)
    if isinstance(found, Response):
        return found
    return _public(JSONResponse(data_json(found, context.config.creneau.zone)))


async def releases_csv(context: WebContext, request: Request) -> Response:
    from creneau.history.columns import RELEASE_COLUMNS, release_row

    found = await _one(context, request)
    if isinstance(found, Response):
        return found
    text = csv_text(RELEASE_COLUMNS, (release_row(r) for r in reversed(found.releases)))
    return _public(_csv(text, f"{found.name}-releases.csv"))


async def heatmap_csv(context: WebContext, request: Request) -> Response:
    from creneau.history.columns import HEATMAP_COLUMNS, cell_row

    found = await _one(context, request)
    if isinstance(found, Response):
        return found
    if found.heatmap is None:
        return _not_found()
    text = csv_text(HEATMAP_COLUMNS, (cell_row(cell) for cell in found.heatmap.cells))
    return _public(_csv(text, f"{found.name}-heatmap.csv"))


async def feed(context: WebContext, request: Request) -> Response:
    """/public/<name>/feed.atom: one entry per release, its id from the release itself."""
    found = await _one(context, request)
    if isinstance(found, Response):
        return found
    language, zone = _locale(context)
    page = f"{_base_url(context, request)}/public/{quote(found.name, safe='')}"
    entries = [
        {
            "id": entry_id(release),
            "updated": rfc3339(release.seen_at),
            **release_line(release, zone, language),
        }
        for release in found.releases
    ]
    last = found.last_release
    xml = context.render(
        "feed_atom.xml",
        language=language,
        words=WORDS[language],
        target_name=found.name,
        feed_id=f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, found.name)}",
        self_url=f"{page}/feed.atom",
        page_url=page,
        updated=rfc3339(last.seen_at if last else datetime(1970, 1, 1, tzinfo=UTC)),
        version=__version__,
        entries=entries,
    )
    return _public(Response(xml, media_type="application/atom+xml"))


async def _one(context: WebContext, request: Request) -> PublicTarget | Response:
    """The target the path names, with its heatmap; or the answer saying why not."""
    if not context.config.web.public:
        return _not_found()
    name = request.path_params["name"]
    try:
        found = await context.db(public_targets, context, context.now(), name)
    except STORE_FAILURES:
        return PlainTextResponse("the database cannot be read", 503)
    return found[0] if found else _not_found()


def _base_url(context: WebContext, request: Request) -> str:
    """The absolute address of the dashboard, for the feed's links."""
    public_url = context.config.web.public_url
    return (public_url or str(request.base_url)).rstrip("/")


def _locale(context: WebContext) -> tuple[str, ZoneInfo]:
    """The language and time zone of the config as it is now (it may be reloaded)."""
    return context.config.creneau.language, context.config.creneau.zone


def _page(request: Request, language: str, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "language": language,
        "root": request.scope.get("root_path", ""),
        "t": WORDS[language],
        "zone": zone.key,
    }


def _summary(found: PublicTarget, zone: ZoneInfo, language: str) -> dict[str, Any]:
    last = found.last_release
    return {
        "name": found.name,
        "path": quote(found.name, safe=""),
        "last": release_line(last, zone, language) if last else None,
        "site_says": site_says_text(found.site_says, zone, language),
    }


def _public(response: Response) -> Response:
    response.headers["cache-control"] = CACHE
    return response


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{quote(filename)}"'},
    )


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)
