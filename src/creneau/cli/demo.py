"""`creneau demo`: the simulated préfectures, the real daemon, a simulated phone and a
simulated person, for about a minute and until the release the simulated RDV Préfecture
announced is caught; then what the history says. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from creneau import logs, sources, url_keys
from creneau.check.record import Recorded
from creneau.cli.history import print_releases, print_summaries
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.history import releases
from creneau.simulator.phone import Phone, Received
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import default_prefecture, demo_timetable
from creneau.sources.rdvpref.simulated_releases import whole_minute_from
from creneau.sources.rdvpref.simulator import RdvPrefecture, default_demarches
from creneau.store import Store
from creneau.usecases.captcha import CaptchaDialog, solve_captcha

DEMO_HOST_BUDGET = {"per_minute": 600, "burst": 60}
PHONE_KINDS = ["slots", "trouble", "heartbeat", "release_announced"]
ANNOUNCING = "4418"
ANNOUNCING_TARGET = "allier-titres"
ANNOUNCED_AHEAD = timedelta(seconds=100)  # then the next whole minute
SESSIONS_END = timedelta(seconds=75)  # before the release, the site ends its sessions
VISIBILITY_DELAY = timedelta(seconds=15)  # the real site's cache: 60 s
LONGEST = timedelta(minutes=4)


def demo_config(
    database: str,
    booking_url: str,
    quiet_url: str,
    phone_url: str,
    web_port: int = 0,
    announcing_url: str = "",
) -> Config:
    listen = f"127.0.0.1:{web_port or 8765}"
    return Config.model_validate(
        {
            "creneau": {
                "database": database,
                "timezone": "Europe/Paris",
                "contact": "demo@creneau.invalid",
            },
            "notify": [{"name": "phone", "urls": [phone_url], "kinds": PHONE_KINDS}],
            "web": {
                "enabled": web_port > 0,
                "listen": listen,
                "public_url": f"http://{listen}/",
            },
            # The simulator is on loopback, which gets the default budget like any host: the
            # demo's pace needs more.
            "hosts": {"127.0.0.1": DEMO_HOST_BUDGET},
            "target": [
                *([announcing_target(announcing_url)] if announcing_url else []),
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


def announcing_target(url: str) -> dict[str, object]:
    """A démarche of the simulated RDV Préfecture that announces its next publication,
    checked every minute as on the real site: the burst at the announced instant shows."""
    return {
        "name": ANNOUNCING_TARGET,
        "system": "rdvpref",
        "url": url,
        "every": "60s",
        "jitter": "0s",
        "prepare": "70s",
        "notify": ["phone"],
    }


def run_demo(seconds: int, console: Console) -> int:
    person = SimulatedPerson(console)

    def show(message: Received) -> None:
        console.print(
            Panel(
                Markdown(message.body, hyperlinks=False),
                title=f"📱 {message.title}",
                border_style="green",
                width=min(80, console.width),
            )
        )
        person.read(message)

    rdv = RdvPrefecture(default_demarches(), visibility_delay=VISIBILITY_DELAY)
    with (
        tempfile.TemporaryDirectory(prefix="creneau-demo-") as workdir,
        SimulatorServer(default_prefecture(demo_timetable()), sites=[rdv]) as simulator,
        Phone(on_message=show) as phone,
    ):
        database = f"sqlite:///{Path(workdir) / 'demo.db'}"
        config = demo_config(
            database,
            simulator.booking_url("1001"),
            simulator.booking_url("1003"),
            phone.apprise_url,
            web_port=free_port(),
            announcing_url=f"{simulator.url}/rdvpref/reservation/demarche/{ANNOUNCING}/",
        )
        url_keys.load_or_create(config.creneau.data_dir)  # as read_config does
        logs.use_zone(config.creneau.zone)  # the log's times as the history's, as `run` does
        publication = rdv.schedule_publication(
            ANNOUNCING, whole_minute_from(datetime.now(UTC) + ANNOUNCED_AHEAD), 3
        )
        console.rule("creneau demo")
        console.print(
            f"Simulated préfecture at {simulator.url} (try it in a browser). "
            f"Slots appear at booking 1001 after ~8 s and ~30 s.\n"
            f"The daemon checks every 4 s here; on a real site the floor is 60 s.\n"
            f"The simulated RDV Préfecture announces a publication at "
            f"{publication.at:%H:%M} (Paris); its slots show up to "
            f"{VISIBILITY_DELAY.seconds} s after it (60 s on the real site).\n"
            f"Dashboard: http://{config.web.listen}/ (open it while the demo runs)."
        )
        store = Store(database)
        daemon = Daemon(config, store, on_recorded=person.notice)
        person.meet(daemon, rdv)
        ending = (publication.at - SESSIONS_END - datetime.now(UTC)).total_seconds()
        asyncio.run(_run_for(daemon, config, seconds, person, ending))
        console.rule("history")
        print_releases(releases(store), config.creneau.zone)
        print_summaries(store, config.creneau.zone)
        store.close()
        return _said(console, phone, person)


def _said(console: Console, phone: Phone, person: SimulatedPerson) -> int:
    if not phone.messages:
        console.print("[red]No alert reached the phone: something is wrong.[/red]")
        return 1
    if person.caught is None:
        console.print("[red]The announced release was not caught: something is wrong.[/red]")
        return 1
    console.print(
        f"\n{len(phone.messages)} alert(s) reached the simulated phone; the announced "
        f"release was seen {person.caught:.0f} s after its slots showed. "
        "creneau never books: a person does, by hand."
    )
    return 0


class SimulatedPerson:
    """Plays the person using creneau: when an alert asks for the CAPTCHA, they read the
    image and type its code (the simulator knows it; creneau never solves a CAPTCHA)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.wanted = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.daemon: Daemon | None = None
        self.site: RdvPrefecture | None = None
        self.caught: float | None = None  # seconds from the slots showing to their alert

    def meet(self, daemon: Daemon, site: RdvPrefecture) -> None:
        self.daemon, self.site = daemon, site

    def sessions_end(self) -> None:
        if self.site is not None:
            self.console.print("🔌 The simulated site ends its sessions (a restart, say)")
            self.site.end_sessions()

    def read(self, message: Received) -> None:
        """On the phone's thread: an alert asking for the CAPTCHA."""
        if "CAPTCHA" in message.body and self.loop is not None:
            self.loop.call_soon_threadsafe(self.wanted.set)

    def notice(self, recorded: Recorded) -> None:
        site = self.site
        if recorded.appeared and recorded.result.target == ANNOUNCING_TARGET and site:
            shown = [p.visible_at for p in site.publications if p.shown]
            if shown and self.caught is None:
                self.caught = (recorded.result.checked_at - shown[-1]).total_seconds()

    async def act(self, stop: asyncio.Event) -> None:
        self.loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await asyncio.wait_for(self.wanted.wait(), timeout=0.5)
            except TimeoutError:
                continue
            self.wanted.clear()
            await self._solve()

    async def _solve(self) -> None:
        daemon, site = self.daemon, self.site
        assert daemon is not None
        assert site is not None
        target = next(t for t in daemon.config.targets if t.name == ANNOUNCING_TARGET)
        source = sources.captcha_handler(target.system)
        assert source is not None

        async def code() -> str:
            self.console.print(f"👤 A person reads the image and types {site.last_captcha_code}")
            return site.last_captcha_code or ""

        async def shown(image: bytes) -> None:
            return None

        dialog = CaptchaDialog(shown, code, lambda: None, lambda finished: None)
        await solve_captcha(daemon.runtime, target, source, dialog)


async def _run_for(
    daemon: Daemon, config: Config, seconds: int, person: SimulatedPerson, ending: float
) -> None:
    """The daemon, its dashboard and the person, for `seconds` and until the announced
    release is caught (at most LONGEST); the site ends its sessions `ending` seconds in."""
    from creneau.web.server import make_context, serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    loop.call_later(ending, person.sessions_end)

    async def watch() -> None:
        while not stop.is_set():
            elapsed = loop.time() - started
            if elapsed >= LONGEST.total_seconds() or (
                elapsed >= seconds and person.caught is not None
            ):
                stop.set()
            await asyncio.sleep(0.5)

    await asyncio.gather(
        daemon.run(stop), serve(make_context(config, live=daemon), stop), person.act(stop), watch()
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
