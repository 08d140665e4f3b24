"""lettre.txt: the letter to the préfecture, a « demande de rendez-vous » in French that states
the record's facts (the démarche, the period, the attempts, the days and ISO weeks tried,
whether a slot was offered) and the references of the decisions cited, nothing more.

It is plain text from the Jinja2 template `templates/lettre.txt.j2`, or from an association's
own file with the same variables (`[creneau] letter_template`). Nothing is escaped in plain
text, so every value that comes from the config, the store or a page is made one line without
control characters first (`creneau.terminal.clean`). A template that cannot be read or
rendered is an EvidenceError of one line naming the file and, when known, the line."""

from __future__ import annotations

import re
import traceback
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from creneau.dates import FRENCH_DAYS
from creneau.evidence.coverage import Coverage
from creneau.evidence.facts import Facts
from creneau.evidence.period import EvidenceError
from creneau.evidence.references import DECISIONS, french_date
from creneau.evidence.times import long_fr, plural
from creneau.terminal import clean

if TYPE_CHECKING:
    from jinja2 import BaseLoader, Environment, Template

LETTER = "lettre.txt.j2"
LETTER_FILE = "lettre.txt"  # in the export: the letter as text to edit
# What the sender fills in by hand; `applicant` replaces the name.
PLACEHOLDERS = {
    "sender_name": "[Nom et prénom]",
    "sender_address": "[Adresse postale]",
    "sender_number": "[Numéro d'étranger, s'il y en a un]",
}
LAYOUT = re.compile(r"[ \t\n]+")


def letter_text(
    facts: Facts,
    coverage: Coverage,
    template: Path | None = None,
    applicant: str | None = None,
) -> str:
    """The letter, from `template` if given (a file with lettre.txt.j2's variables), else
    from the packaged template. Raises EvidenceError (one line) if the file cannot be used."""
    values = letter_values(facts, coverage, applicant)
    if template is None:
        return _environment().get_template(LETTER).render(values)
    loaded = _user_template(template)
    try:
        return loaded.render(values)
    except Exception as problem:  # the user's template: whatever fails is its mistake
        raise EvidenceError(_mistake(template, problem, _failing_line(template, problem))) from None


def letter_values(facts: Facts, coverage: Coverage, applicant: str | None) -> dict[str, object]:
    """The template's variables (documented at the top of lettre.txt.j2)."""
    name = one_line(applicant)
    return {
        **PLACEHOLDERS,
        **({"sender_name": name} if name else {}),
        "target": one_line(facts.target),
        "url": one_line(facts.url),
        "first_day": long_day(coverage.days[0].day),
        "last_day": long_day(coverage.days[-1].day),
        "start": long_fr(facts.period.start, facts.zone),
        "end": long_fr(facts.period.end, facts.zone),
        "zone": facts.zone.key,
        "attempts": coverage.attempts,
        "days": coverage.days_tried,
        "weeks": coverage.weeks_tried,
        "said_none": facts.said_none,
        "unanswered": facts.unanswered,
        "slots_offered": coverage.slots_offered,
        "with_slots": facts.checks_with_slots,
        "references": [decision.citation for decision in DECISIONS],
    }


def one_line(text: object) -> str:
    """Text from the config, the store or a page, as one line a letter can hold."""
    return LAYOUT.sub(" ", clean(text)).strip()


def long_day(day: date) -> str:
    """'mardi 1er décembre 2026'."""
    return f"{FRENCH_DAYS[day.weekday()]} {french_date(day)}"


def _paragraph(text: str) -> str:
    """A block of the template as one line, with its line break (none if it is empty)."""
    line = LAYOUT.sub(" ", text).strip()
    return f"{line}\n" if line else ""


def _environment(loader: BaseLoader | None = None) -> Environment:
    """A sandbox: an association's template is shared text, and reads only these values."""
    from jinja2 import PackageLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(
        loader=loader or PackageLoader("creneau.evidence", "templates"),
        autoescape=False,  # plain text: the values are cleaned instead
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["paragraph"] = _paragraph
    environment.globals["plural"] = plural
    return environment


def _user_template(path: Path) -> Template:
    from jinja2 import FileSystemLoader, TemplateNotFound, TemplateSyntaxError

    try:
        return _environment(FileSystemLoader(path.parent)).get_template(path.name)
    except TemplateNotFound:
        raise EvidenceError(_mistake(path, "no such file", None)) from None
    except TemplateSyntaxError as problem:
        raise EvidenceError(_mistake(path, problem.message, problem.lineno)) from None
    except UnicodeDecodeError as problem:
        line = problem.object[: problem.start].count(b"\n") + 1
        raise EvidenceError(_mistake(path, "not UTF-8 text", line)) from None
    except OSError as problem:
        raise EvidenceError(_mistake(path, problem.strerror or problem, None)) from None


def _failing_line(path: Path, problem: BaseException) -> int | None:
    """The template's line where rendering failed (Jinja2 puts the template's own lines in
    the traceback)."""
    frames = traceback.extract_tb(problem.__traceback__)
    lines = [frame.lineno for frame in frames if Path(frame.filename) == path]
    return lines[-1] if lines else None


def _mistake(path: Path, problem: object, line: int | None) -> str:
    where = f"{path}, line {line}" if line else str(path)
    return one_line(f"letter template {where}: {problem}")
