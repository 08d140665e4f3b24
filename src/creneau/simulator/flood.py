"""Pages that show far more slots than any booking site does (issue 24: 100,000 slot elements
in 1.3 MB, under the 2 MiB body cap), one per booking system, for the tests and the `bigpage`
benchmark. Each holds as many slots as its system's shortest slot markup fits in `size`
bytes, every slot at its own time. `FloodSite` serves one such page on the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.simulator.wire import Request, Response

PARIS = ZoneInfo("Europe/Paris")
BODY_CAP = 2 * 1024 * 1024  # the polite client's default max_body_bytes
FIRST = datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)
HTML_SLOTS = 100_000
# The html target that reads `html_page`: each <b> is a slot ("7/12 8h05").
HTML_TARGET = {"slot_selector": "p#plages > b", "none_text": ["Aucune plage libre"]}


def minute(index: int) -> datetime:
    """The start of slot `index`: a distinct minute for each, from FIRST on."""
    return FIRST + timedelta(minutes=index)


def _fit(head: str, tail: str, item: Callable[[int], str], count: int, size: int) -> str:
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


def html_page(count: int = HTML_SLOTS, size: int = BODY_CAP) -> str:
    def item(index: int) -> str:
        at = minute(index)
        return f"<b>{at.day}/{at.month} {at.hour}h{at.minute:02d}</b>"

    head = (
        "<!DOCTYPE html><html lang=fr><head><meta charset=utf-8><title>Plages</title></head>"
        "<body><h1>Plages libres</h1><p id=plages>"
    )
    return _fit(head, "</p></body></html>", item, count, size)


def ezbooking_grid(count: int = HTML_SLOTS, size: int = BODY_CAP) -> str:
    """A week grid (ezjscore's bare HTML answer) whose links all lead to step 5."""

    def item(index: int) -> str:
        return f"<a href=/booking/create/1/5/{int(minute(index).timestamp())}>libre</a>"

    head = '<table><tr><th colspan="7">Semaine du lundi 7 décembre 2026</th></tr><tr><td>'
    return _fit(head, "</td></tr></table>", item, count, size)


def rdvpref_page(count: int = HTML_SLOTS, size: int = BODY_CAP) -> str:
    """The creneau/ page's state (script#vui-init-data) listing `count` TrancheHoraire."""

    def item(index: int) -> str:
        at = minute(index)
        slot = {
            "trhId": index,
            "dateLocale": f"{at:%d/%m/%Y}",
            "minutesDebut": at.hour * 60 + at.minute,
        }
        return ("," if index else "") + json.dumps(slot, separators=(",", ":"))

    head = (
        "<!DOCTYPE html><html lang=fr><head><meta charset=utf-8></head><body><h1>Démarche</h1>"
        '<script type="application/json" id="vui-init-data">{"vueData":{"critere":'
        '{"premierJour":"07/12/2026","dateMin":"07/12/2026","datePremiereDispo":"07/12/2026"},'
        '"tranchesHoraires":['
    )
    return _fit(head, "]}}</script></body></html>", item, count, size)


def rdvsp_page(count: int = HTML_SLOTS, size: int = BODY_CAP) -> str:
    """A week of slots whose links all carry a start (`_creneaux`)."""

    def item(index: int) -> str:
        return f"<a href=/prendre_rdv?lieu_id=1&starts_at={minute(index):%Y-%m-%d+%H:%M}>x</a>"

    head = (
        '<!DOCTYPE html><html lang=fr><body><h2 class="card-title">Mairie</h2>'
        '<div id="creneaux-lieu-1">'
    )
    return _fit(head, "</div></body></html>", item, count, size)


def ants_answer(count: int = HTML_SLOTS, size: int = BODY_CAP) -> str:
    """One meeting point of the hub's answer with `count` available slots."""

    def item(index: int) -> str:
        slot = {"datetime": f"{minute(index):%Y-%m-%dT%H:%M}Z", "callback_url": ""}
        return ("," if index else "") + json.dumps(slot, separators=(",", ":"))

    head = '[{"id":"1","name":"Mairie","available_slots":['
    return _fit(head, "]}]", item, count, size)


PAGES: dict[str, Callable[[], str]] = {
    "html": html_page,
    "ezbooking": ezbooking_grid,
    "rdvpref": rdvpref_page,
    "rdvsp": rdvsp_page,
    "ants": ants_answer,
}


@dataclass
class FloodSite:
    """Serves one flooded html page at `path` (a Site for `SimulatorServer(sites=[…])`)."""

    body: str
    path: str = "/plages"

    def handles(self, path: str) -> bool:
        return path == self.path

    def handle(self, request: Request) -> Response:
        return Response(200, self.body.encode())
