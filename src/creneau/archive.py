"""Pages kept as received, so a parser can be fixed from what the site really sent: the
last few unrecognised pages of each target, under the data directory."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from creneau.page import Page

KEEP_PER_TARGET = 20


def keep_page(
    directory: Path, target: str, page: Page, at: datetime, keep: int = KEEP_PER_TARGET
) -> Path:
    """Write the page as `<directory>/<target>/<UTC time>-<sha256 prefix>.<html|json>` and
    drop the oldest beyond `keep`."""
    folder = directory / re.sub(r"[^\w.-]", "_", target)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".json" if page.is_json else ".html"
    path = folder / f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{page.sha256[:12]}{suffix}"
    path.write_bytes(page.body)
    for old in sorted(folder.iterdir())[:-keep]:
        old.unlink(missing_ok=True)
    return path
