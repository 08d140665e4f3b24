"""The pages as a person saw them: which pages are rendered (one a day and result, each
distinct page once, earliest first, bounded), the band above each image stating the page's
SHA-256, the Paris time of its check, its HTTP status and its URL without secrets; the
browser offline (a local server receives no request at all); a hostile page that cannot
hang the export; and no browser, or one that cannot start: a clear problem and no file."""

from __future__ import annotations

import hashlib
import http.server
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from creneau.evidence import chromium, renderings
from creneau.evidence.chromium import Browser, find_engine
from creneau.evidence.facts import Facts
from creneau.evidence.pages import NOT_KEPT, PageOutcome, Pages
from creneau.evidence.period import Period
from creneau.evidence.renderings import (
    BAND_KEYWORD,
    NO_ENGINE_EN,
    NO_ENGINE_FR,
    WIDTH,
    Renderings,
    pages_to_render,
    png_size,
    png_text,
    render_pages,
)
from creneau.store.evidence import TargetPeriod
from creneau.store.records import CheckRecord
from harness.records import check_record

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 8, 0, 5, tzinfo=UTC)  # Monday, 09:00:05 in Paris
URL = "https://pref.example/booking/create/989"
SECRET = "tok-Secret-31415"
FIXTURE = Path(__file__).parents[2] / "fixtures" / "ezbooking" / "no-slot.html"
NEEDS_CHROMIUM = pytest.mark.skipif(
    find_engine() is None,
    reason="renderings need Debian's chromium (apt-get install chromium) or CRENEAU_CHROMIUM "
    "naming a Chromium binary",
)


def check(
    number: int,
    at: datetime,
    status: str = "none",
    sha256: str | None = None,
    http_status: int | None = 200,
    pages: list[dict[str, Any]] | None = None,
) -> CheckRecord:
    return check_record(
        at, status, number=number, page_sha256=sha256, http_status=http_status, pages=pages
    )


def facts_of(checks: list[CheckRecord], outcomes: dict[str, PageOutcome]) -> Facts:
    return Facts(
        target="nanterre",
        system="ezbooking",
        url=URL,
        zone=PARIS,
        period=Period(T0 - timedelta(days=1), T0 + timedelta(days=30)),
        records=TargetPeriod(tuple(checks), (), ()),
        pages=Pages(outcomes, 5000, 0),
        keep_pages=True,
        retention=timedelta(days=90),
        generated_at=T0 + timedelta(days=30),
    )


def kept(*hashes: str, suffix: str = ".html") -> dict[str, PageOutcome]:
    return {sha: PageOutcome(file=f"pages/{sha}{suffix}") for sha in hashes}


def test_one_page_a_day_and_result_each_distinct_page_once_earliest_first() -> None:
    day, hour = timedelta(days=1), timedelta(hours=1)
    # 23:30 UTC on day 1 is 00:30 on day 2 in Paris: the day is the local one.
    checks = [
        check(1, T0, "none", "a"),
        check(2, T0 + hour, "none", "b"),  # same day and result as 1: not chosen
        check(3, T0 + 2 * hour, "overloaded", "gone", 503),  # its page was not kept…
        check(4, T0 + 3 * hour, "overloaded", "c", 503),  # …so the next one of the day
        check(5, T0 + 3 * hour + timedelta(minutes=5), "error", None, None),  # no page
        check(6, T0.replace(hour=23, minute=30), "none", "b"),  # Paris: day 2, first seen 2
        check(7, T0 + day + hour, "none", "d"),  # day 2 "none" already covered by 6
        check(8, T0 + 2 * day, "none", "a"),  # same bytes as 1: rendered once
        check(9, T0 + 2 * day + hour, "available", "e"),
    ]
    outcomes = {**kept("a", "b", "c", "d"), **kept("e", suffix=".json")}
    outcomes["gone"] = PageOutcome(note=NOT_KEPT)
    facts = facts_of(checks, outcomes)

    chosen = pages_to_render(facts, limit=10)

    assert [(page.sha256, page.check.id, page.page_file) for page in chosen] == [
        ("a", 1, "pages/a.html"),
        # chosen for Paris day 2 through check 6, dated by the first check that received it
        ("b", 2, "pages/b.html"),
        ("c", 4, "pages/c.html"),
        ("e", 9, "pages/e.json"),
    ]
    assert [page.sha256 for page in pages_to_render(facts, limit=2)] == ["a", "b"]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    (tmp_path / "pages").mkdir()
    return tmp_path


def keep(export: Path, body: bytes) -> str:
    sha256 = hashlib.sha256(body).hexdigest()
    (export / "pages" / f"{sha256}.html").write_bytes(body)
    return sha256


