"""Page text made safe for the terminal, CSV, HTML and JSON: the exact text each gives for
hostile labels (Rich markup, OSC-8 links, raw escape sequences, formulas, bidi overrides); and
whether a stream is a terminal, decided as Rich decides it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from creneau.terminal import clean, csv_cell, csv_row, html_text, is_terminal, json_line, plain

MARKUP = "[bold red]ALERTE[/bold red] [link=http://evil.example]lien[/link] :warning:"
ESCAPES = "a\x1b[31mred\x1b]0;title\x07 \x9b2J\x1b]8;;http://evil.example\x1b\\x"


def forced_terminal() -> tuple[Console, io.StringIO]:
    """A console that believes it writes to a colour terminal, as `creneau` in one does."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=300)
    return console, buffer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ESCAPES, "a␛[31mred␛]0;title␇ �2J␛]8;;http://evil.example␛\\x"),
        ("one\r\ntwo\nthree\rfour\tfive\u2028six\x85seven", "one two three four five six seven"),
        ("del\x7f nul\x00 bs\x08", "del␡ nul␀ bs␈"),
        ("abc\u202edcba\u2066x\u2069 \u200fmark", "abc�dcba�x� \u200fmark"),
        ("Préfecture — Guichet « 2 »", "Préfecture — Guichet « 2 »"),
        (None, ""),
        (12, "12"),
    ],
)
def test_clean_leaves_one_line_without_controls(text: object, expected: str) -> None:
    assert clean(text) == expected


def test_clean_can_keep_line_breaks() -> None:
    assert clean("one\r\ntwo\rthree\x1b\u2028four", keep_newlines=True) == "one\ntwo\nthree␛ four"


def test_rich_prints_page_text_literally_in_a_table_and_a_line() -> None:
    console, buffer = forced_terminal()
    table = Table()
    table.add_column("guichet")
    table.add_row(plain(MARKUP))
    table.add_row(plain(ESCAPES))
    console.print(table)
    console.print(Text.assemble(("nanterre", "bold"), " ", plain(MARKUP)))
    shown = buffer.getvalue()
    assert MARKUP in shown  # tags, link and emoji code as written
    assert "a␛[31mred␛]0;title␇ �2J␛]8;;http://evil.example␛\\x" in shown
    assert "\x1b]" not in shown  # no OSC: no link, no window title
    assert "\x07" not in shown
    assert "\x9b" not in shown
    assert "⚠" not in shown
    # The only escape sequences are creneau's own styles (bold, the table's lines).
    assert "\x1b[31m" not in shown
    assert "\x1b[1;31m" not in shown


def test_plain_keeps_the_style_it_is_given() -> None:
    text = plain("[b]x", style="bold")
    assert (text.plain, str(text.style)) == ("[b]x", "bold")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example","clic")', '\'=HYPERLINK("http://evil.example","clic")'),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =1+1", "'  =1+1"),
        ("\t=1+1", "' =1+1"),
        ("Guichet 2 = accueil", "Guichet 2 = accueil"),
        ("2026-03-28T08:20:00+00:00", "2026-03-28T08:20:00+00:00"),
        ("a\x1b[31mb\nc", "a␛[31mb c"),
        (None, ""),
    ],
)
def test_csv_cells_are_never_formulas(value: object, expected: str) -> None:
    assert csv_cell(value) == expected


def test_csv_rows_keep_numbers_and_read_back_as_written() -> None:
    row = csv_row(["=1+1", -3, 0.25, True, None, "Guichet\n2"])
    assert row == ["'=1+1", "-3", "0.25", "True", "", "Guichet 2"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == row


def test_html_text_escapes_tags_quotes_and_controls() -> None:
    label = "<script>alert(\"x\")</script>\x1b[31m & 'q'"
    assert html_text(label) == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;␛[31m &amp; &#x27;q&#x27;"
    )
    assert html_text(label, quote=False) == (
        "&lt;script&gt;alert(\"x\")&lt;/script&gt;␛[31m &amp; 'q'"
    )


def test_json_lines_keep_the_data_and_escape_what_a_terminal_acts_on() -> None:
    value = {"guichet": "é\x1b[31m\x9b2J\x7f\u202e\u2028", "n": 1}
    line = json_line(value)
    assert line == '{"guichet": "é\\u001b[31m\\u009b2J\\u007f\\u202e\\u2028", "n": 1}'
    assert json.loads(line) == value


class Stream(io.StringIO):
    """A stream that says whether it is a terminal, as sys.stderr does."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"TTY_COMPATIBLE": "1"},
        {"TTY_COMPATIBLE": "0"},
        {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"},
        {"TTY_COMPATIBLE": "", "FORCE_COLOR": "1"},
        {"FORCE_COLOR": "1"},
        {"FORCE_COLOR": ""},
        {"NO_COLOR": "1"},
    ],
)
def test_is_terminal_decides_as_rich_does(
    environ: dict[str, str], tty: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    stream = Stream(tty)
    assert is_terminal(stream) == Console(file=stream).is_terminal


def test_a_closed_stream_is_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    stream = io.StringIO()
    stream.close()
    assert not is_terminal(stream)


def test_the_command_lines_consoles_print_emoji_codes_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fingerprint such as "…:03:CD:48:…" once came out as "…:03💿48:…"."""
    from creneau.cli import context

    for console in (context.out, context.err):
        console.print("SHA-256 92:F6:03:CD:48 :warning: :cd:", markup=False)
    printed = capsys.readouterr()
    assert printed.out == printed.err == "SHA-256 92:F6:03:CD:48 :warning: :cd:\n"
