"""Patterns from the config that run on a page's text (an html target's slot_time_pattern, its
CSS selectors), refused when they are read if matching them could hang a check.

A regular expression runs on at most MAX_PATTERN_TEXT characters of a text, and is refused
when Python's backtracking matcher could try more than MAX_PATTERN_WAYS steps on such a text,
whatever the page says. The count is an upper bound, from the pattern alone:

- a repetition over something that itself repeats or offers alternatives (`(\\d+)+`,
  `(a|b)*`) is refused outright: its ways grow exponentially with the text;
- a repetition of one character class followed by a character it cannot match (`\\d+h`,
  `\\w+ `) stops at one place only: what it tried costs steps, but only one way goes on;
- any other repetition may hand each of its counts to what follows: the ways multiply
  (`\\d*\\d*\\d*x` on a run of digits), and are counted so;
- every start position in the text is tried.

A CSS selector is refused when soupsieve cannot compile it (whatever the reason, a nesting
too deep for its compiler included) or when it uses `:has()`, which searches every element's
descendants: minutes on a page of a few thousand elements."""

from __future__ import annotations

import array
import functools
import importlib
import re
from dataclasses import dataclass
from typing import Any

from creneau.targets import shown

MAX_PATTERN_TEXT = 200  # characters a pattern runs on: a date and a time, with room around
MAX_PATTERN_WAYS = 10_000_000  # an upper bound on steps: milliseconds for Python's re
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_CHOICES = _REPEATS | {"BRANCH", "GROUPREF_EXISTS"}
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
ANYTHING = r"[\s\S]"
NESTED = (
    "a repetition over something that repeats or offers alternatives (such as (\\d+)+ or "
    "(a|b)*) can take forever on some texts: write it without"
)
TOO_MANY = (
    "too many repetitions that Python's matcher may try every way of (it could take seconds "
    "on some texts): bound them, e.g. \\d{1,2} instead of \\d+, or follow each by a "
    "character it cannot match"
)


class UnsafePattern(ValueError):
    """Why a pattern may not run on pages, in a person's words."""


def regex_problem(pattern: str) -> str | None:
    """Why this regular expression may not be used, or None."""
    try:
        re.compile(pattern)
        parsed = importlib.import_module("re._parser").parse(pattern)
        cost = _Bound().sequence(list(parsed), None)
    except re.error as failure:
        return f'not a valid regular expression "{pattern}": {failure}'
    except UnsafePattern as unsafe:
        return f"{unsafe} (got {shown(pattern)})"
    except Exception:  # RecursionError, OverflowError: nested or repeated beyond reason
        return f"not a regular expression Python can compile (got {shown(pattern)})"
    if MAX_PATTERN_TEXT * (cost.work + cost.exits) > MAX_PATTERN_WAYS:
        return f"{TOO_MANY} (got {shown(pattern)})"
    return None


def search(pattern: str, text: str) -> re.Match[str] | None:
    """The pattern's first match in the start of the text (see MAX_PATTERN_TEXT)."""
    return re.search(pattern, text[:MAX_PATTERN_TEXT])


@dataclass(frozen=True)
class Cost:
    """At one position: the steps that end nowhere, and the ways that go on to what follows."""

    work: int
    exits: int

    def then(self, rest: Cost) -> Cost:
        return Cost(_capped(self.work + self.exits * rest.work), _capped(self.exits * rest.exits))


@dataclass(frozen=True)
class _Rest:
    """What follows an item: these parsed items, then `after` (None: the pattern's end,
    a match, after which nothing is tried)."""

    items: tuple[Any, ...]
    after: _Rest | None


def _capped(number: int) -> int:
    return min(number, MAX_PATTERN_WAYS + 1)  # past the bound, the count no longer matters


