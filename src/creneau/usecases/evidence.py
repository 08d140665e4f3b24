"""Export evidence (`creneau evidence`, the dashboard's evidence.zip): read the target's
records for the period from the store, copy its pages, state the facts, write the files and
their manifest into a fresh folder, then move it into place. What the export says and how its
files read is creneau.evidence's."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from creneau.evidence.facts import Facts, build_facts
from creneau.evidence.files import MANIFEST, listed, manifest, write_files
from creneau.evidence.pages import PAGES, copy_pages
from creneau.evidence.period import EvidenceError, Period
from creneau.store.evidence import target_period

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.store import Store
    from creneau.targets import TargetBase

DEFAULT_MAX_PAGES = 5000


@dataclass(frozen=True)
class Exported:
    facts: Facts
    directory: Path
    files: list[str]  # relative paths listed in the manifest
    manifest_sha256: str


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise EvidenceError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise EvidenceError(f"--out {out}: the folder is not empty (choose a new one)")


def export(
    store: Store,
    config: Config,
    target: TargetBase,
    period: Period,
    out: Path,
    max_pages: int = DEFAULT_MAX_PAGES,
    now: datetime | None = None,
) -> Exported:
    """Write the export into a fresh folder beside `out`, then move it to `out`: an
    interrupted export never leaves a partial record under the final name."""
    check_out_dir(out)
    staging = out.parent / f".{out.name}.{os.getpid()}.partial"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as failure:
        raise EvidenceError(f"--out {out}: cannot create the folder: {failure}") from None
    try:
        records = target_period(store, target.name, period.start, period.end)
        pages = copy_pages(records.checks, config.creneau.pages_dir, staging / PAGES, max_pages)
        facts = build_facts(config, target, period, records, pages, now or datetime.now(UTC))
        write_files(staging, facts)
        files = listed(staging)
        written = manifest(staging, files)
        (staging / MANIFEST).write_bytes(written)
        if out.is_dir():
            out.rmdir()  # empty, checked above; replaced by the finished export
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Exported(facts, out, files, hashlib.sha256(written).hexdigest())
