"""The `creneau evidence` commands: options, one-line errors (exit 2), and what they print.

`creneau evidence NAME --since … --out DIR [--tsa URL]` exports (it is `creneau evidence
export NAME …`: an argument that names no subcommand goes to `export`; a target named
"verify" is reached with `creneau evidence export verify …`); `creneau evidence verify DIR`
checks an export. The work is the use cases' (creneau.usecases.evidence, .timestamp) and
creneau.evidence.verify's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from creneau.cli.context import open_store, out, read_config
from creneau.cli.options import config_option
from creneau.evidence import MANIFEST, EvidenceError
from creneau.evidence.renderings import MAX_RENDERINGS
from creneau.evidence.times import short_fr, utc_clock
from creneau.terminal import clean
from creneau.usecases.evidence import DEFAULT_MAX_PAGES, Exported
from creneau.usecases.timestamp import SealFailed

DEFAULT_LANGUAGE = "fr"  # the config's, without a config file

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.evidence.timestamp import Stamped
    from creneau.targets import TargetBase


class EvidenceUsageError(click.ClickException):
    """Shown as one line; exit status 2 like every other bad request."""

    exit_code = 2


class ExportByDefault(click.Group):
    """A group whose first argument, when it names none of its commands, is `export`'s: the
    command line people wrote before the group existed keeps working as it did."""

    default_command = "export"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group(cls=ExportByDefault)
def evidence() -> None:
    """Export a dated, verifiable record of a target's checks (`creneau evidence NAME …`,
    short for `creneau evidence export NAME …`), or verify one (`creneau evidence verify DIR`)."""


class StampFailed(click.ClickException):
    """The time-stamp failed, so no export was written: a run-time failure, exit status 1."""

    exit_code = 1


@evidence.command("export")
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
@click.option(
    "--max-renderings",
    default=MAX_RENDERINGS,
    show_default=True,
    type=click.IntRange(min=0),
    help="At most this many pages are rendered as a browser shows them (one a day and result, "
    "earliest first; 0: none).",
)
@click.option(
    "--applicant",
    default=None,
    help="The name to print on the dossier's cover and in the letter (written nowhere else). "
    "Default: a blank to fill in by hand.",
)
@click.option(
    "--tsa",
    "tsa_url",
    default=None,
    help="Have this RFC 3161 time-stamping authority (its URL) time-stamp MANIFEST.sha256.",
)
@click.option(
    "--tsa-ca",
    type=click.Path(path_type=Path),
    default=None,
    help="The authority's root certificate (PEM). Default: the system's trust store.",
)
@click.option(
    "--no-tsa",
    is_flag=True,
    help="No time-stamp, even if the config names an authority ([creneau] tsa).",
)
@config_option()
def export_command(
    name: str,
    since: str,
    until: str | None,
    out_dir: Path,
    max_pages: int,
    max_renderings: int,
    applicant: str | None,
    tsa_url: str | None,
    tsa_ca: Path | None,
    no_tsa: bool,
    config_path: Path,
) -> None:
    """Export a dated, verifiable record of target NAME's checks over a period: a summary
    (HTML, CSV) with its coverage and calendar, every check, the pages as received and as a
    browser shows them, the letter to the préfecture, dossier.pdf, and SHA-256 manifests; with
    --tsa (or the config's [creneau] tsa), a trusted time-stamp of the manifest."""
    from creneau.evidence import parse_period
    from creneau.usecases.evidence import check_out_dir, export, records_of

    config = read_config(config_path)
    target = _target(config, name, config_path)
    if no_tsa:
        tsa_url = tsa_ca = None
    elif tsa_url is None and tsa_ca is None:
        tsa_url, tsa_ca = config.creneau.tsa, config.creneau.tsa_ca
    try:
        period = parse_period(since, until, config.creneau.zone, datetime.now(UTC))
        check_out_dir(out_dir)
        if tsa_url is not None or tsa_ca is not None:
            from creneau.usecases.timestamp import check_request

            check_request(tsa_url, tsa_ca)
    except EvidenceError as failure:
        raise EvidenceUsageError(clean(failure)) from None
    from creneau.usecases.timestamp import sealer as sealer_for

    sealer = sealer_for(config, tsa_url, tsa_ca)
    store = open_store(config.creneau.database)
    try:
        done = export(
            records_of(store, target, period),
            config,
            target,
            period,
            out_dir,
            max_pages,
            max_renderings=max_renderings,
            applicant=applicant,
            seal=sealer,
        )
    except SealFailed as failure:
        raise StampFailed(f"{clean(failure)} (no export written)") from None
    except EvidenceError as failure:
        raise EvidenceUsageError(clean(failure)) from None
    finally:
        store.close()
    _report(done, config.creneau.language)
    if sealer is not None and sealer.stamped is not None:
        _report_stamp(sealer.stamped, done.directory, config.creneau.zone)


def _report_stamp(stamped: Stamped, folder: Path, zone: ZoneInfo) -> None:
    when = stamped.token.time
    said = f"{utc_clock(when)} UTC ({short_fr(when, zone)}, {zone.key})" if when else "?"
    out.print(f"Time-stamped {said} by {clean(stamped.token.tsa)}", markup=False)
    out.print(
        f"  authority {clean(stamped.authority)}, root {clean(stamped.root.subject)}",
        markup=False,
    )
    out.print(f"  verify: creneau evidence verify {folder}", markup=False)


def _target(config: Config, name: str, config_path: Path) -> TargetBase:
    known = {target.name: target for target in config.targets}
    if name not in known:
        raise EvidenceUsageError(
            f"no target named {name} in {config_path} (targets: {', '.join(known)})"
        )
    return known[name]


def _report(done: Exported, language: str) -> None:
    from creneau.evidence import coverage_statement, coverage_warning, verdict_fr

    facts, renderings = done.facts, done.renderings
    out.print(f"Export written to {done.directory}", markup=False)
    out.print(
        f"  {facts.total} checks ({facts.detailed} detailed, {facts.hourly} from hourly counts), "
        f"{facts.pages_included} pages, {len(renderings.made)} renderings, "
        f"{len(done.files) + 1} files",
        markup=False,
    )
    out.print(f"  {verdict_fr(facts)}", markup=False)
    out.print(f"  {coverage_statement(facts, done.coverage, language)}", markup=False)
    if warning := coverage_warning(done.coverage, language):
        out.print(f"  {warning}", markup=False)
    if problem := (renderings.problem_fr if language == "fr" else renderings.problem):
        out.print(f"  {clean(problem)}", markup=False)
    if renderings.left_out:
        out.print(
            f"  {renderings.left_out} more pages not rendered (--max-renderings)", markup=False
        )
    out.print(f"  verify: cd {done.directory} && sha256sum -c {MANIFEST}", markup=False)
    out.print(f"SHA-256 of {MANIFEST}: {done.manifest_sha256}", markup=False)


@evidence.command("verify")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The time-stamping authority's root certificate (PEM) to verify the token on. "
    "Default: the system's trust store, else the root stored in the folder.",
)
@click.option(
    "--language",
    type=click.Choice(["fr", "en"]),
    default=None,
    help="Language of the report. Default: the config's, else French.",
)
@config_option()
def verify(folder: Path, ca_file: Path | None, language: str | None, config_path: Path) -> None:
    """Check an export: MANIFEST.sha256 and every file, RECORD.sha256, and the time-stamp
    token with OpenSSL. Prints what it proved; exit status 1 when anything fails."""
    from creneau.evidence.verify import verify_export
    from creneau.evidence.verify_texts import report_lines

    if language is None:
        language = (
            read_config(config_path).creneau.language if config_path.exists() else DEFAULT_LANGUAGE
        )
    try:
        done = verify_export(folder, ca_file)
    except EvidenceError as failure:
        raise EvidenceUsageError(clean(failure)) from None
    for line in report_lines(done, language):
        out.print(clean(line), markup=False)
    if not done.ok:
        raise click.exceptions.Exit(1)