class _Bound:
    """The cost of parsed items (re._parser's (op, argument) pairs)."""

    def sequence(self, items: list[tuple[Any, Any]], after: _Rest | None) -> Cost:
        cost = Cost(0, 1)
        for index in reversed(range(len(items))):
            follower = _Rest(tuple(items[index + 1 :]), after)
            cost = self.item(items[index], follower).then(cost)
        return cost

    def item(self, item: tuple[Any, Any], follower: _Rest) -> Cost:
        op, argument = item
        kind = str(op)
        if kind in _REPEATS:
            return self.repeat(kind, argument, follower)
        if kind == "BRANCH":
            return _sum(self.sequence(list(branch), follower) for branch in argument[1])
        if kind == "GROUPREF_EXISTS":
            branches = [argument[1], argument[2] or []]
            return _sum(self.sequence(list(branch), follower) for branch in branches)
        if kind == "SUBPATTERN":
            return self.sequence(list(argument[3]), follower)
        if kind in ("ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"):  # tried whole, never re-entered
            inner = argument if kind == "ATOMIC_GROUP" else argument[1]
            tried = self.sequence(list(inner), None)
            return Cost(_capped(tried.work + tried.exits), 1)
        return Cost(1, 1)

    def repeat(self, kind: str, argument: Any, follower: _Rest) -> Cost:
        low, high, body = argument
        if high > 1 and _has_choice(list(body)):
            raise UnsafePattern(NESTED)
        counts = min(high, MAX_PATTERN_TEXT) - min(low, MAX_PATTERN_TEXT) + 1
        inner = self.sequence(list(body), follower)  # a body that repeats has one way
        work = _capped(counts * (inner.work + inner.exits))
        if kind == "POSSESSIVE_REPEAT" or self._stops_once(list(body), follower):
            return Cost(work, 1)
        return Cost(work, _capped(counts * inner.exits))

    def _stops_once(self, body: list[tuple[Any, Any]], follower: _Rest) -> bool:
        """Whether a repetition of this body can hand only one count to what follows: the
        body is one character class, and what follows starts with characters it cannot
        match or ends the pattern (a count < the longest leaves a character of the class
        next, which what follows refuses)."""
        mine = _single_class(body)
        starts = _firsts(list(follower.items), follower.after)
        return (
            mine is not None
            and starts is not None
            and all(self._disjoint(mine, start) for start in starts)
        )

    def _disjoint(self, first: _CharClass, second: _CharClass) -> bool:
        """No character matches both, case aside: each listed character tried, or else
        every character there is."""
        listed = first.listed if first.listed is not None else second.listed
        other = second if first.listed is not None else first
        if listed is not None:
            return not any(re.fullmatch(other.regex, char, re.IGNORECASE) for char in listed)
        return _classes_disjoint(first.regex, second.regex)


@functools.lru_cache(maxsize=64)
def _classes_disjoint(first: str, second: str) -> bool:
    """Whether no character at all matches both classes (every code point is tried, at
    C speed: ~0.1 s, once per pair of classes)."""
    every = array.array("I", range(0x110000)).tobytes().decode("utf-32-le", "surrogatepass")
    return re.search(f"(?={first}){second}", every, re.IGNORECASE) is None


@dataclass(frozen=True)
class _CharClass:
    regex: str  # a regular expression matching one character of the class
    listed: tuple[str, ...] | None = None  # its characters, when it is a few listed ones


def _single_class(items: list[tuple[Any, Any]]) -> _CharClass | None:
    """The class of a body that is one character class (in groups or not), else None."""
    while len(items) == 1 and str(items[0][0]) == "SUBPATTERN":
        items = list(items[0][1][3])
    return _first_class(items[0]) if len(items) == 1 else None


