"""The evidence dossier: how long `creneau evidence` takes and how large dossier.pdf is, for
generated histories of 4 and 13 weeks (six checks a day, the site saying "no slot" on a page
whose bytes change every day), with the pages rendered by Chromium and without them. Run in
a fresh process each, through the command line, as a person runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.figures import Figure
from harness.evidence_history import generate

WEEKS = (4, 13)


def export(folder: Path, weeks: int, renderings: bool) -> tuple[float, int, int]:
    """Seconds, the dossier's bytes, the renderings made."""
    history = generate(folder, weeks, now=datetime.now(UTC))
    history.store.close()
    out = folder / ("with" if renderings else "without")
    last_day = history.first_day + timedelta(days=history.days - 1)
    command = [
        sys.executable, "-m", "creneau", "evidence", "nanterre-remise",
        "--config", str(history.config_path), "--since", history.first_day.isoformat(),
        "--until", last_day.isoformat(), "--out", str(out),
        *([] if renderings else ["--max-renderings", "0"]),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    took = time.perf_counter() - started
    made = len(list((out / "renderings").iterdir())) if (out / "renderings").exists() else 0
    return took, (out / "dossier.pdf").stat().st_size, made


def measure() -> list[Figure]:
    figures = []
    engine = shutil.which("chromium") is not None
    for weeks in WEEKS:
        for renderings in (False, True) if engine else (False,):
            with tempfile.TemporaryDirectory() as workdir:
                took, size, made = export(Path(workdir), weeks, renderings)
            label = f"{made} renderings" if renderings else "no rendering"
            figures.append(
                Figure(
                    "dossier",
                    f"creneau evidence, {weeks} weeks of checks, {label}",
                    round(took, 1),
                    "s",
                    details={"dossier_pdf_bytes": size, "checks": weeks * 7 * 6},
                )
            )
    return figures
