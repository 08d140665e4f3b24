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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.table import Table
from rich.text import Text

from creneau.cli.context import STATUS_STYLE, fail_config, open_store, out
from creneau.cli.options import CONFIG_OPTION
from creneau.terminal import plain

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from creneau.adding.config_file import Edited
    from creneau.adding.links import Link, Preview
    from creneau.config import Config
    from creneau.details import Said
    from creneau.runtime import Runtime
    from creneau.usecases.targets import Draft

SLOTS_SHOWN = 4
T = TypeVar("T")


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
    from creneau.fetch.client import TooSoon
    from creneau.sources import get as get_system
    from creneau.usecases import targets

    link = _link(url, every)
    extra = _settings(settings)
    notify = [part.strip() for given in channels for part in given.split(",") if part.strip()]
    draft = _draft(config_path, link, name, every, notify, extra)
    runtime = _runtime(draft)
    out.print(Text.assemble(plain(link.system, "bold"), "  ", plain(link.url)))
    try:
        found = asyncio.run(targets.preview(runtime, draft, link, name=name, settings=extra))
    except TooSoon as early:
        click.echo(f"{link.url}: not checked, {_said(early.detail, runtime)}", err=True)
        sys.exit(1)
    # The check was made under a provisional name: what it says names the one proposed.
    said = _said(found.result.detail, runtime).replace(draft.checked_as, found.name)
    _show(found, runtime.zone, said)
    selectors = get_system(link.system).asks_for_selectors
    chosen = _html_settings(found, said, extra, yes) if selectors else {}
    table = targets.table(found, every=every, notify=notify, settings={**chosen, **extra})
    added = _config_step(lambda: targets.addition(draft.file, table))
    click.echo(f"to add to {config_path}:\n\n{table.text}")
    if not yes and not click.confirm("Add it?", default=True):
        click.echo("nothing written")
        return
    _config_step(added.save)
    click.echo(f"added {table.name} to {config_path}")
    _notes(extra, link.system, found.result.status.value, table.name)


def _link(url: str, every: str | None) -> Link:
    from creneau.adding import links
    from creneau.usecases import targets

    try:
        return targets.read_link(url, every)
    except links.LinkProblem as problem:
        fail_config([str(problem)])
    except ValueError as wrong:
        fail_config([f"--every: {wrong}"])


def _draft(
    config_path: Path,
    link: Link,
    name: str | None,
    every: str | None,
    notify: list[str],
    extra: dict[str, Any],
) -> Draft:
    """The target as it is checked, read from the file; its mistakes one line each, exit 2."""
    from creneau.usecases import targets

    try:
        targets.require_settings(link, extra)
    except targets.SettingsMissing as missing:
        fail_config([str(missing)])
    draft = _config_step(
        lambda: targets.draft(config_path, link, name, every=every, notify=notify, settings=extra)
    )
    _ready(draft.config)
    for other in draft.already_watching():
        click.echo(f"note: target {other} already watches {draft.target.url}", err=True)
    return draft


def _runtime(draft: Draft) -> Runtime:
    from creneau.runtime import Runtime

    runtime = Runtime(draft.config_to_check_in, open_store(draft.config.creneau.database))
    runtime.seed_from_store()
    return runtime


def _config_step(step: Callable[[], T]) -> T:
    """A step on the config file; what it refuses is one line each, exit 2."""
    from creneau.config import ConfigError

    try:
        return step()
    except ConfigError as failure:
        fail_config(failure.lines)


def _said(detail: Said, runtime: Runtime) -> str:
    from creneau.details import render

    return render(detail, runtime.language, runtime.zone)


def _notes(extra: dict[str, Any], system: str, status: str, name: str) -> None:
    """What is worth knowing once the target is written."""
    from creneau.sources import captcha_handler

    if "token" in extra and "${" not in str(extra["token"]):
        click.echo(
            'note: the token is written in the file as it is; token = "${ANTS_TOKEN}" '
            "would keep it in the environment instead",
            err=True,
        )
    if captcha_handler(system) and status == "captcha":
        click.echo(f"the site asks for its CAPTCHA first: creneau captcha {name}")


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
    from creneau import logs, url_keys

    logs.use_zone(config.creneau.zone)
    for warning in config.warnings:
        logging.getLogger("creneau").warning(warning)
    url_keys.load_or_create(config.creneau.data_dir)


def _show(found: Preview, zone: ZoneInfo, detail: str) -> None:
    """What the check saw: its status and `detail`, then each desk, place or organisation
    with its id."""
    import tomlkit

    from creneau.adding.links import first_times
    from creneau.sources import get as get_system

    result = found.result
    style = STATUS_STYLE.get(result.status.value, "")
    selectors = get_system(found.link.system).asks_for_selectors
    if selectors:
        page = result.page
        answer = f"HTTP {page.status}, {len(page.body)} bytes" if page else "no page"
        out.print(Text.assemble("read: ", plain(answer)))
        if page is None or page.status >= 400:
            out.print(Text.assemble(plain(result.status.value, style), "  ", plain(detail)))
    else:
        out.print(Text.assemble(plain(result.status.value, style), "  ", plain(detail)))
    if result.guichets and not selectors:
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
    from creneau.usecases.targets import chosen_settings

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
    number: int = 1
    if not yes:
        number = click.prompt(
            "Which one", type=click.IntRange(1, len(found.options)), default=1, show_default=True
        )
    return chosen_settings(found, number, ())


def _stop(code: int, line: str) -> NoReturn:
    from creneau.redact import redact

    click.echo(redact(line), err=True)
    sys.exit(code)


# --- one target's table edited -------------------------------------------------------------


def _edit(edit: Callable[[], Edited], done: str, unchanged: str) -> None:
    edited = _config_step(edit)
    click.echo(done if edited.changed else unchanged)


@click.command()
@click.argument("name")
@CONFIG_OPTION
def pause(name: str, config_path: Path) -> None:
    """Stop checking target NAME, keeping it in the config (paused = true)."""
    from creneau.usecases import targets

    edit = partial(targets.pause, config_path, name)
    _edit(edit, f"{name}: paused ({config_path})", f"{name}: already paused")


@click.command()
@click.argument("name")
@CONFIG_OPTION
def resume(name: str, config_path: Path) -> None:
    """Check target NAME again (its paused = true removed)."""
    from creneau.usecases import targets

    edit = partial(targets.resume, config_path, name)
    _edit(edit, f"{name}: resumed ({config_path})", f"{name}: not paused")


@click.command()
@click.argument("name")
@CONFIG_OPTION
def remove(name: str, config_path: Path) -> None:
    """Remove target NAME's [[target]] table from the config (its history stays)."""
    from creneau.usecases import targets

    edit = partial(targets.remove, config_path, name)
    _edit(edit, f"{name}: removed from {config_path}", f"{name}: not removed")


@click.command(name="set")
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@CONFIG_OPTION
def set_(name: str, pairs: tuple[str, ...], config_path: Path) -> None:
    """Set settings of target NAME, e.g. `creneau set nanterre every=10m desks=["14007"]`
    (values are read as TOML: numbers, true/false, [lists], or plain text)."""
    from creneau.usecases import targets

    values = _settings(pairs, option="")
    for key in values:
        if "." in key or not key:
            raise click.UsageError(f"{key}: only a target's own keys can be set (not nested)")
    edit = partial(targets.set_settings, config_path, name, values)
    keys = ", ".join(values)
    _edit(edit, f"{name}: {keys} set ({config_path})", f"{name}: nothing changed")
