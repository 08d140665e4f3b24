"""Every text of the export, in French and English, from the Jinja2 templates in
`templates/`: `statements.txt.j2` holds the sentences (one macro each, also written into
summary.csv and printed by the command), `summary.html.j2` the document around them and
`sections.html.j2` its parts (tables, headings, the meaning of each result). The coverage
statement and warning (`coverage_statement`, `coverage_warning`) are shared with the dossier,
the command and the dashboard.

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
from creneau.evidence import references
from creneau.evidence.calendar import calendar_svg
from creneau.evidence.coverage import MIN_DAYS, MIN_SPAN_DAYS, MIN_WEEKS, Coverage, build_coverage
from creneau.evidence.facts import Facts
from creneau.evidence.times import (
    days_fr,
    hour_minute,
    hour_spans,
    long_fr,
    plural,
    short_fr,
    utc_clock,
)
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
LANGUAGES = ("fr", "en")


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
        "hour_spans": hour_spans,
        "hm": hour_minute,
    }
    templates.filters.update(moments, paragraph=_paragraph, text=text)
    templates.globals.update(
        plural=plural,
        version=__version__,
        min_weeks=MIN_WEEKS,
        min_days=MIN_DAYS,
        min_span_days=MIN_SPAN_DAYS,
    )
    return templates


def _macro(name: str) -> Callable[..., object]:
    macro: Callable[..., object] = getattr(
        environment().get_template("statements.txt.j2").module, name
    )
    return macro


def statement(name: str, facts: Facts) -> str:
    """One sentence of the export ("" when it has nothing to say for these facts)."""
    return str(_macro(name)(facts))


def statements(facts: Facts, coverage: Coverage) -> dict[str, str]:
    said = {name: statement(name, facts) for name in STATEMENTS}
    for language in LANGUAGES:
        said[f"coverage_{language}"] = coverage_statement(facts, coverage, language)
        said[f"thinness_{language}"] = coverage_warning(coverage, language)
    return said


# The Conseil d'État's condition (CE, 10 juin 2020, n° 435594), in the words of every decision
# that applies it: those decisions are the ones the coverage warning cites.
WEEKS_CONDITION = "la même semaine"


def on_weeks() -> tuple[references.Decision, ...]:
    """The decisions cited on how many weeks the attempts span (not those on online booking
    itself). Read at each call: the list of decisions is data the references module holds."""
    return tuple(d for d in references.DECISIONS if WEEKS_CONDITION in d.held_fr)


def coverage_statement(facts: Facts, coverage: Coverage, language: str) -> str:
    """The paragraph that states the coverage (attempts, distinct weeks and days, hours
    tried, whether a slot was offered), in `language` ("fr" or "en")."""
    return str(_macro(f"coverage_{language}")(facts, coverage))


def coverage_warning(coverage: Coverage, language: str) -> str:
    """The paragraph that says how the record is thinner than the decisions cited, with their
    references, in `language` ("fr" or "en"); "" when it is not thinner. The same text for
    summary.html, summary.csv, the dossier, the command and the dashboard."""
    return str(_macro(f"thinness_{language}")(coverage, on_weeks()))


def verdict_fr(facts: Facts) -> str:
    """The one sentence that says whether slots were offered (French)."""
    return statement("verdict_fr", facts)


def verdict_en(facts: Facts) -> str:
    return statement("verdict_en", facts)


def summary_html(facts: Facts, coverage: Coverage | None = None) -> str:
    """summary.html: French first, then English; `coverage`: the facts' own, when already
    built."""
    from markupsafe import Markup

    coverage = coverage or build_coverage(facts)
    template = environment().get_template("summary.html.j2")
    return template.render(
        facts=facts,
        coverage=coverage,
        decisions=on_weeks(),
        # The SVG escapes its own texts (creneau.evidence.calendar).
        calendar={language: Markup(calendar_svg(coverage, language)) for language in LANGUAGES},
        say=statements(facts, coverage),
    )
