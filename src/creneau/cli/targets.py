"""`creneau add URL`: from the link a person books with to a watched target (the system
recognised, one polite check, what it sees, a name and settings proposed, the `[[target]]`
written); `pause`, `resume`, `remove` and `set`: one target's table edited. The config file
keeps every comment and its layout (adding/config_file.py); every change is validated exactly as at
start: a mistake is one line, exit 2, and nothing is written."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.table import Table
from rich.text import Text

from creneau.cli.context import STATUS_STYLE, fail_config, open_store, out
from creneau.cli.options import CONFIG_OPTION
from creneau.terminal import plain

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from creneau.config import Config
    from creneau.links import Preview

SLOTS_SHOWN = 4


@click.command()
@click.argument("url")
@click.option("--name", help="The target's name (default: from the page, e.g. its démarche).")
@click.option("--every", help='How often to check it, e.g. "10m" (default "5m").')
@click.option(
    "--notify",
    "channels",
    multiple=True,
    metavar="CHANNEL",
    help="The channel(s) to alert, by name; repeat it or separate with commas (default: all).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other target setting, e.g. --set reason=PASSPORT (values are read as TOML: "
    "numbers, true/false, [lists], or plain text).",
)
@click.option("--yes", "-y", is_flag=True, help="Take what creneau proposes without asking.")
@CONFIG_OPTION
def add(
    url: str,
    name: str | None,
    every: str | None,
    channels: tuple[str, ...],
    settings: tuple[str, ...],
    yes: bool,
    config_path: Path,
) -> None:
    """Watch the booking page at URL: recognise its system, check it once, propose a target
    and add it to the config file."""
    from creneau import links
    from creneau.adding import config_file
    from creneau.config import ConfigError
    from creneau.details import render
    from creneau.fetch.client import TooSoon
    from creneau.runtime import Runtime

    try:
        link = links.recognise(url)
        links.durations(every)
    except links.LinkProblem as problem:
        fail_config([str(problem)])
    except ValueError as wrong:
        fail_config([f"--every: {wrong}"])
    extra = _settings(settings)
    notify = [part.strip() for given in channels for part in given.split(",") if part.strip()]
    if missing := links.missing_settings(link, extra):
        fail_config([links.missing_line(link, missing)])
    try:
        file = config_file.ConfigText.read(config_path)
        taken = config_file.target_names(file.text, str(config_path))
        checked_as = name or links.unique_name(links.name_from_link(link, extra), taken)
        fields = links.provisional_fields(
            link, checked_as, every=every, notify=notify, settings=extra
        )
        config = config_file.with_target(file, fields)[1]
    except ConfigError as failure:
        fail_config(failure.lines)
    _ready(config)
    target = next(each for each in config.targets if each.name == checked_as)
    for other in config.targets:
        if other.name != checked_as and other.url == target.url:
            click.echo(f"note: target {other.name} already watches {target.url}", err=True)
    runtime = Runtime(
        config_file.without_target(config, checked_as), open_store(config.creneau.database)
    )
    runtime.seed_from_store()
    out.print(Text.assemble(plain(link.system, "bold"), "  ", plain(link.url)))
    try:
        result = asyncio.run(links.check_link(runtime, target))
    except TooSoon as early:
        why = render(early.detail, runtime.language, runtime.zone)
        click.echo(f"{link.url}: not checked, {why}", err=True)
        sys.exit(1)
    zone = links.site_zone(target)
    found = links.preview(link, result, taken, zone=zone, name=name, settings=extra)
    said = render(found.result.detail, runtime.language, runtime.zone)
    # The check was made under a provisional name: what it says names the one proposed.
    said = said.replace(checked_as, found.name) if checked_as else said
    _show(found, runtime.zone, said)
    chosen = _html_settings(found, said, extra, yes) if link.system == "html" else {}
    fields = found.fields(every=every, notify=notify, settings={**chosen, **extra})
    table = config_file.render_target(fields, found.comments(fields))
    try:
        text = config_file.add_target(file.text, table, str(config_path))
        config_file.validate(file, text)
    except ConfigError as failure:
        fail_config(failure.lines)
    click.echo(f"to add to {config_path}:\n\n{table}")
    if not yes and not click.confirm("Add it?", default=True):
        click.echo("nothing written")
        return
    try:
        config_file.save(file, text)
    except ConfigError as failure:
        fail_config(failure.lines)
    click.echo(f"added {fields['name']} to {config_path}")
    if "token" in extra and "${" not in str(extra["token"]):
        click.echo(
            'note: the token is written in the file as it is; token = "${ANTS_TOKEN}" '
            "would keep it in the environment instead",
            err=True,
        )
    if link.system == "rdvpref" and result.status.value == "captcha":
        click.echo(f"the site asks for its CAPTCHA first: creneau captcha {fields['name']}")


def _settings(pairs: tuple[str, ...], option: str = "--set ") -> dict[str, Any]:
    from creneau.adding.config_file import value_item

    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"{option}{pair}: expected KEY=VALUE")
        values[key.strip()] = value_item(raw.strip())
    return values


def _ready(config: Config) -> None:
    """What reading the config does for any command: its warnings said, the log in its
    zone, the URL keys ready."""
    from creneau import logs
    from creneau.alerts import url_keys

    logs.use_zone(config.creneau.zone)
    for warning in config.warnings:
        logging.getLogger("creneau").warning(warning)
    url_keys.load_or_create(config.creneau.data_dir)


def _show(found: Preview, zone: ZoneInfo, detail: str) -> None:
    """What the check saw: its status and `detail`, then each desk, place or organisation
    with its id."""
    import tomlkit

    from creneau.links import first_times

    result = found.result
    style = STATUS_STYLE.get(result.status.value, "")
    if found.link.system == "html":
        page = result.page
        answer = f"HTTP {page.status}, {len(page.body)} bytes" if page else "no page"
        out.print(Text.assemble("read: ", plain(answer)))
        if page is None or page.status >= 400:
            out.print(Text.assemble(plain(result.status.value, style), "  ", plain(detail)))
    else:
        out.print(Text.assemble(plain(result.status.value, style), "  ", plain(detail)))
    if result.guichets and found.link.system != "html":
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
        for column in ("id", "label", "status", "slots"):
            table.add_column(column)
        for guichet in result.guichets:
            table.add_row(
                plain(guichet.id),
                plain(guichet.label),
                plain(guichet.status.value, STATUS_STYLE.get(guichet.status.value, "")),
                plain(_slots_text(guichet.slots, zone)),
            )
        out.print(table)
    if found.offered is not None and found.offered.choices:
        ids = ", ".join(choice.id for choice in found.offered.choices)
        out.print(
            plain(
                f"{found.offered.key} offered: {ids} (all are watched; to watch some only: "
                f'creneau set {found.name} {found.offered.key}=["…"])'
            )
        )
    for phrase in found.phrases:
        out.print(plain(f'phrase on the page: "{phrase.phrase}"  ({phrase.context})'))
    for number, option in enumerate(found.options, 1):
        described = "  ".join(
            f"{key} = {tomlkit.item(value).as_string()}" for key, value in option.settings.items()
        )
        reading = option.reading
        state = reading.status.value if reading.status else reading.kind
        times = ", ".join(first_times(option.reading, zone))
        count = f"{len(reading.slots)} slots" + (f": {times}" if times else "")
        out.print(plain(f"  {number}. {described}"))
        out.print(plain(f"     reads: {state}, {count}"))


def _slots_text(slots: tuple[Any, ...], zone: ZoneInfo) -> str:
    times = [
        slot.start.astimezone(zone).strftime("%a %d/%m %H:%M") if slot.time_known else "time?"
        for slot in slots[:SLOTS_SHOWN]
    ]
    more = f" … (+{len(slots) - SLOTS_SHOWN})" if len(slots) > SLOTS_SHOWN else ""
    return ", ".join(times) + more


def _html_settings(found: Preview, detail: str, extra: dict[str, Any], yes: bool) -> dict[str, Any]:
    """slot_selector / none_text for an html page: the user's own, else the option picked."""
    from creneau.results import Status

    if {"slot_selector", "none_text"} & set(extra):
        return {}
    result = found.result
    if not found.options:
        unread = (Status.BLOCKED, Status.OVERLOADED, Status.CLOSED, Status.CAPTCHA, Status.ERROR)
        if result.page is None or result.page.status >= 400 or result.status in unread:
            _stop(
                1,
                f"{found.link.url}: the page could not be read ({detail}): creneau cannot "
                'propose what to look for on it; try again later, or give --set slot_selector="…" '
                'and/or --set none_text=["…"]',
            )
        fail_config(
            [
                f"{found.link.url}: creneau found on the page neither elements that repeat with a "
                'date and time nor a phrase saying there is no slot: give --set slot_selector="…" '
                'and/or --set none_text=["…"] (see docs/systems/html.md)'
            ]
        )
    if yes:
        return found.options[0].settings
    number: int = click.prompt(
        "Which one", type=click.IntRange(1, len(found.options)), default=1, show_default=True
    )
    return found.options[number - 1].settings


