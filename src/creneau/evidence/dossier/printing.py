"""How the dossier prints: the fonts it carries (DejaVu, so that it prints the same on every
machine and every French character has its glyph), the paragraph styles, the colours, and
`para`/`mono`, the only ways text reaches the page.

Text is data: ReportLab's Paragraph reads a markup of its own (`<b>`, `<font>`, `&amp;`), so
every text is cleaned of control characters (`creneau.terminal.clean`), each character the
font cannot draw becomes U+FFFD, and the result is XML-escaped before it is laid out: a
guichet label "<b>x</b>" prints as those nine characters."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

from creneau.terminal import clean

FONTS_DIR = Path(__file__).resolve().parents[1] / "fonts"
# ReportLab's name for each font -> its file, vendored unmodified (see fonts/LICENSE).
SANS, BOLD, MONO = "creneau-DejaVuSans", "creneau-DejaVuSans-Bold", "creneau-DejaVuSansMono"
FONT_FILES = {SANS: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}
MISSING = "\ufffd"  # in all three fonts

MARGIN = 18 * mm
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
WARNING_BACKGROUND = colors.HexColor("#fff3cd")


@cache
def register_fonts() -> None:
    for name, file in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / file)))


@cache
def _drawable(font: str) -> frozenset[int]:
    """The characters `font` has a glyph for, in the Basic Multilingual Plane: ReportLab
    writes the text layer's Unicode in 4 hex digits, so an emoji DejaVu draws (U+1F600)
    would read back as another character (U+1F60)."""
    register_fonts()
    return frozenset(c for c in pdfmetrics.getFont(font).face.charToGlyph if c <= 0xFFFF)


def printable(text: object, font: str = SANS, *, keep_newlines: bool = False) -> str:
    """`text` as plain text the font can draw: control characters as visible stand-ins (then
    U+FFFD when the font has no glyph for them), every other missing glyph as U+FFFD."""
    drawable = _drawable(font)  # the Basic Multilingual Plane only: see _drawable
    cleaned = clean(text, keep_newlines=keep_newlines)
    return "".join(c if ord(c) in drawable or c == "\n" else MISSING for c in cleaned)


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=SANS, fontSize=10, leading=13.5, spaceAfter=4)
    return {
        "body": body,
        "small": ParagraphStyle("small", body, fontSize=8, leading=10, spaceAfter=0),
        "cell": ParagraphStyle("cell", body, fontSize=8, leading=10, spaceAfter=0),
        "day": ParagraphStyle("day", body, fontSize=7.5, leading=9, alignment=TA_CENTER),
        "title": ParagraphStyle("title", body, fontName=BOLD, fontSize=18, leading=23,
                                spaceAfter=10),
        "h1": ParagraphStyle("h1", body, fontName=BOLD, fontSize=14, leading=18, spaceBefore=6,
                             spaceAfter=6),
        "h2": ParagraphStyle("h2", body, fontName=BOLD, fontSize=11, leading=14, spaceBefore=6,
                             spaceAfter=3),
        "strong": ParagraphStyle("strong", body, fontName=BOLD),
        "mono": ParagraphStyle("mono", body, fontName=MONO, fontSize=8.5, leading=11),
        "band": ParagraphStyle("band", body, fontName=MONO, fontSize=7.5, leading=9.5,
                               spaceAfter=0),
        "warning": ParagraphStyle("warning", body, fontName=BOLD, backColor=WARNING_BACKGROUND,
                                  borderPadding=4, spaceBefore=6, spaceAfter=8),
    }  # fmt: skip


@cache
def _inked(style: str, ink: str) -> ParagraphStyle:
    return ParagraphStyle(f"{style}-{ink}", styles()[style], textColor=colors.HexColor(ink))


def para(
    text: object, style: str = "body", *, keep_newlines: bool = False, ink: str = ""
) -> Paragraph:
    """One paragraph of text, never markup; `keep_newlines`: its line breaks kept; `ink`: its
    colour ("#ffffff"), else the style's."""
    chosen = _inked(style, ink) if ink else styles()[style]
    safe = escape(printable(text, chosen.fontName, keep_newlines=keep_newlines))
    return Paragraph(safe.replace("\n", "<br/>"), chosen)
