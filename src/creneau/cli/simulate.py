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
    from creneau.simulator import simulated
    from creneau.simulator.server import SimulatorServer
    from creneau.simulator.wire import ControlledSite
    from creneau.sources import SYSTEMS

    systems = {system: simulated(system) for system in SYSTEMS}
    sites = {system: each.make() for system, each in systems.items()}
    # The site the simulator's own controls drive (/_sim/release…), served first.
    controlled = next((s for s in sites.values() if isinstance(s, ControlledSite)), None)
    others = [site for site in sites.values() if site is not controlled]
    try:
        server = SimulatorServer(controlled, host, port, sites=others)
    except (ValueError, OSError) as failure:
        raise click.UsageError(str(failure)) from None
    out.print(f"Simulated sites on {server.url} (nothing here is a real booking):", markup=False)
    for system, each in systems.items():
        out.print(each.heading, markup=False)
        for line in each.addresses(sites[system], server.url):
            out.print(line, markup=False)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


@click.command()
@click.option("--seconds", default=50, show_default=True, help="How long the demo runs.")
def demo(seconds: int) -> None:
    """Simulator + daemon + a simulated phone, for about a minute, then a history summary."""
    from creneau.cli.demo import run_demo

    sys.exit(run_demo(seconds, out))
