"""`creneau demo`: the simulated préfecture, the real daemon and a simulated phone, for
about a minute; then what the history says. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from creneau import logs, url_keys
from creneau.cli.history import print_releases, print_summaries
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.history import releases
from creneau.simulator.phone import Phone, Received
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import default_prefecture, demo_timetable
from creneau.store import Store

DEMO_HOST_BUDGET = {"per_minute": 600, "burst": 60}


def demo_config(
    database: str, booking_url: str, quiet_url: str, phone_url: str, web_port: int = 0
) -> Config:
    return Config.model_validate(
        {
            "creneau": {
                "database": database,
                "timezone": "Europe/Paris",
                "contact": "demo@creneau.invalid",
            },
            "notify": [{"name": "phone", "urls": [phone_url]}],
            "web": {"enabled": web_port > 0, "listen": f"127.0.0.1:{web_port or 8765}"},
            # The simulator is on loopback, which gets the default budget like any host: the
            # demo's pace needs more.
            "hosts": {"127.0.0.1": DEMO_HOST_BUDGET},
            "target": [
                {
                    "name": "nanterre-titres",
                    "system": "ezbooking",
                    "url": booking_url,
                    "every": "4s",
                    "jitter": "1s",
                    "notify": ["phone"],
                },
                {
                    "name": "bobigny-etudiants",
                    "system": "ezbooking",
                    "url": quiet_url,
                    "every": "10s",
                    "jitter": "2s",
                    "notify": ["phone"],
                },
            ],
        }
    )


def run_demo(seconds: int, console: Console) -> int:
    def show(message: Received) -> None:
        console.print(
            Panel(
                Markdown(message.body, hyperlinks=False),
                title=f"📱 {message.title}",
                border_style="green",
                width=min(80, console.width),
            )
        )

    with (
        tempfile.TemporaryDirectory(prefix="creneau-demo-") as workdir,
        SimulatorServer(default_prefecture(demo_timetable())) as simulator,
        Phone(on_message=show) as phone,
    ):
        database = f"sqlite:///{Path(workdir) / 'demo.db'}"
        config = demo_config(
            database,
            simulator.booking_url("1001"),
            simulator.booking_url("1003"),
            phone.apprise_url,
            web_port=free_port(),
        )
        url_keys.load_or_create(config.creneau.data_dir)  # as read_config does
        logs.use_zone(config.creneau.zone)  # the log's times as the history's, as `run` does
        console.rule("creneau demo")
        console.print(
            f"Simulated préfecture at {simulator.url} (try it in a browser). "
            f"Slots appear at booking 1001 after ~8 s and ~30 s.\n"
            f"The daemon checks every 4 s here; on a real site the floor is 60 s.\n"
            f"Dashboard: http://{config.web.listen}/ (open it while the demo runs)."
        )
        store = Store(database)
        asyncio.run(_run_for(Daemon(config, store), config, seconds))
        console.rule("history")
        print_releases(releases(store), config.creneau.zone)
        print_summaries(store, config.creneau.zone)
        store.close()
        if not phone.messages:
            console.print("[red]No alert reached the phone: something is wrong.[/red]")
            return 1
        console.print(
            f"\n{len(phone.messages)} alert(s) reached the simulated phone. "
            "creneau never books: a person does, by hand."
        )
        return 0


async def _run_for(daemon: Daemon, config: Config, seconds: int) -> None:
    """The daemon and its dashboard, for `seconds`."""
    from creneau.web.server import make_context, serve

    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await asyncio.gather(daemon.run(stop), serve(make_context(config, live=daemon), stop))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
