"""Hostile pages for every parser: generated HTML and JSON, deep nesting, invalid encodings,
huge bodies, wrong content types. A parser never raises, and never says "no slot" about a
page that does not say so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau import sources
from creneau.page import Page
from creneau.results import Status
from creneau.sources.common import fold

# The phrases with which each system's pages say "no slot"; a generated page containing
# one of them may legitimately be `none`.
NO_SLOT_WORDS = (
    "plage horaire libre",
    "aucun creneau",
    "aucun rendez-vous",
    "no-slot",
    "malheureusement",
)
HTML_TARGET = {
    "name": "t",
    "url": "https://example.org/rdv",
    "none_text": ["aucun rendez-vous"],
    "slot_selector": "li.slot",
}


def target_for(system: str) -> Any:
    if system == "html":
        return sources.get("html").Target.model_validate(HTML_TARGET)
    return None


def parse(system: str, body: bytes, content_type: str = "text/html", status: int = 200) -> Any:
    page = Page(
        "https://example.org/booking/create/1", status, body, {"content-type": content_type}
    )
    return sources.get(system).parse_page(page, target_for(system))


def says_no_slot(body: bytes) -> bool:
    text = fold(body.decode("utf-8", "replace"))
    return any(words in text for words in NO_SLOT_WORDS)


tags = st.sampled_from(
    [
        "div",
        "p",
        "form",
        "table",
        "tr",
        "td",
        "a",
        "input",
        "fieldset",
        "label",
        "script",
        "li",
        "ul",
        "h1",
        "span",
    ]
)
attributes = st.dictionaries(
    st.sampled_from(["id", "class", "name", "value", "href", "action", "for", "colspan"]),
    st.text(max_size=20),
    max_size=3,
)


@st.composite
def html_documents(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(tags)
            attrs = " ".join(f'{k}="{v}"' for k, v in draw(attributes).items())
            inner = draw(html_documents(depth + 1))
            parts.append(f"<{tag} {attrs}>{inner}</{tag}>")
        else:
            parts.append(draw(st.text(max_size=30)))
    return "".join(parts)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

ALL = list(sources.SYSTEMS)


@pytest.mark.parametrize("system", ALL)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=html_documents())
def test_generated_html_never_raises_and_is_never_none_unless_it_says_so(
    system: str, document: str
) -> None:
    body = f"<html><body>{document}</body></html>".encode()
    reading = parse(system, body)
    if not says_no_slot(body):
        assert reading.status is not Status.NONE


@pytest.mark.parametrize("system", ALL)
@settings(max_examples=60, deadline=None)
@given(value=json_values)
def test_generated_json_never_raises_and_is_never_none_unless_it_is_the_known_shape(
    system: str, value: Any
) -> None:
    reading = parse(system, json.dumps(value).encode(), "application/json")
    if reading.status is Status.NONE:
        assert system == "ants"  # an empty list of meeting points is a clear "no slot"
        assert value == [] or (
            isinstance(value, list) and all(isinstance(point, dict) for point in value)
        )


@pytest.mark.parametrize("system", ALL)
@pytest.mark.parametrize(
    ("name", "body", "content_type"),
    [
        ("deep nesting", b"<div>" * 20_000 + b"x" + b"</div>" * 20_000, "text/html"),
        ("deep JSON", b"[" * 5_000 + b"]" * 5_000, "application/json"),
        ("invalid UTF-8", b"<html>\xff\xfe\xfa\x00<p>\xc3\x28</p></html>", "text/html"),
        ("a declared charset that lies", "<p>é</p>".encode("utf-16"), "text/html; charset=utf-8"),
        ("an unknown charset", b"<p>x</p>", "text/html; charset=x-klingon"),
        ("JSON served as HTML", b'{"content": "<table></table>"}', "text/html"),
        ("HTML served as JSON", b"<html><body>Bonjour</body></html>", "application/json"),
        ("a 2 MiB body of one tag", b"<p>" + b"a" * (2 * 1024 * 1024) + b"</p>", "text/html"),
        ("binary", bytes(range(256)) * 64, "application/octet-stream"),
        ("empty", b"", "text/html"),
    ],
)
def test_hostile_bodies_give_a_status_and_never_none(
    system: str, name: str, body: bytes, content_type: str
) -> None:
    reading = parse(system, body, content_type)
    assert reading.status is not Status.NONE, name