def _stop(code: int, line: str) -> NoReturn:
    from creneau.redact import redact

    click.echo(redact(line), err=True)
    sys.exit(code)


# --- one target's table edited -------------------------------------------------------------


def _edit(config_path: Path, change: Callable[[str], str], done: str, unchanged: str) -> None:
    from creneau.adding import config_file
    from creneau.config import ConfigError

    try:
        edited = config_file.edit(config_path, change)
    except ConfigError as failure:
        fail_config(failure.lines)
    click.echo(done if edited.changed else unchanged)


@click.command()
@click.argument("name")
@CONFIG_OPTION
def pause(name: str, config_path: Path) -> None:
    """Stop checking target NAME, keeping it in the config (paused = true)."""
    from creneau.adding.config_file import set_values, value_item

    def change(text: str) -> str:
        return set_values(text, name, {"paused": value_item("true")}, str(config_path))

    _edit(config_path, change, f"{name}: paused ({config_path})", f"{name}: already paused")


@click.command()
@click.argument("name")
@CONFIG_OPTION
def resume(name: str, config_path: Path) -> None:
    """Check target NAME again (its paused = true removed)."""
    from creneau.adding.config_file import set_values

    def change(text: str) -> str:
        return set_values(text, name, {"paused": None}, str(config_path))

    _edit(config_path, change, f"{name}: resumed ({config_path})", f"{name}: not paused")


@click.command()
@click.argument("name")
@CONFIG_OPTION
def remove(name: str, config_path: Path) -> None:
    """Remove target NAME's [[target]] table from the config (its history stays)."""
    from creneau.adding.config_file import remove_target

    def change(text: str) -> str:
        return remove_target(text, name, str(config_path))

    _edit(config_path, change, f"{name}: removed from {config_path}", f"{name}: not removed")


@click.command(name="set")
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@CONFIG_OPTION
def set_(name: str, pairs: tuple[str, ...], config_path: Path) -> None:
    """Set settings of target NAME, e.g. `creneau set nanterre every=10m desks=["14007"]`
    (values are read as TOML: numbers, true/false, [lists], or plain text)."""
    from creneau.adding.config_file import set_values

    values = _settings(pairs, option="")
    for key in values:
        if "." in key or not key:
            raise click.UsageError(f"{key}: only a target's own keys can be set (not nested)")

    def change(text: str) -> str:
        return set_values(text, name, values, str(config_path))

    keys = ", ".join(values)
    _edit(config_path, change, f"{name}: {keys} set ({config_path})", f"{name}: nothing changed")
