"""`make bench`: every figure with the command that produced it and the machine it ran on;
printed as a table and written to bench/results.json. A benchmark, not a test: it reports,
and says where a target is missed, rather than failing."""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # harness/

from bench import (
    adaptive,
    bigpage,
    dashboard,
    delay,
    dossier,
    footprint,
    history,
    parse,
    politeness,
    release,
    scale,
    takeover,
)
from bench.figures import Figure

SECTIONS: dict[str, Callable[[], list[Figure]]] = {
    "parse": parse.measure,
    "detection delay": delay.measure,
    "politeness": politeness.measure,
    "adaptive": adaptive.measure,
    "footprint": footprint.measure,
    "history": history.measure,
    "scale": scale.measure,
    "dashboard": dashboard.measure,
    "takeover": takeover.measure,
    "bigpage": bigpage.measure,
    "release": release.measure,
    "dossier": dossier.measure,
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def machine() -> dict[str, object]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {
        "python": platform.python_version(),
        "system": platform.platform(),
        "cores": os.cpu_count(),
        "cpu": model,
    }


def merged_results(
    facts: dict[str, Any], timings: dict[str, float], produced: dict[str, list[Figure]]
) -> dict[str, Any]:
    """results.json, per section: its figures, when and in how long they were measured. This
    run's sections replace their own; the others are kept from the runs that measured them."""
    try:
        earlier: dict[str, Any] = json.loads(RESULTS.read_text()).get("sections", {})
    except (OSError, ValueError, AttributeError):
        earlier = {}
    today = date.today().isoformat()
    sections = {
        **earlier,
        **{
            name: {
                "date": today,
                "seconds": timings[name],
                "figures": [figure.to_json() for figure in figures],
            }
            for name, figures in produced.items()
        },
    }
    return {
        "machine": facts,
        "command": "make bench (python bench/run.py [SECTION…])",
        "sections": {name: sections[name] for name in SECTIONS if name in sections},
    }


def main(argv: list[str]) -> int:
    wanted = argv or list(SECTIONS)
    # The daemons run in this process: quiet APScheduler's skipped-run warnings as
    # `creneau run` does (a check waiting for its host's turn is expected on a busy host).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    console = Console()
    produced: dict[str, list[Figure]] = {}
    timings = {}
    for name in wanted:
        started = time.perf_counter()
        console.print(f"[bold]{name}[/bold] …")
        produced[name] = SECTIONS[name]()
        timings[name] = round(time.perf_counter() - started, 1)
    figures = [figure for section in produced.values() for figure in section]
    table = Table(title="creneau benchmark", header_style="bold")
    for column in ("section", "figure", "value", "target", ""):
        table.add_column(column)
    for figure in figures:
        mark = (
            "" if figure.ok is None else ("[green]ok[/green]" if figure.ok else "[red]missed[/red]")
        )
        table.add_row(
            figure.section, figure.name, f"{figure.value:g} {figure.unit}", figure.target, mark
        )
    console.print(table)
    facts = machine()
    console.print(f"machine: {facts}; command: make bench (python bench/run.py {' '.join(wanted)})")
    results = merged_results(facts, timings, produced)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    console.print(f"written: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
