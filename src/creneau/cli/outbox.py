"""The alerts on the command line: `notify-test` (a test message to every channel), `outbox`
(what waits, failed or expired, and why) and `outbox retry ID`."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from creneau.cli.context import existing_store, fail_config, out, read_config
from creneau.cli.options import CONFIG_OPTION
from creneau.dates import local_time
from creneau.details import render
from creneau.redact import redact
from creneau.terminal import plain

OUTBOX_COLUMNS = (
    "id",
    "created",
    "state",
    "channel",
    "attempts",
    "next try",
    "alert",
    "last error",
)


@click.command("notify-test")
@CONFIG_OPTION
def notify_test(config_path: Path) -> None:
    """Send a test message to every configured channel URL and report each outcome."""
    from creneau.alerts.channels import AppriseSession, channel_of
    from creneau.alerts.messages import Messages, dashboard_address

    config = read_config(config_path)
    if not config.notify:
        fail_config([f"{config_path}: notify: no channel configured (add a [[notify]] table)"])
    messages = Messages(
        config.creneau.language,
        config.creneau.zone,
        config.templates,
        dashboard_url=dashboard_address(config.web),
    )

    async def send_each() -> int:
        failures = 0
        apprise = AppriseSession()
        try:
            for channel in config.notify:
                for index, url in enumerate(channel.secret_urls):
                    message = messages.render([{"event": "test"}], channel_of(url))
                    ok, error = await apprise.send(url, message.title, message.body, message.format)
                    label = f"{channel.name} #{index + 1} ({url.split('://', 1)[0]}://…)"
                    if ok:
                        out.print(f"[green]sent[/green]    {label}")
                    else:
                        failures += 1
                        out.print(f"[red]failed[/red]  {label}: {redact(error)}")
        finally:
            await apprise.close()
        return failures

    sys.exit(1 if asyncio.run(send_each()) else 0)


@click.group("outbox", invoke_without_command=True)
@CONFIG_OPTION
@click.option("--all", "show_all", is_flag=True, help="Also list alerts already sent.")
@click.pass_context
def outbox(ctx: click.Context, config_path: Path, show_all: bool) -> None:
    """Alerts waiting to go out, failed or expired, with their last error."""
    if ctx.invoked_subcommand is not None:
        return
    from creneau.alerts.messages import Messages, dashboard_address

    config = read_config(config_path)
    store = existing_store(config.creneau.database)
    messages = Messages(
        config.creneau.language,
        config.creneau.zone,
        config.templates,
        dashboard_url=dashboard_address(config.web),
    )
    rows = [row for row in store.notifications() if show_all or row.state != "sent"]
    if not rows:
        out.print("The outbox is empty: every alert went out.")
        return
    table = Table(header_style="bold")
    for column in OUTBOX_COLUMNS:
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
            plain(redact(render(row.said_error, config.creneau.language, config.creneau.zone))),
        )
    out.print(table)


@outbox.command("retry")
@click.argument("notification_id", type=int)
@CONFIG_OPTION
def outbox_retry(notification_id: int, config_path: Path) -> None:
    """Send alert ID again now (the daemon picks it up within seconds)."""
    config = read_config(config_path)
    store = existing_store(config.creneau.database)
    if not store.outbox.retry_now(notification_id, datetime.now(UTC)):
        raise click.UsageError(f"no alert {notification_id} waiting, failed or expired")
    out.print(f"alert {notification_id} is due now")
