"""The pages as a person saw them: each distinct page kept, rendered by a real browser engine
(Chromium, headless, offline, without scripts) into an image with a band stating where and
when it was received and the SHA-256 of the bytes received.

A judge needs one dated screenshot a day, not thousands of nearly identical pages: for each
local day and each result seen that day, the first check whose page is in the export; each
distinct page once, at most MAX_RENDERINGS, earliest first. The page is laid out 1024 CSS
pixels wide from the bytes kept, and only them: the site's style sheets, images and scripts
were never kept, and the browser is kept from fetching them (`chromium`). The band is drawn
above the page in the same image (a second page holding the band and the first image), and
its lines are kept in `Rendering.band` and, in the PNG, in an iTXt chunk."""

from __future__ import annotations

import base64
import contextlib
import html
import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from creneau.dates import MONTHS, WEEKDAYS
from creneau.evidence.chromium import Browser, BrowserError, Capture, engine_version, find_engine
from creneau.evidence.facts import Facts
from creneau.evidence.pages import PAGES
from creneau.evidence.report import safe_url
from creneau.evidence.times import long_fr, utc_clock
from creneau.store.records import CheckRecord

RENDERINGS = "renderings"
MAX_RENDERINGS = 120  # a screenshot a day for about three months, a few results a day
WIDTH = 1024  # CSS pixels: a desktop browser's window
MAX_HEIGHT = 4000  # a page taller than this is cut (the band says so)
PAGE_TIMEOUT_S = 60.0  # per page: a hostile page fails alone, the others are rendered
BAND_KEYWORD = "Description"  # the PNG text chunk holding the band's lines
NO_ENGINE_EN = (
    "no browser engine found: install Debian's chromium (apt-get install chromium) or set "
    "CRENEAU_CHROMIUM — the rest of the export is complete"
)
NO_ENGINE_FR = (
    "aucun navigateur trouvé : installez le paquet chromium de Debian (apt-get install "
    "chromium) ou indiquez-en un dans CRENEAU_CHROMIUM — le reste de l'export est complet"
)


@dataclass(frozen=True)
class Rendering:
    """One page's image in the export."""

    sha256: str  # of the bytes received: the page file's name in pages/
    image: str  # the PNG in the export, relative ("renderings/<sha256>.png")
    page_file: str  # the page in the export ("pages/<sha256>.html")
    url: str  # where it was received, secrets removed
    received_at: datetime  # the first check that received it (UTC)
    http_status: int | None
    band: tuple[str, ...]  # the band's lines, as drawn on the image (French, then English)
    width: int  # the image's size in pixels
    height: int
    truncated: bool = False  # the page was taller than MAX_HEIGHT: its bottom is not shown


@dataclass(frozen=True)
class Renderings:
    """What the rendering step made, or why it made nothing."""

    made: tuple[Rendering, ...]
    engine: str  # "Chromium 131.0.6778.85", or "" when none was found
    problem: str  # "" or one line saying why some or all pages were not rendered
    problem_fr: str = ""  # the same in French
    left_out: int = 0  # pages that would have been rendered but for the limit


@dataclass(frozen=True)
class PageToRender:
    """A page chosen to be rendered, and the first check that received its bytes."""

    sha256: str
    page_file: str  # "pages/<sha256>.html" or ".json"
    check: CheckRecord

    @property
    def is_json(self) -> bool:
        return self.page_file.endswith(".json")


def pages_to_render(facts: Facts, limit: int = MAX_RENDERINGS) -> list[PageToRender]:
    """The first `limit` of `pages_worth_rendering`."""
    return pages_worth_rendering(facts)[: max(0, limit)]


