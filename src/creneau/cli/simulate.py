"""The simulator on the command line: `simulate` serves simulated sites of every booking
system on a loopback address; `demo` runs them with the real daemon and a simulated phone
for about a minute (creneau.cli.demo)."""

from __future__ import annotations

import contextlib
import sys

import click

from creneau.cli.context import out


@click.command()
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


@click.command()
@click.option("--seconds", default=50, show_default=True, help="How long the demo runs.")
def demo(seconds: int) -> None:
    """Simulator + daemon + a simulated phone, for about a minute, then a history summary."""
    from creneau.cli.demo import run_demo

    sys.exit(run_demo(seconds, out))
