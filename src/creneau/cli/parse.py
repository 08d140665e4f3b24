"""`creneau parse`: classify saved pages offline, as a check would (no network)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from creneau import sources
from creneau.cli.context import STATUS_STYLE, out, read_config
from creneau.cli.options import CONFIG_OPTION
from creneau.terminal import json_line, plain


@click.command()
@click.argument("system", type=click.Choice(sources.SYSTEMS))
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option(
    "--target",
    "target_name",
    help="Read with this target's settings (html needs its selectors and phrases).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also show the rule that decided and the element each slot was read from.",
)
@CONFIG_OPTION
def parse(
    system: str,
    files: tuple[Path, ...],
    as_json: bool,
    target_name: str | None,
    explain: bool,
    config_path: Path,
) -> None:
    """Classify saved pages offline, as a check would (no network)."""
    from creneau.page import Page

    source = sources.get(system)
    target = None
    if target_name:
        config = read_config(config_path)
        target = next((t for t in config.targets if t.name == target_name), None)
        if target is None or target.system != system:
            raise click.UsageError(f"no {system} target named {target_name} in {config_path}")
    for file in files:
        reading = source.parse_page(Page.from_file(file), target)
        if as_json:
            line = {"file": str(file), **reading.to_json()}
            if explain:
                line |= {"rule": reading.rule, "read_from": list(reading.read_from)}
            click.echo(json_line(line))
            continue
        status = reading.status.value if reading.status else "step"
        style = STATUS_STYLE.get(status, "cyan")
        out.print(
            Text.assemble(
                plain(str(file), "bold"),
                "  ",
                plain(status, style),
                "  ",
                plain(f"{reading.kind}  {reading.detail or ''}"),
            )
        )
        if explain:
            out.print(plain(f"  decided by {reading.rule or '(no rule named)'}"))
        for choice in reading.choices:
            out.print(plain(f"  desk {choice.id}  {choice.label}"))
        for index, slot in enumerate(reading.slots):
            start = slot.start.isoformat() if slot.time_known else "time not read"
            out.print(plain(f"  slot {start}  key {slot.key}"))
            if explain and index < len(reading.read_from):
                out.print(plain(f"       read from {reading.read_from[index]}"))