@NEEDS_CHROMIUM
def test_the_band_above_the_page_states_its_hash_paris_time_status_and_url(
    export: Path,
) -> None:
    sha256 = keep(export, FIXTURE.read_bytes())
    assert sha256 == hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    seen_at = f"{URL}?step=2&token={SECRET}"  # a token the site put in its own link
    page = {"sha256": sha256, "url": seen_at, "status": 200}
    facts = facts_of([check(1, T0, "none", sha256, 200, [page])], kept(sha256))

    made = render_pages(facts, export)

    assert made.problem == ""
    assert made.engine.startswith("Chromium ")
    (rendering,) = made.made
    band = "\n".join(rendering.band)
    assert f"SHA-256 des octets reçus : {sha256} (fichier pages/{sha256}.html)" in band
    assert f"SHA-256 of the bytes received: {sha256} (file pages/{sha256}.html)" in band
    assert "le lundi 2 novembre 2026 à 09:00:05, heure locale Europe/Paris (UTC+01:00)" in band
    assert "on Monday 2 November 2026 at 09:00:05, local time Europe/Paris (UTC+01:00)" in band
    assert "2026-11-02 08:00:05 UTC" in band
    assert "statut HTTP 200" in band
    assert "HTTP status 200" in band
    assert f"Page reçue de : {URL}?step=2&token=removed" in band
    assert SECRET not in band
    assert "sans les feuilles de style, images ni scripts du site" in band
    assert "page tronquée" not in band
    assert not rendering.truncated
    image = (export / rendering.image).read_bytes()
    assert rendering.image == f"renderings/{sha256}.png"
    assert sorted(p.name for p in (export / "renderings").iterdir()) == [f"{sha256}.png"]
    assert png_text(image, BAND_KEYWORD) == band
    assert png_size(image) == (rendering.width, rendering.height)
    with Browser(str(find_engine())) as browser:
        alone = browser.capture(FIXTURE.read_bytes(), WIDTH, 4000)
    # the band is above the page: the image is the page alone plus the band's height
    assert rendering.width == WIDTH == alone.width
    assert rendering.height > alone.height + 8 * 14