def pages_worth_rendering(facts: Facts) -> list[PageToRender]:
    """For each local day and each result seen that day, the first check whose page is in
    the export; each distinct page once, dated by the first check that received it,
    earliest first."""
    first_check: dict[str, CheckRecord] = {}
    for check in facts.checks:
        if check.page_sha256:
            first_check.setdefault(check.page_sha256, check)
    covered: set[tuple[date, str]] = set()
    chosen: dict[str, PageToRender] = {}
    for check in facts.checks:
        key = (check.started_at.astimezone(facts.zone).date(), check.status)
        page_file = facts.pages.of(check.page_sha256)
        if key in covered or not page_file.startswith(f"{PAGES}/"):
            continue
        covered.add(key)
        sha256 = str(check.page_sha256)
        if sha256 not in chosen:
            chosen[sha256] = PageToRender(sha256, page_file, first_check[sha256])
    return sorted(chosen.values(), key=lambda page: (page.check.started_at, page.check.id))


def render_pages(facts: Facts, export_dir: Path, limit: int = MAX_RENDERINGS) -> Renderings:
    """renderings/<sha256>.png for each page `pages_to_render` chooses; nothing when no
    engine is found or it cannot start (`problem` says why), a page that fails is skipped
    (and named in `problem`)."""
    if limit <= 0:
        return Renderings(made=(), engine="", problem="")  # none asked for
    executable = find_engine()
    if executable is None:
        return Renderings(made=(), engine="", problem=NO_ENGINE_EN, problem_fr=NO_ENGINE_FR)
    engine = engine_version(executable) or Path(executable).name
    worth = pages_worth_rendering(facts)
    chosen, left_out = worth[: max(0, limit)], max(0, len(worth) - limit)
    made: list[Rendering] = []
    failed: list[tuple[str, str]] = []
    browser: Browser | None = None
    try:
        for page in chosen:
            try:
                browser = browser or _started(Browser(executable, PAGE_TIMEOUT_S))
                made.append(_render(browser, facts, export_dir, page, engine))
            except BrowserError as error:
                if browser is None:  # could not start: nothing is rendered
                    return Renderings((), "", *_no_start(error))
                failed.append((page.sha256, str(error)))
                browser.close()  # a page that hung may have left it in any state
                browser = None
    finally:
        if browser is not None:
            browser.close()
    return Renderings(tuple(made), engine, *_failures(failed), left_out=left_out)


def _started(browser: Browser) -> Browser:
    browser.start()
    return browser


def _no_start(error: BrowserError) -> tuple[str, str]:
    return f"{NO_ENGINE_EN} ({error})", f"{NO_ENGINE_FR} ({error})"


def _failures(failed: Sequence[tuple[str, str]]) -> tuple[str, str]:
    if not failed:
        return "", ""
    sha256, error = failed[0]
    return (
        f"{len(failed)} page(s) could not be rendered (first: {sha256}: {error})",
        f"{len(failed)} page(s) n'ont pas pu être rendues (la première : {sha256} : {error})",
    )


def _render(
    browser: Browser, facts: Facts, export_dir: Path, page: PageToRender, engine: str
) -> Rendering:
    body = (export_dir / page.page_file).read_bytes()
    shot = browser.capture(_as_html(body) if page.is_json else body, WIDTH, MAX_HEIGHT)
    url, status = _where(page.check, page.sha256, facts.url)
    band = band_lines(page, url, status, facts, engine, shot)
    framed = browser.capture(_framed(band, shot), WIDTH, shot.height + MAX_HEIGHT)
    image = f"{RENDERINGS}/{page.sha256}.png"
    (export_dir / RENDERINGS).mkdir(parents=True, exist_ok=True)
    (export_dir / image).write_bytes(with_text(framed.png, BAND_KEYWORD, "\n".join(band)))
    return Rendering(
        sha256=page.sha256,
        image=image,
        page_file=page.page_file,
        url=url,
        received_at=page.check.started_at,
        http_status=status,
        band=band,
        width=framed.width,
        height=framed.height,
        truncated=shot.truncated,
    )


def _where(check: CheckRecord, sha256: str, default_url: str) -> tuple[str, int | None]:
    """The URL and HTTP status the check recorded for these bytes (with keep_pages, each
    page it read), else the target's URL and the check's status."""
    for entry in check.pages or []:
        if entry.get("sha256") == sha256 and entry.get("url"):
            status = entry.get("status")
            return safe_url(str(entry["url"])), status if isinstance(status, int) else None
    return safe_url(default_url), check.http_status


