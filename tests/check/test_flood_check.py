"""A whole check of a page of 100,000 slot elements (issue 24), served on 127.0.0.1: the
result holds the first MAX_SLOTS_PER_PAGE slots and says how many more the page showed (a
fact the alert repeats), and the page is parsed off the event loop, which meanwhile goes on
serving the daemon's other work."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SIMULATOR_BUDGET
from creneau.alerts.outbox import new_slots
from creneau.check.run import run_check
from creneau.fetch.client import PoliteClient
from creneau.results import Status
from creneau.simulator import flood
from creneau.simulator.server import SimulatorServer
from creneau.sources import html
from creneau.sources.html import simulator as html_site
from creneau.sources.reading import MAX_SLOTS_PER_PAGE

NOT_KEPT = flood.SLOTS - MAX_SLOTS_PER_PAGE


@pytest.fixture(scope="module")
def flooded() -> Iterator[SimulatorServer]:
    with SimulatorServer(sites=[flood.FloodSite(html_site.flood_page())]) as server:
        yield server


def target(server: SimulatorServer) -> html.Target:
    return html.Target.model_validate(
        {"name": "plages", "url": f"{server.url}/plages", "every": "5s", **html_site.FLOOD_TARGET}
    )


def client() -> PoliteClient:
    return PoliteClient("tests@example.org", lambda host: SIMULATOR_BUDGET)


async def test_a_check_keeps_the_first_slots_and_says_how_many_more(
    flooded: SimulatorServer,
) -> None:
    result = await run_check(target(flooded), client())
    assert (result.status, len(result.slots), result.slots_not_kept) == (
        Status.AVAILABLE,
        MAX_SLOTS_PER_PAGE,
        NOT_KEPT,
    )
    event = new_slots(result, result.slots).event
    assert (len(event["slots"]), event["not_kept"]) == (MAX_SLOTS_PER_PAGE, NOT_KEPT)


HANDSHAKE = "CRENEAU_TEST_HANDSHAKE"  # a folder: the parse and the event loop meet there
ANALYSE = html.analyse


def analyse_once_the_loop_ran(*args: Any) -> html.Analysis:
    """html.analyse, once the event loop answered: it writes "parsing", waits for "go"."""
    folder = Path(os.environ[HANDSHAKE])
    (folder / "parsing").touch()
    waited = 0.0
    while not (folder / "go").exists():
        if waited > 20:
            raise RuntimeError("the event loop did not run while the page was parsed")
        time.sleep(0.01)
        waited += 0.01
    return ANALYSE(*args)


async def test_the_page_is_parsed_while_the_event_loop_goes_on(
    flooded: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The parse waits for the event loop to answer: on the loop it would wait in vain (the
    check then fails with an internal error); parsed apart, the loop answers meanwhile."""
    monkeypatch.setenv(HANDSHAKE, str(tmp_path))
    monkeypatch.setattr(html, "analyse", analyse_once_the_loop_ran)
    checking = asyncio.ensure_future(run_check(target(flooded), client()))
    while not checking.done():  # the event loop's other work
        if (tmp_path / "parsing").exists():
            (tmp_path / "go").touch()
        await asyncio.sleep(0.01)
    result = checking.result()
    assert (result.status, len(result.slots)) == (Status.AVAILABLE, MAX_SLOTS_PER_PAGE)
    assert (tmp_path / "go").exists()
