"""Pages kept as received, under the data directory: the last few unrecognised pages of each
target (so a parser can be fixed from what the site really sent), and, when `keep_pages` is
on, every page by its SHA-256 (stored once however often it was seen, gzip-compressed), so
that an evidence export can include the pages exactly as received."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

from creneau.page import Page

KEEP_PER_TARGET = 20
KEPT_NAME = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}\.(?:html|json)")


class OutsideFolder(ValueError):
    """A target name that would put its pages outside the pages folder ("..")."""


def keep_page(
    directory: Path, target: str, page: Page, at: datetime, keep: int = KEEP_PER_TARGET
) -> Path:
    """Write the page as `<directory>/<target>/<UTC time>-<sha256 prefix>.<html|json>` and
    drop the oldest beyond `keep` (only files named so: nothing else is ever removed)."""
    folder = target_folder(directory, target)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".json" if page.is_json else ".html"
    path = folder / f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{page.sha256[:12]}{suffix}"
    path.write_bytes(page.body)
    kept = sorted(old for old in folder.iterdir() if KEPT_NAME.fullmatch(old.name))
    for old in kept[:-keep]:
        old.unlink(missing_ok=True)
    return path


def target_folder(directory: Path, target: str) -> Path:
    """The target's own folder, right inside `directory`. Names are checked when the config
    is read; this refuses anything that would still lead elsewhere (".", "..", a link)."""
    folder = directory / re.sub(r"[^\w.-]", "_", target)
    base = directory.resolve()
    if folder.name in ("", ".", "..") or folder.resolve().parent != base:
        raise OutsideFolder(f"{target!r}: its pages would be written outside {directory}")
    return folder


def keep_by_hash(directory: Path, page: Page) -> Path:
    """`<directory>/by-sha256/<2 hex>/<sha256>.gz`; written once per distinct page."""
    path = page_path(directory, page.sha256)
    if path.exists():
        path.touch()  # last seen now: pruning goes by the last time a page was received
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(gzip.compress(page.body, mtime=0))
    partial.replace(path)  # never a half-written page under its final name
    return path


def prune_kept(directory: Path, before: datetime) -> int:
    """Forget pages last received before `before` (the retention period); how many."""
    pruned = 0
    for path in (directory / "by-sha256").glob("*/*.gz"):
        if path.stat().st_mtime < before.timestamp():
            path.unlink(missing_ok=True)
            pruned += 1
    return pruned


def page_path(directory: Path, sha256: str) -> Path:
    return directory / "by-sha256" / sha256[:2] / f"{sha256}.gz"


def read_kept(directory: Path, sha256: str) -> bytes | None:
    """The page exactly as received, or None when it was not kept."""
    path = page_path(directory, sha256)
    return gzip.decompress(path.read_bytes()) if path.exists() else None