def band_lines(
    page: PageToRender, url: str, status: int | None, facts: Facts, engine: str, shot: Capture
) -> tuple[str, ...]:
    at, zone = page.check.started_at, facts.zone
    local = at.astimezone(zone)
    offset = local.isoformat()[19:] or "+00:00"
    english = (
        f"{WEEKDAYS['en'][local.weekday()]} {local.day} {MONTHS['en'][local.month - 1]} "
        f"{local.year} at {local:%H:%M:%S}"
    )
    status_fr = f"statut HTTP {status}" if status is not None else "aucun statut HTTP"
    status_en = f"HTTP status {status}" if status is not None else "no HTTP status"
    json_fr = " ; réponse JSON présentée indentée" if page.is_json else ""
    json_en = "; JSON answer shown indented" if page.is_json else ""
    cut_fr = f" ; page tronquée à {shot.height} pixels de haut" if shot.truncated else ""
    cut_en = f"; page cut at {shot.height} pixels high" if shot.truncated else ""
    return (
        f"Page reçue de : {url}",
        f"le {long_fr(at, zone)}, heure locale {zone.key} (UTC{offset}), soit le "
        f"{utc_clock(at)} UTC ; {status_fr}",
        f"SHA-256 des octets reçus : {page.sha256} (fichier {page.page_file})",
        f"Rendu hors ligne par {engine}, sans les feuilles de style, images ni scripts du "
        f"site, qui n'ont pas été conservés{json_fr}{cut_fr}.",
        f"Page received from: {url}",
        f"on {english}, local time {zone.key} (UTC{offset}), that is {utc_clock(at)} UTC; "
        f"{status_en}",
        f"SHA-256 of the bytes received: {page.sha256} (file {page.page_file})",
        f"Rendered offline by {engine}, without the site's style sheets, images and scripts, "
        f"which were not kept{json_en}{cut_en}.",
    )


def _as_html(body: bytes) -> bytes:
    """A JSON answer as a browser would show it, indented to be read."""
    text = body.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    wrapped = "<style>pre{white-space:pre-wrap;overflow-wrap:anywhere}</style>"
    return f"<!doctype html><meta charset=utf-8>{wrapped}<pre>{html.escape(text)}</pre>".encode()


BAND_STYLE = (
    "body{margin:0;background:#fff}"
    ".band{font:14px/1.45 'DejaVu Sans',sans-serif;color:#000;background:#fff4c2;"
    "padding:8px 10px;border-bottom:3px solid #000;overflow-wrap:anywhere}"
    ".band p{margin:0}.band .en{margin-top:6px}"
    "img{display:block}"
)


def _framed(band: Sequence[str], shot: Capture) -> bytes:
    """The band above the page's image, as a page to capture."""
    half = len(band) // 2
    french = "".join(f"<p>{html.escape(line)}</p>" for line in band[:half])
    english = "".join(f"<p>{html.escape(line)}</p>" for line in band[half:])
    image = base64.b64encode(shot.png).decode("ascii")
    return (
        f"<!doctype html><meta charset=utf-8><style>{BAND_STYLE}</style>"
        f"<div class=band><div lang=fr>{french}</div><div class=en lang=en>{english}</div></div>"
        f'<img alt="" width={shot.width} height={shot.height} src="data:image/png;base64,{image}">'
    ).encode()


def with_text(png: bytes, keyword: str, text: str) -> bytes:
    """The PNG with an iTXt chunk (UTF-8 text: a URL or a French word needs more than tEXt's
    Latin-1) just before its end."""
    data = keyword.encode("latin-1") + b"\0\0\0" + b"\0\0" + text.encode("utf-8")
    chunk = b"iTXt" + data
    packed = struct.pack(">I", len(data)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    end = png.rindex(b"IEND") - 4
    return png[:end] + packed + png[end:]


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's header."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def png_text(png: bytes, keyword: str) -> str | None:
    """The text of the iTXt chunk named `keyword`, if any."""
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"iTXt" and data.startswith(keyword.encode("latin-1") + b"\0"):
            return data[len(keyword) + 5 :].decode("utf-8")
        at += 12 + length
    return None
