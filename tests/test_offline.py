"""The guard that keeps the tests on this machine refuses outside hosts and lets loopback
through."""

from __future__ import annotations

import asyncio
import re
import socket

import httpx
import pytest

from creneau.simulator.server import SimulatorServer
from offline import OfflineError, is_loopback


@pytest.mark.parametrize(
    ("host", "inside"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        (None, True),
        ("pprdv.interieur.gouv.fr", False),
        ("203.0.113.7", False),
        ("pref.example", False),
        ("", False),
    ],
)
def test_only_loopback_counts_as_inside(host: str | None, inside: bool) -> None:
    assert is_loopback(host) is inside


def test_an_outside_host_is_refused_before_anything_leaves() -> None:
    with pytest.raises(OfflineError, match=re.escape("refused to look up pprdv.interieur.gouv.fr")):
        socket.getaddrinfo("pprdv.interieur.gouv.fr", 443)
    with socket.socket() as probe, pytest.raises(OfflineError, match=re.escape("203.0.113.7")):
        probe.connect(("203.0.113.7", 443))


def test_httpx_to_a_real_prefecture_fails_and_to_the_simulator_works(
    simulator: SimulatorServer,
) -> None:
    async def fetch(url: str) -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(url)).status_code

    with pytest.raises(httpx.ConnectError, match="refused to look up"):
        asyncio.run(fetch("https://pprdv.interieur.gouv.fr/booking/create/989"))
    assert asyncio.run(fetch(simulator.booking_url("1002"))) == 200
