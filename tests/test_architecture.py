"""The import graph has no cycle: not among modules, not among packages (creneau.<x>, and the
subpackages creneau.<x>.<y>), counting what import-linter may leave out — imports made only
for type checking and imports inside functions. A cycle hidden in a function still ties two
stages together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

import grimp
import pytest


@pytest.fixture(scope="module")
def imports() -> dict[str, set[str]]:
    graph = grimp.build_graph("creneau", exclude_type_checking_imports=False, cache_dir=None)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's, without
    recursion), each sorted: every cycle of the graph lies within one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def grouped(imports: Mapping[str, set[str]], group: Callable[[str], str]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, imported in imports.items():
        for module in imported:
            if group(importer) != group(module):
                edges[group(importer)].add(group(module))
    return edges


def package(depth: int) -> Callable[[str], str]:
    """creneau.store.history → creneau.store (depth 2) or creneau.store.history (depth 3)."""
    return lambda module: ".".join(module.split(".")[:depth])


def test_the_cycle_finder_finds_a_cycle_and_only_one() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back(imports: dict[str, set[str]]) -> None:
    assert cycles(imports) == []


def test_no_package_imports_itself_back(imports: dict[str, set[str]]) -> None:
    assert cycles(grouped(imports, package(2))) == []


def test_no_subpackage_imports_itself_back(imports: dict[str, set[str]]) -> None:
    assert cycles(grouped(imports, package(3))) == []
