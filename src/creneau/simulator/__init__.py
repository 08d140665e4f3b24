"""Simulated booking sites on 127.0.0.1 — nothing here is a real booking. This package holds
the machinery every simulated site shares (the server, requests and responses, error pages,
the flood pages); each booking system's own site is `creneau.sources.<system>.simulator`,
whose `SIMULATED` says what `creneau simulate` serves and the addresses it prints."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from creneau.simulator.wire import Site

SiteT = TypeVar("SiteT", bound="Site")


@dataclass(frozen=True)
class Simulated(Generic[SiteT]):
    """One system as `creneau simulate` serves it: a site with slots to show, the heading
    of its addresses, and the addresses to point creneau at (given the server's root URL)."""

    heading: str
    make: Callable[[], SiteT]
    addresses: Callable[[SiteT, str], list[str]]


def simulated(system: str) -> Simulated[Site]:
    """The simulated site of a booking system (`creneau.sources.<system>.simulator`)."""
    module = importlib.import_module(f"creneau.sources.{system}.simulator")
    found: Simulated[Site] = module.SIMULATED
    return found


def flood_page(system: str) -> Callable[..., str]:
    """The system's page of far more slots than a site shows (`flood_page(count, size)` of
    `creneau.sources.<system>.simulator`)."""
    module = importlib.import_module(f"creneau.sources.{system}.simulator")
    page: Callable[..., str] = module.flood_page
    return page
