"""The layering is enforced, not described: `make lint` runs import-linter with the
contracts in pyproject.toml, and an import against the pipeline fails it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
@pytest.mark.parametrize(
    ("module", "bad_import", "broken"),
    [
        ("sources/common.py", "import creneau.daemon", "The pipeline"),
        ("history/__init__.py", "import sqlalchemy", "SQL lives in the store"),
        ("sources/ezbooking/__init__.py", "import creneau.fetch.client", "A parser is pure"),
        ("results.py", "import creneau.store", "The shared vocabulary"),
    ],
)
def test_an_import_against_the_flow_fails_the_lint(
    tree: Path, module: str, bad_import: str, broken: str
) -> None:
    assert lint(tree).returncode == 0
    path = tree / "src" / "creneau" / module
    path.write_text(path.read_text() + f"\n{bad_import}  # against the flow\n")
    done = lint(tree)
    assert done.returncode == 1
    assert f"{broken}" in done.stdout
    assert "BROKEN" in done.stdout
