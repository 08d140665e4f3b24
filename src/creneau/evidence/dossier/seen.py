"""The pages as a person saw them: each rendering on its own page, as large as fits, its
band printed as real text above it (so `pdftotext` shows the address, the time and the
SHA-256 of the bytes received). A rendering much taller than a page is cut into page-high
parts printed at the page's full width, each part under the same band."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as Picture
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, PageBreak, Spacer, Table, TableStyle

from creneau.evidence.dossier.printing import MARGIN, RULE, SANS, para, styles
from creneau.evidence.renderings import Rendering

# The frame the platypus lays out in, less the headings above each image.
FRAME_WIDTH = A4[0] - 2 * MARGIN
FRAME_HEIGHT = A4[1] - 2 * MARGIN - 30 * mm
# Narrower than this once fitted to the page height, an image is cut into parts instead.
NARROWEST = 0.75
# The image's frame: a thin box right around it (and its font set: see tables.GRID).
FLUSH = [("FONT", (0, 0), (-1, -1), SANS, 8), ("BOX", (0, 0), (-1, -1), 0.5, RULE)] + [
    (f"{side}PADDING", (0, 0), (-1, -1), 0) for side in ("LEFT", "RIGHT", "TOP", "BOTTOM")
]


@dataclass(frozen=True)
class Part:
    """The rows [top, bottom) of the image, printed `scale` points a pixel."""

    top: int
    bottom: int
    scale: float


def pages_seen(
    folder: Path, renderings: Sequence[Rendering], problem: str, *, draft: bool = False
) -> list[Flowable]:
    """`draft`: the same layout with blank boxes in place of the images (the first of the two
    layouts, which only counts the pages)."""
    heading = para("Les pages telles qu'elles ont été vues", "h1")
    if not renderings:
        return [heading, para(problem or "Aucune page n'a été conservée pour cette période.")]
    flowables: list[Flowable] = [heading] + ([para(problem)] if problem else [])
    for number, rendering in enumerate(renderings, start=1):
        if number > 1:
            flowables.append(PageBreak())
        flowables.extend(_rendering(folder, rendering, f"{number} / {len(renderings)}", draft))
    return flowables


def _rendering(folder: Path, rendering: Rendering, number: str, draft: bool) -> list[Flowable]:
    band = [para(line, "band") for line in rendering.band]
    band.append(para(f"{rendering.page_file} — {rendering.image}", "band"))
    try:
        with Picture.open(folder / rendering.image) as picture:
            size = picture.size
            parts = list(_parts(size, (len(band) + 1) * styles()["band"].leading))
            images = [_image(folder / rendering.image, picture, part, draft) for part in parts]
    except (OSError, ValueError, Picture.DecompressionBombError):
        return [para(f"Page {number}", "h2"), *band, para(f"Image illisible : {rendering.image}")]
    flowables: list[Flowable] = []
    for index, image in enumerate(images, start=1):
        more = f" — partie {index} / {len(images)}" if len(images) > 1 else ""
        if index > 1:
            flowables.append(PageBreak())
        flowables.extend([para(f"Page {number}{more}", "h2"), *band, image])
    return flowables


def _parts(size: tuple[int, int], band_height: float) -> Iterator[Part]:
    width, height = size
    room = FRAME_HEIGHT - band_height
    fitted = min(FRAME_WIDTH / width, room / height)
    if width * fitted >= NARROWEST * FRAME_WIDTH:
        yield Part(0, height, fitted)
        return
    scale = FRAME_WIDTH / width
    rows = max(1, math.floor(room / scale))
    for top in range(0, height, rows):
        yield Part(top, min(top + rows, height), scale)


def _image(file: Path, picture: Picture.Image, part: Part, draft: bool) -> Flowable:
    width, height = picture.width * part.scale, (part.bottom - part.top) * part.scale
    if draft:
        shown: Flowable = Spacer(width, height)
    elif part.top == 0 and part.bottom == picture.height:
        shown = Image(str(file), width=width, height=height)
    else:
        piece = io.BytesIO()
        picture.crop((0, part.top, picture.width, part.bottom)).save(piece, format="PNG")
        shown = Image(piece, width=width, height=height)
    framed = Table([[shown]])
    framed.setStyle(TableStyle(FLUSH))
    return framed
