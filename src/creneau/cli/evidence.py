"""The `creneau evidence` command: options, one-line errors (exit 2), and what it prints. The
export itself is the use case creneau.usecases.evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from creneau.cli.context import open_store, out, read_config
from creneau.cli.options import config_option
from creneau.evidence import MANIFEST, EvidenceError
from creneau.usecases.evidence import DEFAULT_MAX_PAGES, Exported

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.targets import TargetBase


class EvidenceUsageError(click.ClickException):
    """Shown as one line; exit status 2 like every other bad request."""

    exit_code = 2


@click.command()
@click.argument("name")
@click.option(
    "--since",
    required=True,
    help="First day (2026-11-01: local midnight) or moment (2026-11-01T08:00) of the period.",
)
@click.option(
    "--until",
    default=None,
    help="Last day, included (2026-11-30), or an exact end moment. Default: now.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="A new (or empty) folder for the export.",
)
@click.option(
    "--max-pages",
    default=DEFAULT_MAX_PAGES,
    show_default=True,
    type=click.IntRange(min=0),
    help="At most this many distinct saved pages are copied into the export.",
)
@config_option()
def evidence(
    name: str,
    since: str,
    until: str | None,
    out_dir: Path,
    max_pages: int,
    config_path: Path,
) -> None:
    """Export a dated, verifiable record of target NAME's checks over a period: a summary
    (HTML, CSV), every check, the pages as received, and a SHA-256 manifest."""
    from creneau.evidence import parse_period
    from creneau.usecases.evidence import check_out_dir, export

    config = read_config(config_path)
    target = _target(config, name, config_path)
    try:
        period = parse_period(since, until, config.creneau.zone, datetime.now(UTC))
        check_out_dir(out_dir)
    except EvidenceError as failure:
        raise EvidenceUsageError(str(failure)) from None
    store = open_store(config.creneau.database)
    try:
        done = export(store, config, target, period, out_dir, max_pages)
    except EvidenceError as failure:
        raise EvidenceUsageError(str(failure)) from None
    finally:
        store.close()
    _report(done)


def _target(config: Config, name: str, config_path: Path) -> TargetBase:
    known = {target.name: target for target in config.targets}
    if name not in known:
        raise EvidenceUsageError(
            f"no target named {name} in {config_path} (targets: {', '.join(known)})"
        )
    return known[name]


def _report(done: Exported) -> None:
    from creneau.evidence import verdict_fr

    facts = done.facts
    out.print(f"Export written to {done.directory}", markup=False)
    out.print(
        f"  {facts.total} checks ({facts.detailed} detailed, {facts.hourly} from hourly counts), "
        f"{facts.pages_included} pages, {len(done.files) + 1} files",
        markup=False,
    )
    out.print(f"  {verdict_fr(facts)}", markup=False)
    out.print(f"  verify: cd {done.directory} && sha256sum -c {MANIFEST}", markup=False)
    out.print(f"SHA-256 of {MANIFEST}: {done.manifest_sha256}", markup=False)
