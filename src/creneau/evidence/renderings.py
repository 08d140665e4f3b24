"""The pages as a person saw them: each distinct page kept, rendered by a real browser engine
(Chromium, headless, offline, without scripts) into an image with a band stating where and
when it was received and the SHA-256 of the bytes received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

RENDERINGS = "renderings"


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


@dataclass(frozen=True)
class Renderings:
    """What the rendering step made, or why it made nothing."""

    made: tuple[Rendering, ...]
    engine: str  # "Chromium 131.0.6778.85", or "" when none was found
    problem: str  # "" or one line saying why some or all pages were not rendered
