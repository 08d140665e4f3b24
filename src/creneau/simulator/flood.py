"""Pages that show far more slots than any booking site does (issue 24: 100,000 slot elements
in 1.3 MB, under the 2 MiB body cap), for the tests and the `bigpage` benchmark: each
system's simulator has its `flood_page(count, size)`, made here with `fit` (as many slots as
its shortest slot markup fits in `size` bytes, every slot at its own `minute`).
`FloodSite` serves one such page on the simulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.simulator.wire import Request, Response

PARIS = ZoneInfo("Europe/Paris")
BODY_CAP = 2 * 1024 * 1024  # the polite client's default max_body_bytes
FIRST = datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)
SLOTS = 100_000  # the page: 100,000 slot elements


def minute(index: int) -> datetime:
    """The start of slot `index`: a distinct minute for each, from FIRST on."""
    return FIRST + timedelta(minutes=index)


def fit(head: str, tail: str, item: Callable[[int], str], count: int, size: int) -> str:
    """head, up to `count` items, tail: as many items as fit in `size` bytes."""
    room = size - len(head.encode()) - len(tail.encode())
    items: list[str] = []
    for index in range(count):
        text = item(index)
        room -= len(text.encode())
        if room < 0:
            break
        items.append(text)
    return head + "".join(items) + tail


@dataclass
class FloodSite:
    """Serves one flooded html page at `path` (a Site for `SimulatorServer(sites=[…])`)."""

    body: str
    path: str = "/plages"

    def handles(self, path: str) -> bool:
        return path == self.path

    def handle(self, request: Request) -> Response:
        return Response(200, self.body.encode())
