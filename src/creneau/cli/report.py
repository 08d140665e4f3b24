"""`creneau report`: gather what a fix needs when a site changed (the pages kept for a
target, how creneau reads each, its settings and version), secrets and personal data
removed. The folder itself is written by creneau.evidence.report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from creneau.cli.context import database_exists, existing_store, out, read_config
from creneau.cli.options import CONFIG_OPTION

CHECKS_READ = 50  # the last checks whose pages may be in the report
CHECKS_LISTED = 20  # the last checks listed in it


@click.command()
@click.argument("name")
@CONFIG_OPTION
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the report folder.",
)
@click.option("--pages", "last", default=10, show_default=True, help="How many pages at most.")
def report(name: str, config_path: Path, out_dir: Path, last: int) -> None:
    """Gather what a fix needs when a site changed: the last pages kept for target NAME
    (secrets and personal data removed), how creneau reads each, its settings and version."""
    from creneau.evidence import report as reports

    config = read_config(config_path)
    target = next((t for t in config.targets if t.name == name), None)
    if target is None:
        raise click.UsageError(f"no target named {name} in {config_path}")
    rows = []
    if database_exists(config.creneau.database):  # pages are files: a report needs no database
        rows = existing_store(config.creneau.database).checks(name)[-CHECKS_READ:]
    pages_dir = config.creneau.pages_dir
    kept = reports.read_kept_files(pages_dir / reports.file_name(name), last)
    kept += reports.read_kept_by_hash(
        pages_dir, [row.page_sha256 for row in rows if row.page_sha256], last
    )
    checks = [
        reports.CheckLine(row.started_at, row.status, row.http_status, str(row.said))
        for row in rows[-CHECKS_LISTED:]
    ]
    folder = reports.write_report(out_dir, target, kept[-last:], checks, datetime.now(UTC))
    out.print(f"report written: {folder} ({len(kept[-last:])} page(s))", markup=False)
    if not kept:
        out.print(
            "No page was kept for this target yet: creneau keeps the pages it does not "
            "recognise, and every page with keep_pages = true.",
            markup=False,
        )
