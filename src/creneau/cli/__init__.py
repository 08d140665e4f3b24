"""The `creneau` command: the group, its entry point, and the registration of the commands,
one module per command group (check, parse, report, run, captcha, outbox, status, history,
evidence, simulate). What they share is in `cli.context`. Exit codes: 0 done, 1 failure at
run time, 2 bad usage or config."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import traceback

import click

from creneau import __version__, logs
from creneau.cli import (
    captcha,
    check,
    evidence,
    history,
    outbox,
    parse,
    report,
    run,
    simulate,
    status,
    targets,
    web,
)
from creneau.cli.context import err
from creneau.redact import redact


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
STOPPED_BY_SIGNALS = frozenset({"run", "demo", "simulate", "web"})


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


for command in (
    check.check,
    parse.parse,
    report.report,
    run.run,
    history.history,
    evidence.evidence,
    captcha.captcha,
    outbox.notify_test,
    outbox.outbox,
    status.db,
    status.health,
    status.status,
    simulate.simulate,
    simulate.demo,
    web.web,
    targets.add,
    targets.pause,
    targets.resume,
    targets.remove,
    targets.set_,
):
    cli.add_command(command)
