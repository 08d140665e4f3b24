"""The `creneau` command: the group, its entry point, and the registration of the commands,
one module per command group (check, parse, report, run, captcha, outbox, status, history,
evidence, simulate). What they share is in `cli.context`. Exit codes: 0 done, 1 failure at
run time, 2 bad usage or config.

A command's module is imported only when that command runs (or help lists them): the daemon
does not carry the history, evidence, editing and image code of the other commands for weeks."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
import traceback

import click

from creneau import __version__, logs
from creneau.cli import context
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


# name → "module:function" under creneau.cli.
COMMANDS = {
    "check": "check:check",
    "parse": "parse:parse",
    "report": "report:report",
    "run": "run:run",
    "history": "history:history",
    "evidence": "evidence:evidence",
    "captcha": "captcha:captcha",
    "notify-test": "outbox:notify_test",
    "outbox": "outbox:outbox",
    "db": "status:db",
    "health": "status:health",
    "status": "status:status",
    "simulate": "simulate:simulate",
    "demo": "simulate:demo",
    "web": "web:web",
    "add": "targets:add",
    "pause": "targets:pause",
    "resume": "targets:resume",
    "remove": "targets:remove",
    "set": "targets:set_",
}


class LazyGroup(click.Group):
    """Click's documented pattern for lazily loaded subcommands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, function = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f"creneau.cli.{module}"), function)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="creneau")
@click.option("-v", "--verbose", is_flag=True, help="Log HTTP and scheduling details.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Watch préfecture booking pages politely and alert when slots appear.
    creneau never books, never solves a CAPTCHA, never hides what it is."""
    on_main_thread = threading.current_thread() is threading.main_thread()  # (tests: not)
    if ctx.invoked_subcommand not in STOPPED_BY_SIGNALS and on_main_thread:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    on_terminal = context.err if context.stderr_is_terminal() else None  # else no Rich
    logs.setup(logging.DEBUG if verbose else logging.INFO, sys.stderr, on_terminal)