def _firsts(items: list[tuple[Any, Any]], after: _Rest | None) -> list[_CharClass] | None:
    """The classes the next character must be in for these items, then `after`, to match
    (an empty list: the pattern may end here); None when not known here."""
    classes: list[_CharClass] = []
    for index, (op, argument) in enumerate(items):
        kind = str(op)
        if kind == "AT":  # an anchor only narrows what may come
            continue
        if kind == "SUBPATTERN":
            more = _firsts(list(argument[3]), _Rest(tuple(items[index + 1 :]), after))
            return None if more is None else classes + more
        if kind in _REPEATS:
            body = _single_class(list(argument[2]))
            if body is None:
                return None
            classes.append(body)
            if argument[0] == 0:  # may match nothing: what follows it may come first
                continue
            return classes
        found = _first_class((op, argument))
        if found is None:
            return None
        return [*classes, found]
    if after is None:
        return classes
    more = _firsts(list(after.items), after.after)
    return None if more is None else classes + more


def _first_class(item: tuple[Any, Any]) -> _CharClass | None:
    """The class of an item that matches exactly one character, else None."""
    op, argument = item
    kind = str(op)
    if kind == "LITERAL":
        return _CharClass(re.escape(chr(argument)), (chr(argument),))
    if kind == "NOT_LITERAL":
        return _CharClass(f"[^{re.escape(chr(argument))}]")
    if kind == "ANY":
        return _CharClass(ANYTHING)
    if kind == "IN":
        return _set_class(list(argument))
    return None


def _set_class(parts: list[tuple[Any, Any]]) -> _CharClass:
    text, listed, negated = [], [], False
    for op, argument in parts:
        kind = str(op)
        if kind == "NEGATE":
            negated = True
        elif kind == "LITERAL":
            text.append(re.escape(chr(argument)))
            listed.append(chr(argument))
        elif kind == "RANGE":
            text.append(f"{re.escape(chr(argument[0]))}-{re.escape(chr(argument[1]))}")
        elif kind == "CATEGORY" and str(argument) in _CATEGORIES:
            text.append(_CATEGORIES[str(argument)])
        else:  # a part not read here: the class may match anything
            return _CharClass(ANYTHING)
    if negated or len(listed) != len(text):
        return _CharClass(f"[{'^' if negated else ''}{''.join(text)}]")
    return _CharClass(f"[{''.join(text)}]", tuple(listed))


def _sum(costs: Any) -> Cost:
    work = exits = 0
    for cost in costs:
        work, exits = _capped(work + cost.work), _capped(exits + cost.exits)
    return Cost(work, exits)


def _has_choice(items: list[tuple[Any, Any]]) -> bool:
    for op, argument in items:
        kind = str(op)
        if kind in _CHOICES:
            return True
        inner = _inner(kind, argument)
        if inner is not None and _has_choice(list(inner)):
            return True
    return False


def _inner(kind: str, argument: Any) -> Any:
    if kind == "SUBPATTERN":
        return argument[3]
    if kind in ("ASSERT", "ASSERT_NOT"):
        return argument[1]
    if kind == "ATOMIC_GROUP":
        return argument
    return None


def selector_problem(selector: str) -> str | None:
    """Why this CSS selector may not be used, or None."""
    import soupsieve  # only for configs that have selectors

    try:
        compiled = soupsieve.compile(selector)
    except (soupsieve.SelectorSyntaxError, NotImplementedError) as failure:
        reason = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        return f'not a valid CSS selector "{selector}": {reason}'
    except Exception:  # RecursionError and the like: a selector nested beyond reason
        return f"not a CSS selector soupsieve can compile (got {shown(selector)})"
    if _relative(compiled):
        return (
            ":has() is not allowed: it searches every element's descendants, which can "
            f"take minutes on a large page (got {shown(selector)})"
        )
    return None


def _relative(selectors: Any) -> bool:
    """Whether a compiled selector list uses `:has()` anywhere (soupsieve's relative
    selectors carry a rel_type starting with ':')."""
    stack = [selectors]
    while stack:
        for selector in getattr(stack.pop(), "selectors", ()):
            if str(getattr(selector, "rel_type", "") or "").startswith(":"):
                return True
            stack.extend(getattr(selector, "selectors", ()))
            relation = getattr(selector, "relation", None)
            if relation is not None:
                stack.append(relation)
    return False
