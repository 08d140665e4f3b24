"""Simulated booking sites on 127.0.0.1 — nothing here is a real booking — one module per
booking system, registered here as the sources are in `creneau.sources`: each module's
`SIMULATED` says what `creneau simulate` serves and the addresses it prints. A new system's
simulator is one module and one line in SIMULATOR_MODULES."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from creneau.simulator.wire import Site

SiteT = TypeVar("SiteT", bound="Site")

# system → the simulator module that plays it (ezbooking's is the historic "prefecture").
SIMULATOR_MODULES = {
    "ezbooking": "prefecture",
    "rdvpref": "rdvpref",
    "rdvsp": "rdvsp",
    "ants": "ants",
    "html": "html",
}


@dataclass(frozen=True)
class Simulated(Generic[SiteT]):
    """One system as `creneau simulate` serves it: a site with slots to show, the heading
    of its addresses, and the addresses to point creneau at (given the server's root URL)."""

    heading: str
    make: Callable[[], SiteT]
    addresses: Callable[[SiteT, str], list[str]]


def simulated(system: str) -> Simulated[Site]:
    module = importlib.import_module(f"creneau.simulator.{SIMULATOR_MODULES[system]}")
    found: Simulated[Site] = module.SIMULATED
    return found
