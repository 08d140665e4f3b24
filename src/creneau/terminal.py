"""Text from a page or the store, made safe where it is shown: a terminal (through Rich or
not), a CSV file a spreadsheet may open, an HTML page, a JSON line. Page text is data: it never
becomes a colour, a link, a window title, a formula or a tag.

- `clean(text)`: one line of plain text. Control characters (C0, DEL, C1: ESC, BEL, CSI, OSC…)
  become visible stand-ins (`␛`, `␇`, `�`), line breaks and tabs a space, and the bidi
  overrides and isolates that reorder what is displayed (U+202A–U+202E, U+2066–U+2069) `�`.
- `is_terminal(stream)`: whether Rich would treat `stream` as a terminal, decided without
  importing Rich (a daemon writing to a pipe or a file never loads it).
- `plain(text, style)`: a `rich.text.Text` of the cleaned text (Rich is imported then, not
  before). Rich prints a Text literally: no markup (`[bold]`, `[link=…]`), no emoji code
  (`:warning:`), no highlighting, in a Table cell, a Panel or `Console.print` alike. Mix it
  with styled text by `Text.assemble`.
- `csv_cell(value)`, `csv_row(values)`: cleaned, and a cell that a spreadsheet would read as a
  formula (first non-blank character `=`, `+`, `-` or `@`) gets a leading apostrophe.
- `html_text(value)`: cleaned, then HTML-escaped (text and attribute values alike).
- `json_line(value)`: one JSON object per line, the data exact; the characters a terminal
  could act on are written as `\\uXXXX` escapes, which every JSON reader turns back."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.style import Style
    from rich.text import Text

REPLACEMENT = "\ufffd"
# What str.splitlines() breaks on, except "\r\n" handled as one: a cell stays one line.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Embeddings, overrides and isolates reorder the text around them ("Trojan Source",
# CVE-2021-42574); the marks (LRM, RLM, ALM) only nudge neutral characters and are kept.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FORMULA_START = ("=", "+", "-", "@")

_UNSAFE = re.compile(f"\r\n|[\t{LINE_BREAKS}\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


def _stand_in(found: re.Match[str], keep_newlines: bool) -> str:
    char = found.group()
    if char in ("\r\n", "\n", "\r"):
        return "\n" if keep_newlines else " "
    if char == "\t" or char in LINE_BREAKS:
        return " "
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT


def clean(text: object, *, keep_newlines: bool = False) -> str:
    """`text` (None: "") as plain text that cannot drive a terminal: one line, unless
    `keep_newlines` keeps its line breaks as "\\n"."""
    if text is None:
        return ""
    return _UNSAFE.sub(lambda found: _stand_in(found, keep_newlines), str(text))


def is_terminal(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether `stream` takes a terminal's escape sequences, as a Rich Console writing to it
    decides: TTY_COMPATIBLE=1 or 0 says so, then a non-empty FORCE_COLOR says yes (an empty
    one no), else the stream's own `isatty()`."""
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force_color = environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def plain(text: object, style: str | Style = "") -> Text:
    """`text` cleaned, as a Rich Text that is printed as it reads."""
    from rich.text import Text

    return Text(clean(text), style=style)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    text = clean(value)
    return "'" + text if text.lstrip().startswith(FORMULA_START) else text


def csv_row(values: Iterable[object]) -> list[str]:
    """Numbers as they are (a negative number is no formula); every other cell `csv_cell`."""
    return [
        str(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else csv_cell(value)
        for value in values
    ]


def html_text(value: object, *, quote: bool = True) -> str:
    """Text for an HTML or SVG page: cleaned and escaped. `quote=False` leaves quotes as they
    are, for text between tags only (never an attribute value)."""
    return html.escape(clean(value), quote=quote)


def json_line(value: Any) -> str:
    """One line of JSON, non-ASCII text kept readable (ensure_ascii=False) except what a
    terminal could act on."""
    text = json.dumps(value, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
