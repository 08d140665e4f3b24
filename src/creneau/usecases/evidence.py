"""Export evidence (`creneau evidence`, the dashboard's evidence.zip): read the target's
records for the period from the store, copy its pages, state the facts and the coverage,
render the pages as a browser shows them, write the files, the letter and RECORD.sha256, the
dossier that presents them, MANIFEST.sha256 over everything, and let the caller seal it (a
trusted timestamp) — all in a fresh folder, then moved into place. What the export says and
how its files read is creneau.evidence's."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from creneau.evidence.coverage import Coverage, build_coverage
from creneau.evidence.facts import Facts, build_facts
from creneau.evidence.files import MANIFEST, RECORD, listed, manifest, write_files
from creneau.evidence.letter import LETTER_FILE, letter_text
from creneau.evidence.pages import PAGES, Pages, copy_pages
from creneau.evidence.period import EvidenceError, Period
from creneau.evidence.renderings import MAX_RENDERINGS, Renderings, render_pages
from creneau.store.evidence import TargetPeriod, target_period

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
    coverage: Coverage
    renderings: Renderings


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise EvidenceError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise EvidenceError(f"--out {out}: the folder is not empty (choose a new one)")


def records_of(store: Store, target: TargetBase, period: Period) -> TargetPeriod:
    """What an export of the period states, read from the store (the only part of an export
    that needs it: the dashboard reads it on its database thread, and writes the rest —
    renderings, PDF — on another)."""
    return target_period(store, target.name, period.start, period.end)


def export(
    records: TargetPeriod,
    config: Config,
    target: TargetBase,
    period: Period,
    out: Path,
    max_pages: int = DEFAULT_MAX_PAGES,
    now: datetime | None = None,
    *,
    max_renderings: int = MAX_RENDERINGS,
    applicant: str | None = None,
    seal: Callable[[Path], None] | None = None,
) -> Exported:
    """Write the export of `records` (`records_of`) into a fresh folder beside `out`, then
    move it to `out`: an interrupted export, or one whose `seal` (run on the finished folder)
    fails, never leaves a partial record under the final name."""
    check_out_dir(out)
    staging = out.parent / f".{out.name}.{os.getpid()}.partial"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as failure:
        raise EvidenceError(f"--out {out}: cannot create the folder: {failure}") from None
    try:
        pages = copy_pages(records.checks, config.creneau.pages_dir, staging / PAGES, max_pages)
        facts = build_facts(config, target, period, records, pages, now or datetime.now(UTC))
        coverage = build_coverage(facts)
        renderings = render_pages(facts, staging, max_renderings)
        letter = letter_text(facts, coverage, config.creneau.letter_template, applicant)
        write_files(staging, facts, coverage)
        (staging / LETTER_FILE).write_bytes(letter.encode("utf-8"))
        record = manifest(staging, listed(staging))
        (staging / RECORD).write_bytes(record)
        _write_dossier(staging, facts, coverage, renderings, letter, record, applicant)
        files = listed(staging)
        written = manifest(staging, files)
        (staging / MANIFEST).write_bytes(written)
        if seal is not None:
            seal(staging)
        if out.is_dir():
            out.rmdir()  # empty, checked above; replaced by the finished export
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    sha256 = hashlib.sha256(written).hexdigest()
    return Exported(facts, out, files, sha256, coverage, renderings)


def _write_dossier(
    folder: Path,
    facts: Facts,
    coverage: Coverage,
    renderings: Renderings,
    letter: str,
    record: bytes,
    applicant: str | None,
) -> None:
    # ReportLab takes a tenth of a second to load: only an export pays for it.
    from creneau.evidence.dossier import DOSSIER, write_dossier

    write_dossier(
        folder / DOSSIER,
        facts,
        coverage,
        renderings.made,
        letter,
        hashlib.sha256(record).hexdigest(),
        applicant,
        renderings.problem_fr,
    )


# --- the dashboard's preview of an export --------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What an export of the period would state, computed without writing a file."""

    facts: Facts
    coverage: Coverage


def preview(
    store: Store, config: Config, target: TargetBase, period: Period, now: datetime
) -> Preview:
    """The facts and coverage of the period as the export states them, for the dashboard to
    show before the download; no file is written, no page copied (the pages' outcomes are the
    export's, not the coverage's)."""
    records = records_of(store, target, period)
    no_pages = Pages({}, max_pages=0, left_out=0)
    facts = build_facts(config, target, period, records, no_pages, now)
    return Preview(facts, build_coverage(facts))
