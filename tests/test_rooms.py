"""The rooms stay small and a booking system stays in its folder: no class over 350 lines, no
function over 60 outside the tests, and no branch outside `sources/` that compares a value
with a booking system's name (a system says what it can do; nothing asks which one it is)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from creneau import sources

SRC = Path(sources.__file__).resolve().parent.parent
LONGEST_CLASS = 350
LONGEST_FUNCTION = 60


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def spans(tree: ast.Module, kinds: tuple[type[ast.AST], ...]) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, kinds):
            assert isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            yield node.name, (node.end_lineno or node.lineno) - node.lineno + 1


def too_long(kinds: tuple[type[ast.AST], ...], limit: int) -> list[str]:
    return [
        f"{path.relative_to(SRC)}: {name} ({lines} lines)"
        for path, tree in modules()
        for name, lines in spans(tree, kinds)
        if lines > limit
    ]


def test_no_class_is_over_350_lines() -> None:
    assert too_long((ast.ClassDef,), LONGEST_CLASS) == []


def test_no_function_is_over_60_lines() -> None:
    assert too_long((ast.FunctionDef, ast.AsyncFunctionDef), LONGEST_FUNCTION) == []


# Also a message format and an element's name: compared with those, it names no system.
ALSO_A_WORD = frozenset({"html"})


def names_compared(tree: ast.Module, systems: frozenset[str]) -> Iterator[int]:
    """Lines where a value is compared with a booking system's name (==, !=, in, a match)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_a_system(operand, _meant(operands, systems)) for operand in operands):
                yield node.lineno
        elif isinstance(node, ast.Match):
            meant = _meant([node.subject], systems)
            for case in node.cases:
                pattern = case.pattern
                if isinstance(pattern, ast.MatchValue) and _names_a_system(pattern.value, meant):
                    yield pattern.lineno


def _meant(operands: list[ast.expr], systems: frozenset[str]) -> frozenset[str]:
    """The names that mean a system here: all of them when a compared value is called
    `system`, else those that are no common word."""
    if any("system" in ast.unparse(operand) for operand in operands):
        return systems
    return systems - ALSO_A_WORD


def _names_a_system(node: ast.expr, systems: frozenset[str]) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in systems
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_system(element, systems) for element in node.elts)
    return False


def branches_naming_a_system(root: Path, systems: frozenset[str]) -> list[str]:
    sources_folder = root / "creneau" / "sources"
    return [
        f"{path.relative_to(root)}:{line}"
        for path in sorted(root.rglob("*.py"))
        if sources_folder not in path.parents
        for line in names_compared(ast.parse(path.read_text(encoding="utf-8")), systems)
    ]


def test_no_branch_outside_sources_names_a_booking_system() -> None:
    systems = frozenset(sources.SYSTEMS)
    assert len(systems) >= 5
    assert branches_naming_a_system(SRC.parent, systems) == []


@pytest.mark.parametrize(
    "branch",
    [
        'if target.system == "rdvpref":\n    pass\n',
        'x = system in ("ants", "html")\n',
        'match link.system:\n    case "html":\n        pass\n',
        'x = kind != "rdvsp"\n',
    ],
)
def test_the_search_finds_a_branch_that_names_a_system(tmp_path: Path, branch: str) -> None:
    module = tmp_path / "creneau" / "web" / "page.py"
    module.parent.mkdir(parents=True)
    module.write_text(branch)
    found = branches_naming_a_system(tmp_path, frozenset({"rdvpref", "rdvsp", "ants", "html"}))
    assert [place.split(":")[0] for place in found] == ["creneau/web/page.py"]


def test_html_as_a_format_is_no_system(tmp_path: Path) -> None:
    module = tmp_path / "creneau" / "alerts" / "format.py"
    module.parent.mkdir(parents=True)
    module.write_text('x = "<br>" if format == "html" else "\\n"\n')
    assert branches_naming_a_system(tmp_path, frozenset({"html", "ants"})) == []