class Hits(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.received.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """A web server on 127.0.0.1 that records every request it receives; and Chromium's
    own guard against a page reaching the local network turned off, so that only creneau's
    locks stand between the page and this server (a préfecture is not on the local network:
    nothing but creneau's locks keeps a page from reaching it)."""
    local_network = "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessChecks"
    monkeypatch.setattr(chromium, "LAUNCH_FLAGS", (*chromium.LAUNCH_FLAGS, local_network))
    received: ClassVar[list[str]] = []
    handler = type("Recording", (Hits,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def hostile_page(base: str, paragraphs: int = 10) -> bytes:
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={base}/refresh">
<link rel="stylesheet" href="{base}/style.css">
<link rel="prefetch" href="{base}/prefetch.html">
<link rel="preload" as="image" href="{base}/preload.png">
<style>@import url("{base}/import.css"); body {{ background: url({base}/bg.png) }}</style>
<script src="{base}/script.js"></script>
<script>fetch("{base}/fetch"); while (true) {{}}</script>
</head><body><h1>Aucun créneau</h1>
<img src="{base}/img.png"><iframe src="{base}/frame.html"></iframe>
<object data="{base}/object.svg"></object><video src="{base}/video.mp4"></video>
<form action="{base}/form"><input type="image" src="{base}/input.png"></form>
{"<p>Il n'existe plus de plage horaire libre pour votre demande.</p>" * paragraphs}
</body></html>""".encode()


@NEEDS_CHROMIUM
def test_the_browser_makes_no_request_at_all(export: Path, site: tuple[str, list[str]]) -> None:
    base, received = site
    sha256 = keep(export, hostile_page(base))
    facts = facts_of([check(1, T0, "none", sha256)], kept(sha256))

    made = render_pages(facts, export)

    assert made.problem == ""
    assert len(made.made) == 1
    assert received == []


@NEEDS_CHROMIUM
def test_without_the_locks_the_same_page_reaches_the_server(
    export: Path, site: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above could fail: unlocked, the browser fetches what the page names."""
    base, received = site
    unlocked = [
        flag for flag in chromium.LAUNCH_FLAGS if not flag.startswith(("--proxy", "--host"))
    ]
    monkeypatch.setattr(chromium, "LAUNCH_FLAGS", tuple(unlocked))
    monkeypatch.setattr(chromium, "SANDBOX", "default-src *")
    send = Browser.send

    def let_through(browser: Browser, method: str, *args: Any, **kwargs: Any) -> int:
        if method == "Fetch.failRequest":
            method, args = "Fetch.continueRequest", ({"requestId": args[0]["requestId"]}, *args[1:])
        return send(browser, method, *args, **kwargs)

    monkeypatch.setattr(Browser, "send", let_through)
    page = f'<link rel="stylesheet" href="{base}/style.css"><img src="{base}/img.png">'
    with Browser(str(find_engine()), timeout_s=30) as browser:
        browser.capture(page.encode(), WIDTH, 4000)
    deadline = time.monotonic() + 30
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(received) == ["/img.png", "/style.css"]


@NEEDS_CHROMIUM
def test_a_hostile_page_is_rendered_cut_within_the_timeout(
    export: Path, site: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, received = site
    huge = keep(export, hostile_page(base, paragraphs=60_000))  # about 4 MB
    monkeypatch.setattr(renderings, "PAGE_TIMEOUT_S", 60.0)
    facts = facts_of([check(1, T0, "none", huge)], kept(huge))
    started = time.monotonic()

    made = render_pages(facts, export)

    assert time.monotonic() - started < 2 * 60.0
    (rendering,) = made.made
    assert rendering.truncated
    assert "page tronquée à 4000 pixels de haut" in rendering.band[3]
    assert "page cut at 4000 pixels high" in rendering.band[7]
    assert received == []


@NEEDS_CHROMIUM
def test_a_page_that_takes_too_long_is_named_and_the_others_rendered(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow, quick = keep(export, b"<p>slow</p>"), keep(export, b"<p>quick</p>")
    facts = facts_of(
        [check(1, T0, "none", slow), check(2, T0 + timedelta(days=1), "none", quick)],
        kept(slow, quick),
    )
    real = Browser.capture

    def stalled(browser: Browser, html: bytes, *args: Any, **kwargs: Any) -> Any:
        if html == b"<p>slow</p>":
            browser.timeout_s = 0.001  # as a page that never finishes loading
        return real(browser, html, *args, **kwargs)

    monkeypatch.setattr(Browser, "capture", stalled)

    made = render_pages(facts, export)

    assert [r.sha256 for r in made.made] == [quick]
    assert made.problem.startswith(f"1 page(s) could not be rendered (first: {slow}: ")
    assert made.problem_fr.startswith(f"1 page(s) n'ont pas pu être rendues (la première : {slow}")
    assert not (export / "renderings" / f"{slow}.png").exists()


def test_without_a_browser_nothing_is_written_and_the_problem_is_said(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRENEAU_CHROMIUM", str(export / "no-such-browser"))
    sha256 = keep(export, b"<p>page</p>")
    facts = facts_of([check(1, T0, "none", sha256)], kept(sha256))

    assert render_pages(facts, export) == Renderings(
        made=(), engine="", problem=NO_ENGINE_EN, problem_fr=NO_ENGINE_FR
    )
    assert not (export / "renderings").exists()
    # None asked for (--max-renderings 0): nothing to say about the browser.
    assert render_pages(facts, export, limit=0) == Renderings(made=(), engine="", problem="")


def test_a_browser_that_cannot_start_writes_nothing(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = export.parent / "broken-chromium"
    broken.write_text("#!/bin/sh\necho 'Chromium 1.0'\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CRENEAU_CHROMIUM", str(broken))
    profiles = export.parent / "tmp"
    profiles.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(profiles))
    sha256 = keep(export, b"<p>page</p>")
    facts = facts_of([check(1, T0, "none", sha256)], kept(sha256))

    made = render_pages(facts, export)

    assert made.made == ()
    assert made.engine == ""
    assert made.problem.startswith(NO_ENGINE_EN)
    assert made.problem_fr.startswith(NO_ENGINE_FR)
    assert not (export / "renderings").exists()
    assert list(profiles.iterdir()) == []  # its fresh profile removed


@NEEDS_CHROMIUM
def test_the_limit_keeps_the_earliest_pages_and_counts_the_others(export: Path) -> None:
    first, second, third = (keep(export, f"<p>day {day}</p>".encode()) for day in (1, 2, 3))
    checks = [check(day, T0 + timedelta(days=day), "none", sha) for day, sha in
              enumerate((first, second, third))]  # fmt: skip
    facts = facts_of(checks, kept(first, second, third))

    made = render_pages(facts, export, limit=1)

    assert [r.sha256 for r in made.made] == [first]
    assert made.left_out == 2
    assert sorted(p.name for p in (export / "renderings").iterdir()) == [f"{first}.png"]


def test_a_browser_that_never_answers_cannot_hang_the_export(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mute = export.parent / "mute-chromium"
    mute.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "Chromium 1.0" && exit 0\nsleep 600\n')
    mute.chmod(mute.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CRENEAU_CHROMIUM", str(mute))
    monkeypatch.setattr(chromium, "START_TIMEOUT_S", 0.5)
    sha256 = keep(export, b"<p>page</p>")
    facts = facts_of([check(1, T0, "none", sha256)], kept(sha256))
    started = time.monotonic()

    made = render_pages(facts, export)

    assert time.monotonic() - started < 0.5 + chromium.CLOSE_TIMEOUT_S + 10
    assert made.made == ()
    assert made.problem == f"{NO_ENGINE_EN} (the browser did not answer in time)"
    assert not (export / "renderings").exists()
