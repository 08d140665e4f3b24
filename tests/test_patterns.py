"""Patterns from the config that run on page text: a regular expression Python's matcher could
spend seconds or forever on, or a CSS selector that searches whole subtrees, is refused when
the config is read; an accepted one runs on a bounded text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from creneau import patterns

ROOT = Path(__file__).resolve().parent.parent

# slot_time_pattern as the tests, fixtures and example config write them, and a few more a
# person would: each is read in milliseconds on any text, and accepted.
ACCEPTED = [
    r"(\d{2}/\d{2}/\d{4}) de (\d{2}:\d{2})",
    r"\d\d/\d\d/\d{4} à \d\d:\d\d",
    r"\w+ \d+ \w+ \d{4} à \d+h\d+",
    r"(\d+)h(\d+)",
    r"(\d+)/(\d+)/(\d+)",
    r"\s*\d+\s*h\s*\d+",
    r"(\d+)\s*(?:h|:)\s*(\d+)",
    r"le (\d+ \w+ \d{4}) à (\d+h\d+)",
    r"\d+(?=h)",
    r"\d+$",
    r"[^<]+<",
]
# Exponential (a repetition over a choice) or polynomial of a high degree.
REFUSED = [
    (r"(a+)+$", patterns.NESTED),
    (r"(a|aa)*b", patterns.NESTED),
    (r"(?:x?){3,}y", patterns.NESTED),
    (r"(?:(?=a+)b)+", patterns.NESTED),
    (r"(\d+\s?)+$", patterns.NESTED),
    (r"\d*\d*\d*x", patterns.TOO_MANY),
    (r"[\d ]*[\d ]*[\d ]*y", patterns.TOO_MANY),
    (r".*(\d+)h", patterns.TOO_MANY),
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_patterns_a_person_writes_are_accepted(pattern: str) -> None:
    assert patterns.regex_problem(pattern) is None


def test_the_patterns_the_project_writes_are_accepted() -> None:
    written = re.compile(r"slot_time_pattern = '([^']*)'")
    texts = [(ROOT / "config.example.toml").read_text("utf-8")]
    found = [match for text in texts for match in written.findall(text)]
    for expected in sorted((ROOT / "fixtures").rglob("*.expected.json")):
        setting = json.loads(expected.read_text("utf-8")).get("target", {})
        if isinstance(setting, dict) and setting.get("slot_time_pattern"):
            found.append(setting["slot_time_pattern"])
    assert found
    assert {pattern: patterns.regex_problem(pattern) for pattern in found} == dict.fromkeys(found)


@pytest.mark.parametrize(("pattern", "why"), REFUSED)
def test_patterns_that_could_hang_are_refused(pattern: str, why: str) -> None:
    problem = patterns.regex_problem(pattern)
    assert problem is not None
    assert problem.startswith(why)


def test_a_pattern_beyond_the_compiler_is_one_line() -> None:
    assert patterns.regex_problem("(" * 3000 + ")" * 3000) == (
        'not a regular expression Python can compile (got "((((((((((((((((((((((((((((((((((('
        '(((((…")'
    )
    assert patterns.regex_problem("a{4294967296}") == (
        'not a regular expression Python can compile (got "a{4294967296}")'
    )


def test_a_pattern_reads_the_start_of_a_text_only() -> None:
    near = "x" * (patterns.MAX_PATTERN_TEXT - 5) + "10h30"
    far = "x" * patterns.MAX_PATTERN_TEXT + "10h30"
    found = patterns.search(r"(\d+)h(\d+)", near)
    assert found is not None
    assert found.groups() == ("10", "30")
    assert patterns.search(r"(\d+)h(\d+)", far) is None


@pytest.mark.parametrize(
    "selector", ["li:has(a)", "div:not(:has(p span))", "ul > li:is(:has(+ b))", "p:h\\61s(b)"]
)
def test_a_selector_with_has_is_refused(selector: str) -> None:
    problem = patterns.selector_problem(selector)
    assert problem is not None
    assert problem.startswith(":has() is not allowed")


@pytest.mark.parametrize(
    "selector", ["li.plage.libre a", "ul#plages > li.plage.libre", "td:not(.full)", "a[href*=x]"]
)
def test_ordinary_selectors_are_accepted(selector: str) -> None:
    assert patterns.selector_problem(selector) is None


def test_a_selector_beyond_the_compiler_is_one_line() -> None:
    problem = patterns.selector_problem(":is(" * 600 + "li" + ")" * 600)
    assert problem == (
        'not a CSS selector soupsieve can compile (got ":is(:is(:is(:is(:is(:is(:is(:is(:is(:is(…")'
    )
