"""The `creneau` command. Exit codes: 0 done, 1 failure at run time, 2 bad usage or config."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from creneau import __version__, logs, sources
from creneau.cli.evidence import evidence
from creneau.cli.history import history
from creneau.cli.options import config_option
from creneau.dates import local_time
from creneau.redact import public_link, redact
from creneau.terminal import json_line, plain

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.fetch.client import Session
    from creneau.results import CheckResult
    from creneau.sources import HandsCaptchaToAPerson
    from creneau.store import Store
    from creneau.targets import TargetBase

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CONFIG_OPTION = config_option()
STATUS_STYLE = {
    "available": "bold green",
    "none": "dim",
    "blocked": "red",
    "overloaded": "yellow",
    "closed": "yellow",
    "captcha": "magenta",
    "error": "red",
    "unknown": "magenta",
}


def main() -> None:
    """Entry point: bad input exits 2 with one line; a crash prints no secret."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as failure:
        failure.show()
        sys.exit(failure.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except Exception:
        click.echo(redact(traceback.format_exc()), err=True)
        click.echo("creneau: internal error (above); please report it.", err=True)
        sys.exit(1)


# Long-running commands: Ctrl-C, like SIGTERM, is their normal way to stop (status 0). The
# others are interrupted by it as any command is (status 130).
STOPPED_BY_SIGNALS = frozenset({"run", "demo", "simulate"})


@click.group()
@click.version_option(__version__, prog_name="creneau")
@click.option("-v", "--verbose", is_flag=True, help="Log HTTP and scheduling details.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Watch préfecture booking pages politely and alert when slots appear.
    creneau never books, never solves a CAPTCHA, never hides what it is."""
    on_main_thread = threading.current_thread() is threading.main_thread()  # (tests: not)
    if ctx.invoked_subcommand not in STOPPED_BY_SIGNALS and on_main_thread:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    logs.setup(logging.DEBUG if verbose else logging.INFO, err)


# --- shared helpers ----------------------------------------------------------------------


def _fail_config(lines: Sequence[str]) -> NoReturn:
    for line in lines:
        click.echo(redact(line), err=True)
    sys.exit(2)


def _load(config_path: Path) -> Config:
    from creneau.config import ConfigError, load_config
    from creneau.store import url_keys

    try:
        config = load_config(config_path)
    except ConfigError as failure:
        _fail_config(failure.lines)
    logs.use_zone(config.creneau.zone)
    for warning in config.warnings:
        logging.getLogger("creneau").warning(warning)
    url_keys.load_or_create(config.creneau.data_dir)
    return config


def _open_store(url: str) -> Store:
    from creneau.store import Store

    store = Store(url)
    try:
        store.upgrade()
    except Exception as failure:
        click.echo(redact(f"creneau: cannot open the database {url}: {failure}"), err=True)
        sys.exit(1)
    return store


def _existing_store(url: str) -> Store:
    """The database, which must exist already: only `run` and `db upgrade` create one."""
    from sqlalchemy.engine import make_url

    if not _database_exists(url):
        path = Path(make_url(url).database or "").expanduser()
        click.echo(
            f"creneau: no database at {path} (creneau run or creneau db upgrade creates "
            "it; check [creneau] database in the config)",
            err=True,
        )
        sys.exit(1)
    return _open_store(url)


def _database_exists(url: str) -> bool:
    """False only for an SQLite file that is not there (a server database is asked)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).expanduser().exists()


def _migrated_apart(url: str, config_path: Path) -> Store:
    """The store, with any pending migration applied by a child `creneau db upgrade`: the
    daemon then never loads Alembic (~11 MB it would keep for as long as it runs)."""
    import subprocess

    from creneau.store import Store, head_revision

    store = Store(url)
    try:
        current = store.revision()
    except Exception as failure:
        click.echo(redact(f"creneau: cannot open the database {url}: {failure}"), err=True)
        sys.exit(1)
    if current != head_revision():
        done = subprocess.run(
            [sys.executable, "-m", "creneau", "db", "upgrade", "--config", str(config_path)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            click.echo(redact(done.stderr.strip() or "creneau: the migration failed"), err=True)
            sys.exit(done.returncode)
    return store


# --- check ---------------------------------------------------------------------------------


@cli.command()
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

    if url or system or settings:
        if not system:
            raise click.UsageError("an ad-hoc check needs --system (and --url or --set)")
        if names:
            raise click.UsageError("give either target NAMES or --system/--url, not both")
        target = _ad_hoc_target(system, url, list(desks), settings)
        # A config.toml that happens to be in the folder is not the user's choice: only one
        # named with --config (or CRENEAU_CONFIG) lends its database, contact and budgets.
        named = click.get_current_context().get_parameter_source("config_path")
        chosen = named is not None and named is not click.core.ParameterSource.DEFAULT
        config = _load(config_path) if chosen else None
        database = config.creneau.database if config else default_database_url()
        contact = contact or (config.creneau.contact if config else None)
        asyncio.run(_check_targets([target], database, contact, config, as_json))
        return
    config = _load(config_path)
    known = {target.name: target for target in config.targets}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.UsageError(
            f"no target named {', '.join(unknown)} in {config_path} (targets: {', '.join(known)})"
        )
    targets = [known[name] for name in names] if names else config.targets
    asyncio.run(
        _check_targets(targets, config.creneau.database, config.creneau.contact, config, as_json)
    )


def _ad_hoc_target(
    system: str, url: str | None, desks: list[str], settings: tuple[str, ...]
) -> TargetBase:
    import tomllib

    from pydantic import ValidationError

    from creneau.config import describe_errors

    fields: dict[str, Any] = {"name": "ad-hoc", "system": system, "every": "60s"}
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
        except tomllib.TOMLDecodeError:
            fields[key.strip()] = value
    try:
        return sources.get(system).Target.model_validate(fields)
    except ValidationError as failure:
        _fail_config(
            [
                f"--{line}" if line.split(":")[0] in ("url", "desks") else f"--set {line}"
                for line in describe_errors(failure, fields)
            ]
        )


async def _check_targets(
    targets: Sequence[TargetBase],
    database: str,
    contact: str | None,
    config: Config | None,
    as_json: bool,
) -> None:
    from creneau.alerts import events as outbox
    from creneau.alerts.deliver import Sender
    from creneau.check.record import watch_once
    from creneau.config import default_data_dir
    from creneau.fetch.client import HostBudget, PoliteClient, TooSoon

    store = _open_store(database)
    client = PoliteClient(contact, config.budget_for if config else lambda host: HostBudget())
    for name, at in store.last_checks().items():
        client.remember_check(name, at)
    client.restore_hosts(store.host_states())
    routes = outbox.routes(config) if config else {}
    ad_hoc = outbox.Routing(config.creneau.zone if config else ZoneInfo("Europe/Paris"))
    pages_dir = config.creneau.pages_dir if config else default_data_dir() / "pages"
    queued = 0
    for target in targets:
        routing = routes.get(target.name, ad_hoc)
        try:
            recorded = await watch_once(
                target,
                client,
                store,
                routing,
                pages_dir=pages_dir,
                keep_pages=bool(config and config.creneau.keep_pages),
                name_in_store=None if target.name in routes else public_link(target.url),
            )
        except TooSoon as early:
            click.echo(f"{target.name}: skipped, {early.detail}", err=True)
            continue
        queued += recorded.queued
        if as_json:
            click.echo(json_line(recorded.result.to_json()))
        else:
            _print_result(recorded.result, len(recorded.appeared), routing.zone)
    if queued and config is not None:
        deliveries = await Sender.from_config(store, config).deliver_due()
        sent = sum(delivery.ok for delivery in deliveries)
        click.echo(
            f"alerts: {sent} sent, {len(deliveries) - sent} held or to retry (outbox)", err=True
        )


def _print_result(result: CheckResult, new: int, zone: ZoneInfo) -> None:
    style = STATUS_STYLE.get(result.status.value, "")
    headline = Text.assemble(plain(result.target, "bold"), "  ", plain(result.status.value, style))
    if result.slots:
        headline.append(f"  {len(result.slots)} slots ({new} new)")
    out.print(headline)
    if result.detail:
        out.print(Text.assemble("  ", plain(result.detail)))
    if result.guichets:
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
        for column in ("guichet", "status", "slots"):
            table.add_column(column)
        for guichet in result.guichets:
            times = ", ".join(
                s.start.astimezone(zone).strftime("%a %d/%m %H:%M")
                if s.time_known
                else "time not read"
                for s in guichet.slots[:6]
            )
            more = f" … (+{len(guichet.slots) - 6})" if len(guichet.slots) > 6 else ""
            gstyle = STATUS_STYLE.get(guichet.status.value, "")
            table.add_row(
                plain(guichet.label), plain(guichet.status.value, gstyle), plain(times + more)
            )
        out.print(table)


# --- parse ---------------------------------------------------------------------------------


@cli.command()
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
        config = _load(config_path)
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
                plain(f"{reading.kind}  {reading.detail}"),
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


# --- report --------------------------------------------------------------------------------


@cli.command()
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
    from creneau import report as reports

    config = _load(config_path)
    target = next((t for t in config.targets if t.name == name), None)
    if target is None:
        raise click.UsageError(f"no target named {name} in {config_path}")
    rows = []
    if _database_exists(config.creneau.database):  # pages are files: a report needs no database
        rows = _existing_store(config.creneau.database).checks(name)[-50:]
    pages_dir = config.creneau.pages_dir
    kept = reports.read_kept_files(pages_dir / reports.file_name(name), last)
    kept += reports.read_kept_by_hash(
        pages_dir, [row.page_sha256 for row in rows if row.page_sha256], last
    )
    checks = [
        reports.CheckLine(row.started_at, row.status, row.http_status, row.detail)
        for row in rows[-20:]
    ]
    folder = reports.write_report(out_dir, target, kept[-last:], checks, datetime.now(UTC))
    out.print(f"report written: {folder} ({len(kept[-last:])} page(s))", markup=False)
    if not kept:
        out.print(
            "No page was kept for this target yet: creneau keeps the pages it does not "
            "recognise, and every page with keep_pages = true.",
            markup=False,
        )


# --- run -----------------------------------------------------------------------------------


@cli.command()
@CONFIG_OPTION
def run(config_path: Path) -> None:
    """Run the daemon: check every target on its schedule and send alerts."""
    # Until the event loop takes the signals over, SIGTERM and SIGINT stop it quietly
    # (creneau.entry); a migration's transaction rolls back.
    from creneau.daemon import Daemon, run_until_signal
    from creneau.entry import stop_quietly_on_signals
    from creneau.store.lock import AlreadyRunning

    config = _load(config_path)
    store = _migrated_apart(config.creneau.database, config_path)
    lock = store.daemon_lock()
    try:
        lock.acquire()
    except AlreadyRunning as running:
        click.echo(redact(f"creneau: {running}"), err=True)
        sys.exit(2)
    daemon = Daemon(config, store)
    logging.getLogger("creneau").info(
        "creneau %s: %d targets, database %s",
        __version__,
        len(config.targets),
        _database_label(config.creneau.database),
    )
    observed = store.requests_per_check(datetime.now(UTC) - timedelta(days=7))
    asyncio.run(
        run_until_signal(daemon, lambda: print_plan(config, daemon.first_checks(), observed))
    )
    stop_quietly_on_signals()  # closing the loop restored the default handlers
    lock.release()
    logging.getLogger("creneau").info("stopped")


REQUESTS_PER_CHECK_GUESS = 7.0  # before any check was recorded: a one-desk ezbooking flow


def print_plan(
    config: Config, first_checks: dict[str, datetime], observed: dict[str, float] | None = None
) -> None:
    """The start-up summary: what is watched, how often, within which budgets; and a
    warning for a host whose targets need more requests than its budget allows."""
    from creneau.dates import compact_duration

    observed = observed or {}
    zone = config.creneau.zone
    table = Table(title="Targets", header_style="bold")
    for column in ("target", "system", "host", "every", "burst", "windows", "first check"):
        table.add_column(column)
    for target in config.targets:
        burst = "—"
        if target.burst:
            windows = ", ".join(window.text for window in target.burst.windows)
            burst = f"{compact_duration(target.burst.every)} in {windows}"
        table.add_row(
            target.name,
            target.system,
            target.host,
            f"{compact_duration(target.every)} ± {compact_duration(target.jitter / 2)}",
            burst,
            ", ".join(w.text for w in target.windows) or "always",
            local_time(first_checks.get(target.name), zone),
        )
    err.print(table)
    hosts = Table(title="Hosts", header_style="bold")
    for column in ("host", "budget", "targets", "requests per hour needed"):
        hosts.add_column(column)
    warnings = []
    for host in sorted({target.host for target in config.targets}):
        mine = [target for target in config.targets if target.host == host]
        budget = config.budget_for(host)
        needed = sum(
            observed.get(t.name, REQUESTS_PER_CHECK_GUESS) * 3600 / t.every.total_seconds()
            for t in mine
        )
        allowed = budget.per_minute * 60
        hosts.add_row(
            host,
            f"{budget.per_minute:g}/min, bursts of {budget.burst}",
            str(len(mine)),
            f"~{needed:.0f} (of {allowed:.0f} allowed)",
        )
        if needed > allowed:
            warnings.append(
                f"{host}: its {len(mine)} target(s) need ~{needed:.0f} requests an hour and "
                f"its budget allows {allowed:.0f}: checks will be about "
                f"{needed / allowed:.1f}× further apart than configured. Check less often, "
                "watch fewer desks, or accept it: creneau never exceeds the budget."
            )
    err.print(hosts)
    for warning in warnings:
        logging.getLogger("creneau").warning(warning)


def _database_label(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- history (history_cli.py) -------------------------------------------------------------

cli.add_command(history)
cli.add_command(evidence)


# --- captcha: a person solves it --------------------------------------------------------------


@cli.command()
@click.argument("name")
@CONFIG_OPTION
@click.option(
    "--image",
    "image_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to save the CAPTCHA image (default: in the data directory).",
)
def captcha(name: str, config_path: Path, image_path: Path | None) -> None:
    """Solve a site's CAPTCHA yourself so creneau can go on watching. creneau shows you the
    image and sends what you type; it never reads or solves a CAPTCHA itself."""
    config = _load(config_path)
    target = next((t for t in config.targets if t.name == name), None)
    if target is None:
        raise click.UsageError(f"no target named {name} in {config_path}")
    source = sources.captcha_handler(target.system)
    if source is None:
        raise click.UsageError(f"{name}: the {target.system} system never asks for a CAPTCHA")
    image_path = image_path or config.creneau.data_dir.expanduser() / "captcha" / f"{name}.png"
    sys.exit(asyncio.run(_solve_captcha(config, target, source, image_path)))


async def _solve_captcha(
    config: Config, target: TargetBase, source: HandsCaptchaToAPerson, image_path: Path
) -> int:
    from creneau.alerts import events as outbox
    from creneau.alerts.deliver import Sender
    from creneau.check.record import watch_once
    from creneau.fetch.client import FetchError, PoliteClient
    from creneau.results import Status

    store = _open_store(config.creneau.database)
    client = PoliteClient(config.creneau.contact, config.budget_for)
    client.restore_hosts(store.host_states())
    try:
        # A person's action, not a periodic check: it has its own floor key.
        async with client.session(
            f"{target.name}#captcha", target.url, respect_robots=target.respect_robots
        ) as session:
            cookies = await _ask_a_person(target, source, session, image_path)
            session.verdict = Status.NONE if cookies is not None else Status.CAPTCHA
    except FetchError as failure:
        click.echo(f"{target.name}: {failure.detail}", err=True)
        return 1
    if cookies is None:
        return 1
    with store.transaction() as tx:
        tx.save_site_session(target.name, cookies, datetime.now(UTC))
    recorded = await watch_once(
        target,
        client,
        store,
        outbox.routes(config)[target.name],
        pages_dir=config.creneau.pages_dir,
    )
    _print_result(recorded.result, len(recorded.appeared), config.creneau.zone)
    if recorded.queued:
        await Sender.from_config(store, config).deliver_due()
    out.print(
        "The daemon goes on checking with this session until the site ends it; "
        "you will be alerted then."
    )
    return 0


async def _ask_a_person(
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    session: Session,
    image_path: Path,
    tries: int = 3,
) -> dict[str, str] | None:
    """Show the image, send what the person types; the site session's cookies on success."""
    from creneau.results import Status

    for _ in range(tries):
        try:
            challenge = await source.start_captcha(target, session)
        except ValueError as unavailable:
            _say_no_image(target, unavailable)
            return None
        await asyncio.to_thread(_save_image, image_path, challenge.image)
        if not show_inline(challenge.image):
            out.print(f"Open the image and read the code: {image_path}", markup=False)
        code = await asyncio.to_thread(
            click.prompt, "Code shown in the image (empty to stop)", default="", show_default=False
        )
        if not code.strip():
            return None
        try:
            reading = await source.submit_captcha(target, session, challenge, code)
        except ValueError as unavailable:  # e.g. a reCAPTCHA chained after the right code
            _say_no_image(target, unavailable)
            return None
        if reading.status is not Status.CAPTCHA:
            return session.cookies()
        out.print("The site did not accept that code; here is a new image.")
    return None


def _say_no_image(target: TargetBase, unavailable: ValueError) -> None:
    """Why there is no image to show; for a challenge only a browser passes, what to do."""
    click.echo(f"{target.name}: {getattr(unavailable, 'detail', unavailable)}", err=True)
    if getattr(unavailable, "challenge", "") not in ("", "image"):
        click.echo(
            f"creneau cannot show you this check; open {redact(target.url)} in a browser. creneau "
            "keeps watching and will ask again when the site shows its image CAPTCHA.",
            err=True,
        )


def _save_image(path: Path, image: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)


def show_inline(image: bytes) -> bool:
    """Draw the image in terminals that can (iTerm2, WezTerm, kitty); False elsewhere."""
    import base64
    import os

    if not sys.stdout.isatty():
        return False
    data = base64.b64encode(image).decode("ascii")
    if (
        os.environ.get("TERM_PROGRAM") in ("iTerm.app", "WezTerm")
        or os.environ.get("LC_TERMINAL") == "iTerm2"
    ):
        sys.stdout.write(f"\033]1337;File=inline=1;size={len(image)}:{data}\a\n")
        return True
    if "kitty" in os.environ.get("TERM", ""):
        chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
        for index, chunk in enumerate(chunks):
            more = 1 if index < len(chunks) - 1 else 0
            head = "a=T,f=100," if index == 0 else ""
            sys.stdout.write(f"\033_G{head}m={more};{chunk}\033\\")
        sys.stdout.write("\n")
        return True
    return False


# --- notify-test, db, health ----------------------------------------------------------------


@cli.command("notify-test")
@CONFIG_OPTION
def notify_test(config_path: Path) -> None:
    """Send a test message to every configured channel URL and report each outcome."""
    from creneau.alerts.deliver import channel_of, send_one
    from creneau.alerts.messages import Messages

    config = _load(config_path)
    if not config.notify:
        _fail_config([f"{config_path}: notify: no channel configured (add a [[notify]] table)"])
    messages = Messages(config.creneau.language, config.creneau.zone, config.templates)
    failures = 0
    for channel in config.notify:
        for index, secret in enumerate(channel.urls):
            url = secret.get_secret_value()
            message = messages.render([{"event": "test"}], channel_of(url))
            ok, error = asyncio.run(send_one(url, message.title, message.body, message.format))
            label = f"{channel.name} #{index + 1} ({url.split('://', 1)[0]}://…)"
            if ok:
                out.print(f"[green]sent[/green]    {label}")
            else:
                failures += 1
                out.print(f"[red]failed[/red]  {label}: {redact(error)}")
    sys.exit(1 if failures else 0)


@cli.group("outbox", invoke_without_command=True)
@CONFIG_OPTION
@click.option("--all", "show_all", is_flag=True, help="Also list alerts already sent.")
@click.pass_context
def outbox_group(ctx: click.Context, config_path: Path, show_all: bool) -> None:
    """Alerts waiting to go out, failed or expired, with their last error."""
    if ctx.invoked_subcommand is not None:
        return
    from creneau.alerts.messages import Messages

    config = _load(config_path)
    store = _existing_store(config.creneau.database)
    messages = Messages(config.creneau.language, config.creneau.zone, config.templates)
    rows = [row for row in store.notifications() if show_all or row.state != "sent"]
    if not rows:
        out.print("The outbox is empty: every alert went out.")
        return
    table = Table(header_style="bold")
    for column in (
        "id",
        "created",
        "state",
        "channel",
        "attempts",
        "next try",
        "alert",
        "last error",
    ):
        table.add_column(column)
    for row in rows:
        title = messages.render([row.payload]).title if "event" in row.payload else row.kind
        next_try = (
            local_time(row.next_attempt_at, config.creneau.zone) if row.state == "pending" else ""
        )
        table.add_row(
            str(row.id),
            local_time(row.created_at, config.creneau.zone),
            row.state,
            plain(f"{row.channel} ({row.url_label})"),
            str(row.attempts),
            next_try,
            plain(title),
            plain(redact(row.last_error)),
        )
    out.print(table)


@outbox_group.command("retry")
@click.argument("notification_id", type=int)
@CONFIG_OPTION
def outbox_retry(notification_id: int, config_path: Path) -> None:
    """Send alert ID again now (the daemon picks it up within seconds)."""
    config = _load(config_path)
    store = _existing_store(config.creneau.database)
    if not store.retry_now(notification_id, datetime.now(UTC)):
        raise click.UsageError(f"no alert {notification_id} waiting, failed or expired")
    out.print(f"alert {notification_id} is due now")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@CONFIG_OPTION
def db_upgrade(config_path: Path) -> None:
    """Apply pending migrations (the daemon also does this at start)."""
    config = _load(config_path)
    _open_store(config.creneau.database)
    out.print(f"database up to date: {_database_label(config.creneau.database)}")


@cli.command()
@CONFIG_OPTION
@click.option(
    "--max-age",
    default="",
    help='Instead of each target\'s plan: the oldest acceptable last check, e.g. "15m".',
)
def health(config_path: Path, max_age: str) -> None:
    """Exit 0 when every target is checked as its plan says (its interval, its windows),
    1 otherwise (for a container's HEALTHCHECK)."""
    from creneau.daemon.health import overdue
    from creneau.dates import compact_duration
    from creneau.targets import parse_duration

    config = _load(config_path)
    store = _existing_store(config.creneau.database)
    now = datetime.now(UTC)
    last_checks = store.last_checks()
    last = max(last_checks.values(), default=None)
    if max_age:
        if last is None or now - last > parse_duration(max_age):
            ago = "never" if last is None else f"{compact_duration(now - last)} ago"
            click.echo(f"unhealthy: last check {ago}", err=True)
            sys.exit(1)
    else:
        zone = config.creneau.zone
        late = overdue(config.targets, zone, store.next_checks(), last_checks, now)
        if late:
            problems = "; ".join(item.describe(now, zone) for item in late)
            click.echo(f"unhealthy: {problems}", err=True)
            sys.exit(1)
    ago = "never" if last is None else f"{compact_duration(now - last)} ago"
    out.print(f"healthy: {len(config.targets)} target(s) on schedule; last check {ago}")


@cli.command()
@CONFIG_OPTION
def status(config_path: Path) -> None:
    """Each target's last check, next check and host state, and the outbox."""
    from creneau import history as queries

    config = _load(config_path)
    store = _existing_store(config.creneau.database)
    zone = config.creneau.zone
    last = {row.target: row for row in queries.last_check_rows(store)}
    next_checks = store.next_checks()
    hosts = store.host_states()
    now = datetime.now(UTC)
    table = Table(title="Targets", header_style="bold")
    for column in ("target", "last check", "status", "detail", "next check", "host"):
        table.add_column(column)
    for target in config.targets:
        row = last.get(target.name)
        state = hosts.get(target.host)
        host_text = f"{target.host}: ok"
        if state and state.open_until and state.open_until > now:
            host_text = (
                f"{target.host}: cooling down until {local_time(state.open_until, zone)} "
                f"({state.reason})"
            )
        elif state and state.not_before and state.not_before > now:
            host_text = f"{target.host}: Retry-After until {local_time(state.not_before, zone)}"
        status_text = row.status if row else "never checked"
        style = STATUS_STYLE.get(status_text, "default")
        table.add_row(
            plain(target.name),
            local_time(row.started_at if row else None, zone),
            plain(status_text, style),
            plain(row.detail[:60] if row else ""),
            local_time(next_checks.get(target.name), zone),
            plain(host_text),
        )
    out.print(table)
    pending = store.notifications("pending")
    failed = store.notifications("failed")
    out.print(f"outbox: {len(pending)} pending, {len(failed)} failed")


# --- simulator and demo ---------------------------------------------------------------------


@cli.command()
@click.option("--port", default=8089, show_default=True, help="Port on 127.0.0.1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
def simulate(port: int, host: str) -> None:
    """Serve simulated sites of every booking system on a loopback address until
    interrupted: point creneau (or a browser) at them."""
    from creneau.simulator.ants import API_PATH, AntsApi
    from creneau.simulator.html import HtmlBookingSite
    from creneau.simulator.prefecture import default_prefecture, demo_timetable
    from creneau.simulator.rdvpref import RdvPrefecture, default_demarches
    from creneau.simulator.rdvsp import RdvspSite
    from creneau.simulator.server import SimulatorServer

    rdvpref, rdvsp, ants, page = (
        RdvPrefecture(default_demarches()),
        RdvspSite(),
        AntsApi(),
        HtmlBookingSite(),
    )
    rdvpref.release(next(iter(rdvpref.demarches)), 3)
    rdvsp.release(next(iter(rdvsp.lieux)), 3)
    ants.release(next(iter(ants.points)), 3)
    page.release(page.guichets[0].id, 2)
    prefecture = default_prefecture(demo_timetable())
    try:
        server = SimulatorServer(prefecture, host, port, sites=[rdvpref, rdvsp, ants, page])
    except (ValueError, OSError) as failure:
        raise click.UsageError(str(failure)) from None
    lines = [
        f"Simulated sites on {server.url} (nothing here is a real booking):",
        'ezbooking (system = "ezbooking"):',
    ]
    lines += [f"  {server.booking_url(b.id)}  {b.summary}" for b in prefecture.bookings.values()]
    lines += ['RDV Préfecture (system = "rdvpref"; creneau captcha NAME shows the code):']
    lines += [
        f"  {server.url}/rdvpref/reservation/demarche/{d.id}/  {d.summary}"
        for d in rdvpref.demarches.values()
    ]
    lines += [
        'RDV Service Public (system = "rdvsp"):',
        f"  {rdvsp.search_url(server.url)}",
        'ANTS passport/CNI (system = "ants", --set latitude=48.86 --set longitude=2.35 '
        "--set reason=PASSPORT):",
        f"  {server.url}{API_PATH}",
        'a generic page (system = "html"; selectors in fixtures/html/):',
        f"  {server.url}{page.path}",
    ]
    for line in lines:
        out.print(line, markup=False)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


@cli.command()
@click.option("--seconds", default=50, show_default=True, help="How long the demo runs.")
def demo(seconds: int) -> None:
    """Simulator + daemon + a simulated phone, for about a minute, then a history summary."""
    from creneau.cli.demo import run_demo

    sys.exit(run_demo(seconds, out))
