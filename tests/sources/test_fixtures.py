"""Every saved page, read exactly: beside each `fixtures/<system>/<page>` is
`<page>.expected.json`, which states the whole reading and how the page is served. The system is
the folder's name; the page is read by that system's `parse_page`, offline.

An expected file holds what `creneau parse --explain --json` prints of a reading (kind, status,
detail, choices, slots, facts, rule, read_from) and, only where the reading depends on them:
- "url": the address the page is served from (default: the file's own, as `creneau parse`);
- "http_status": the HTTP status it is served with (default: 200, as `creneau parse`);
- "headers": headers it is served with besides its content type (e.g. the "date" the dates
  without a year of a page without its state are counted from: `rdvpref`);
- "target": the target's settings (an `html` page is read with a target's selectors);
- "reference": the day dates without a year are counted from (`html`; never the real clock).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from creneau import sources
from creneau.page import Page
from creneau.sources import html
from creneau.sources.reading import Reading

EXPECTED_SUFFIX = ".expected.json"
NOT_PAGES = (".md", ".png")  # where each page comes from, and images (rdvpref's CAPTCHA)
SERVED_WITH = ("url", "http_status", "headers", "target", "reference")
READ_WITH_A_TARGET = {"html"}


def saved_pages() -> list[Path]:
    return sorted(
        path
        for folder in FIXTURES.iterdir()
        if folder.is_dir()
        for path in folder.iterdir()
        if path.suffix not in NOT_PAGES and not path.name.endswith(EXPECTED_SUFFIX)
    )


def expected_file(page_file: Path) -> Path:
    return page_file.with_name(page_file.name + EXPECTED_SUFFIX)


def served(page_file: Path, given: dict[str, Any]) -> Page:
    saved = Page.from_file(page_file, url=given.get("url", ""))
    headers = saved.headers | given.get("headers", {})
    return Page(saved.url, given.get("http_status", 200), saved.body, headers)


def read(system: str, page: Page, given: dict[str, Any]) -> Reading:
    if system not in READ_WITH_A_TARGET:
        assert not {"target", "reference"} & given.keys(), f"{system} reads without a target"
        return sources.get(system).parse_page(page)
    target = html.Target.model_validate(given["target"])
    return html.parse_page(page, target, reference=date.fromisoformat(given["reference"]))


def explained(reading: Reading) -> dict[str, Any]:
    """The reading as `creneau parse --explain --json` prints it (without the file's name)."""
    return {**reading.to_json(), "rule": reading.rule, "read_from": list(reading.read_from)}


PAGES_WITH_EXPECTED = [path for path in saved_pages() if expected_file(path).exists()]


@pytest.mark.parametrize(
    "page_file", PAGES_WITH_EXPECTED, ids=lambda path: f"{path.parent.name}/{path.name}"
)
def test_each_saved_page_is_read_as_its_expected_file_says(page_file: Path) -> None:
    expected: dict[str, Any] = json.loads(expected_file(page_file).read_text(encoding="utf-8"))
    given = {key: expected.pop(key) for key in SERVED_WITH if key in expected}
    reading = read(page_file.parent.name, served(page_file, given), given)
    assert explained(reading) == expected


def test_every_saved_page_has_its_expected_file_and_none_is_orphaned() -> None:
    pages = saved_pages()
    without = [path.name for path in pages if not expected_file(path).exists()]
    orphans = set(FIXTURES.glob(f"*/*{EXPECTED_SUFFIX}")) - {expected_file(p) for p in pages}
    assert (without, sorted(path.name for path in orphans)) == ([], [])


def test_every_fixtures_folder_is_a_system() -> None:
    folders = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert folders <= set(sources.SYSTEMS)
