"""Every text of the export, in French and English, from the Jinja2 templates in
`templates/`: `statements.txt.j2` holds the sentences (one macro each, also written into
summary.csv and printed by the command), `summary.html.j2` the document around them and
`sections.html.j2` its parts (tables, headings, the meaning of each result).

Text from the store or a page is data: in the HTML it goes out through the `text` filter,
which cleans it and escapes `&`, `<` and `>` (`creneau.terminal.html_text`); anything printed
without it is escaped by Jinja2's autoescape all the same."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from creneau import __version__
from creneau.dates import local_time
from creneau.evidence.facts import Facts
from creneau.evidence.times import days_fr, long_fr, plural, short_fr, utc_clock
from creneau.terminal import html_text

if TYPE_CHECKING:
    from jinja2 import Environment

# Each statement is one paragraph: the line breaks and indentation of the template are not
# part of it (only ASCII layout whitespace: a no-break space stays what it is).
LAYOUT = re.compile(r"[ \t\n]+")
STATEMENTS = (
    "verdict_fr",
    "verdict_en",
    "answers_fr",
    "answers_en",
    "period_fr",
    "period_en",
    "reached_fr",
    "first_last_fr",
    "hours_fr",
    "hours_en",
    "pages_fr",
    "method_fr",
    "method_en",
    "generated_fr",
)


def _paragraph(text: str) -> str:
    return LAYOUT.sub(" ", text).strip()


@cache
def environment() -> Environment:
    """The templates' environment, made on first use: the command line starts without
    Jinja2."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup

    def text(value: object) -> Markup:
        """Text between tags (never an attribute: quotes stay as they are)."""
        return Markup(html_text(value, quote=False))

    templates = Environment(
        loader=PackageLoader("creneau.evidence", "templates"),
        autoescape=select_autoescape(["html.j2"], default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    moments: dict[str, Callable[..., str]] = {
        "long_fr": long_fr,
        "short_fr": short_fr,
        "local": local_time,
        "utc": utc_clock,
        "days_fr": days_fr,
    }
    templates.filters.update(moments, paragraph=_paragraph, text=text)
    templates.globals.update(plural=plural, version=__version__)
    return templates


def statement(name: str, facts: Facts) -> str:
    """One sentence of the export ("" when it has nothing to say for these facts)."""
    macro = getattr(environment().get_template("statements.txt.j2").module, name)
    return str(macro(facts))


def statements(facts: Facts) -> dict[str, str]:
    return {name: statement(name, facts) for name in STATEMENTS}


def verdict_fr(facts: Facts) -> str:
    """The one sentence that says whether slots were offered (French)."""
    return statement("verdict_fr", facts)


def verdict_en(facts: Facts) -> str:
    return statement("verdict_en", facts)


def summary_html(facts: Facts) -> str:
    """summary.html: French first, then English."""
    template = environment().get_template("summary.html.j2")
    return template.render(facts=facts, say=statements(facts))
