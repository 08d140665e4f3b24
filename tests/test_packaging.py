"""What `pip install .` and the Docker image get: the wheel built from the files the Dockerfile
copies holds every file of the package, so that nothing the code reads at run time (a template,
the static files, a migration, a simulated page) is found in a checkout and missing once
installed, as the Atom feed's template was. The list comes from the source tree, so the next
file left out of `package-data` fails here."""

import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "creneau"
# What the Dockerfile copies before `pip install .`.
BUILD_INPUTS = ("pyproject.toml", "README.md", "src")
# Made by Python or by a build, never shipped.
NOT_SOURCES = ("__pycache__", "*.pyc", "*.egg-info")
# The PEP 639 `license = "MIT"` of pyproject.toml needs setuptools 77.
SETUPTOOLS_NEEDED = (77,)


def _setuptools_version() -> tuple[int, ...]:
    return tuple(int(part) for part in version("setuptools").split(".")[:1])


def package_files() -> set[str]:
    """Every file under src/creneau, as a path inside the wheel (creneau/...)."""
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def build_wheel(work: Path) -> Path:
    """Builds the wheel offline from a copy of the build inputs (never in the checkout, whose
    build/ folder could hold files of an older build)."""
    tree = work / "tree"
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns(*NOT_SOURCES))
        else:
            tree.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    out = work / "wheel"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--quiet", "--disable-pip-version-check", "-w", str(out), str(tree)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("creneau-*.whl")
    return wheel


@pytest.mark.slow
def test_the_wheel_holds_every_file_of_the_package(tmp_path: Path) -> None:
    if _setuptools_version() < SETUPTOOLS_NEEDED:
        pytest.fail(
            f"setuptools {version('setuptools')} cannot build creneau offline: "
            "pip install -e '.[test]' (make test) brings setuptools>=77"
        )
    with zipfile.ZipFile(build_wheel(tmp_path)) as wheel:
        shipped = set(wheel.namelist())
    expected = package_files()
    assert {Path(name).suffix for name in expected} > {".py"}  # templates, static files…
    assert sorted(expected - shipped) == []
