"""The pages of an export: each distinct page the checks received, copied once, byte for byte
as kept, named by its SHA-256; or why it is not there."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from creneau.page import Page
from creneau.redact import redact
from creneau.store import pages as archive
from creneau.store.records import CheckRecord

PAGES = "pages"
NO_PAGE = "no page received"
NOT_KEPT = "not kept"
ALTERED = "not included: the kept copy is unreadable or does not match its SHA-256"
WITHHELD = "withheld: contains a secret from the config"


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

    @property
    def included(self) -> int:
        return self.count(lambda outcome: outcome.file is not None)

    @property
    def withheld(self) -> int:
        return self.count(lambda outcome: outcome.note == WITHHELD)


def copy_pages(
    checks: Sequence[CheckRecord], pages_dir: Path, destination: Path, max_pages: int
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
