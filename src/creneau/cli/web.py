"""`creneau web`: the dashboard alone, against the same database as the daemon (which may
run elsewhere); `creneau web hash-password`: what to write as `[web] password` instead of
the password itself."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from creneau.cli.context import existing_store, out, read_config
from creneau.cli.options import CONFIG_OPTION


@click.group(invoke_without_command=True)
@CONFIG_OPTION
@click.pass_context
def web(ctx: click.Context, config_path: Path) -> None:
    """Serve the dashboard (without checking anything) until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    from creneau.web.server import address, make_context, serve

    config = read_config(config_path)
    existing_store(config.creneau.database).close()  # a dashboard never creates a database
    context = make_context(config, config_path=config_path)

    async def until_signal() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(context, stop)

    out.print(f"dashboard at {address(context)}", markup=False)
    asyncio.run(until_signal())


@web.command("hash-password")
def hash_password_command() -> None:
    """Ask a password twice and print its hash, for `[web] password`."""
    from creneau.web.security import hash_password

    clear = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(clear) < 8:
        raise click.UsageError("choose a password of 8 characters or more")
    out.print(hash_password(clear), markup=False)
