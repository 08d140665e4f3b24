"""`creneau check`: check configured targets once, or one ad-hoc target described on the
command line (no config needed), and print what each shows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from creneau import sources
from creneau.cli.context import STATUS_STYLE, fail_config, open_store, out, read_config
from creneau.cli.options import CONFIG_OPTION
from creneau.details import redacted, render
from creneau.terminal import json_line, plain

if TYPE_CHECKING:
    from creneau.results import CheckResult
    from creneau.runtime import Runtime
    from creneau.targets import TargetBase

GUICHET_SLOTS_SHOWN = 6


@click.command()
@click.argument("names", nargs=-1)
@CONFIG_OPTION
@click.option("--system", type=click.Choice(sources.SYSTEMS), help="Ad-hoc check: the system.")
@click.option("--url", help="Ad-hoc check: the booking page URL (no config needed).")
@click.option("--desk", "desks", multiple=True, help="Ad-hoc check: desk (planning) id to read.")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Ad-hoc check: any other target setting, e.g. --set latitude=48.85 "
    "(values are read as TOML: numbers, true/false, [lists], or plain text).",
)
@click.option(
    "--contact",
    envvar="CRENEAU_CONTACT",
    help="Ad-hoc check: your e-mail, sent in the User-Agent so the site can reach you.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per target per line.")
def check(
    names: tuple[str, ...],
    config_path: Path,
    system: str | None,
    url: str | None,
    desks: tuple[str, ...],
    settings: tuple[str, ...],
    contact: str | None,
    as_json: bool,
) -> None:
    """Check targets once (all, or the NAMES given) and record what they show."""
    from creneau.config import default_database_url
    from creneau.runtime import Runtime

    if url or system or settings:
        if not system:
            raise click.UsageError("an ad-hoc check needs --system (and --url or --set)")
        if names:
            raise click.UsageError("give either target NAMES or --system/--url, not both")
        target = ad_hoc_target(system, url, list(desks), settings)
        # A config.toml that happens to be in the folder is not the user's choice: only one
        # named with --config (or CRENEAU_CONFIG) lends its database, contact and budgets.
        named = click.get_current_context().get_parameter_source("config_path")
        chosen = named is not None and named is not click.core.ParameterSource.DEFAULT
        config = read_config(config_path) if chosen else None
        database = config.creneau.database if config else default_database_url()
        runtime = Runtime(config, open_store(database), contact=contact)
        asyncio.run(check_targets(runtime, [target], as_json))
        return
    config = read_config(config_path)
    known = {target.name: target for target in config.targets}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.UsageError(
            f"no target named {', '.join(unknown)} in {config_path} (targets: {', '.join(known)})"
        )
    targets = [known[name] for name in names] if names else config.targets
    runtime = Runtime(config, open_store(config.creneau.database))
    asyncio.run(check_targets(runtime, targets, as_json))


def ad_hoc_target(
    system: str, url: str | None, desks: list[str], settings: tuple[str, ...]
) -> TargetBase:
    """The target the options describe; their mistakes one line each (exit 2)."""
    import tomllib

    from pydantic import ValidationError

    from creneau.config import describe_errors

    fields: dict[str, object] = {"name": "ad-hoc", "system": system, "every": "60s"}
    if url:
        fields["url"] = url
    if desks:
        fields["desks"] = desks
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set {setting}: expected KEY=VALUE")
        try:
            fields[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except (tomllib.TOMLDecodeError, RecursionError):
            fields[key.strip()] = value
    try:
        return sources.get(system).Target.model_validate(fields)
    except ValidationError as failure:
        fail_config(
            [
                f"--{line}" if line.split(":")[0] in ("url", "desks") else f"--set {line}"
                for line in describe_errors(failure, fields)
            ]
        )


async def check_targets(runtime: Runtime, targets: Sequence[TargetBase], as_json: bool) -> None:
    """Check each target once, print what it shows, then send the alerts it queued."""
    from creneau.fetch.client import TooSoon
    from creneau.usecases.check_once import check_once

    runtime.seed_from_store()
    queued = 0
    for target in targets:
        try:
            recorded = await check_once(runtime, target)
        except TooSoon as early:
            why = render(early.detail, runtime.language, runtime.zone)
            click.echo(f"{target.name}: skipped, {why}", err=True)
            continue
        queued += recorded.queued
        zone = runtime.routing(target).zone
        if as_json:
            click.echo(json_line(recorded.result.to_json(runtime.language, zone)))
        else:
            print_result(recorded.result, len(recorded.appeared), zone, runtime.language)
    if queued and runtime.config is not None:
        deliveries = await runtime.sender.deliver_due()
        sent = sum(delivery.ok for delivery in deliveries)
        click.echo(
            f"alerts: {sent} sent, {len(deliveries) - sent} held or to retry (outbox)", err=True
        )


def print_result(result: CheckResult, new: int, zone: ZoneInfo, language: str) -> None:
    """One check: its status and detail (in `language`), then each guichet's first slots
    in local time."""
    style = STATUS_STYLE.get(result.status.value, "")
    headline = Text.assemble(plain(result.target, "bold"), "  ", plain(result.status.value, style))
    if result.slots:
        headline.append(f"  {len(result.slots)} slots ({new} new)")
    out.print(headline)
    if result.detail:
        out.print(Text.assemble("  ", plain(render(redacted(result.detail), language, zone))))
    if result.guichets:
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
        for column in ("guichet", "status", "slots"):
            table.add_column(column)
        for guichet in result.guichets:
            times = ", ".join(
                s.start.astimezone(zone).strftime("%a %d/%m %H:%M")
                if s.time_known
                else "time not read"
                for s in guichet.slots[:GUICHET_SLOTS_SHOWN]
            )
            shown = GUICHET_SLOTS_SHOWN
            more = f" … (+{len(guichet.slots) - shown})" if len(guichet.slots) > shown else ""
            gstyle = STATUS_STYLE.get(guichet.status.value, "")
            table.add_row(
                plain(guichet.label), plain(guichet.status.value, gstyle), plain(times + more)
            )
        out.print(table)
