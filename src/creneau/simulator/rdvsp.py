"""A simulated RDV Service Public search (`/prendre_rdv`): places (lieux) whose slots are
released and taken by the tests, the app's steps (motif choice, place list with next
availabilities, a week of slots per place, the no-slot sentence), failure behaviours, and a
log of every request. Requests to the booking wizard, where a slot's link leads, are recorded
as violations: a monitor must never make them. No sockets here: `server.py` serves it.

The markup follows the structure of the real pages (see fixtures/rdvsp), generated and
simpler."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from urllib.parse import urlencode

from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS
from creneau.simulator.pages import PARIS, nginx_error
from creneau.simulator.wire import Request, Response

BEHAVIOURS = ("normal", "forbidden", "rate-limited", "overloaded", "maintenance", "changed")
SEARCH_PATH = "/prendre_rdv"
BOOKING_PATHS = ("/users/rdv_wizard_step", "/prescripteur", "/prendre_rdv_prescripteur")
MOTIF = "Demande de passeport-public_office"
MOTIF_NAME = "Demande de passeport"
SLOT_TIMES = ("09:00", "09:20", "09:40", "10:00", "10:20", "10:40", "14:00", "14:20", "14:40")
NO_SLOT_SENTENCE = (
    "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé. "
    "Veuillez réessayer ultérieurement."
)


@dataclass
class Lieu:
    id: str
    name: str
    address: str
    free: set[datetime] = field(default_factory=set)
    behaviour: str = "normal"  # of this place's week pages only


@dataclass(frozen=True)
class LoggedRequest:
    at: float
    method: str
    path: str
    query: str
    status: int


def default_lieux() -> list[Lieu]:
    return [
        Lieu("412", "Mairie d'Issy-les-Moulineaux", "62 Rue du Général Leclerc, 92130 Issy"),
        Lieu("413", "Mairie de Vanves", "23 Rue Mary Besseyre, 92170 Vanves"),
        Lieu("415", "Mairie de Malakoff", "1 Place du 11 Novembre 1918, 92240 Malakoff"),
    ]


class RdvspSite:
    def __init__(
        self,
        lieux: list[Lieu] | None = None,
        *,
        today: Callable[[], date] = lambda: datetime.now(PARIS).date(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lieux = {lieu.id: lieu for lieu in (lieux if lieux is not None else default_lieux())}
        self.today = today
        self.clock = clock
        self.behaviour = "normal"
        self.log: list[LoggedRequest] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def search_url(self, root: str, **params: str) -> str:
        """The URL a person copies once the motif is chosen (`lieu_id=` pins one place)."""
        query = {"departement": "92", "motif_name_with_location_type": MOTIF, **params}
        return f"{root}{SEARCH_PATH}?{urlencode(query)}"

    # --- driving it --------------------------------------------------------------------------

    def release(self, lieu_id: str, count: int, *, first_day: date | None = None) -> list[datetime]:
        """Frees the `count` earliest free-able working-day slots from `first_day` (default:
        tomorrow) at a place; returns their starts."""
        with self._lock:
            lieu = self.lieux[lieu_id]
            day = first_day or self.today() + timedelta(days=1)
            released: list[datetime] = []
            while len(released) < count:
                if day.weekday() < 5:
                    for start in _day_slots(day):
                        if start not in lieu.free and len(released) < count:
                            released.append(start)
                day += timedelta(days=1)
            lieu.free.update(released)
            return released

    def take(self, lieu_id: str, count: int = 0) -> None:
        """Someone books the `count` earliest slots at a place (0 = all)."""
        with self._lock:
            lieu = self.lieux[lieu_id]
            for start in sorted(lieu.free)[: count or len(lieu.free)]:
                lieu.free.discard(start)

    def set_behaviour(self, behaviour: str, lieu_id: str | None = None) -> None:
        """The whole site misbehaves, or only the week pages of one place."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r} (known: {', '.join(BEHAVIOURS)})")
        with self._lock:
            if lieu_id is None:
                self.behaviour = behaviour
            else:
                self.lieux[lieu_id].behaviour = behaviour

    # --- serving -------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.rstrip("/") == SEARCH_PATH or path.startswith(BOOKING_PATHS)

    def handle(self, request: Request) -> Response:
        with self._lock:
            response = self._route(request)
            self.log.append(
                LoggedRequest(
                    self.clock(), request.method, request.path, request.query, response.status
                )
            )
            return response

    def _route(self, request: Request) -> Response:
        if request.path.startswith(BOOKING_PATHS):
            self.violations.append(f"{request.method} {request.path}?{request.query}")
            return Response(403, nginx_error(403, "Forbidden"))
        params = request.params
        lieu = self.lieux.get(params.get("lieu_id", ""))
        if failure := _failure(lieu.behaviour if lieu else self.behaviour):
            return failure
        if failure := _failure(self.behaviour):
            return failure
        motif = params.get("motif_name_with_location_type")
        if motif is None:
            return Response(200, motif_choice_page(params))
        if motif != MOTIF:
            return Response(200, no_slot_page())
        if "lieu_id" in params:
            if lieu is None:
                return Response(404, nginx_error(404, "Not Found"))
            return Response(200, self._week(lieu, params))
        return Response(200, self._places(params))

    def _places(self, params: dict[str, str]) -> str:
        listed = []
        for lieu in self.lieux.values():
            upcoming = [start for start in lieu.free if start.date() >= self.today()]
            if upcoming:
                listed.append((min(upcoming), lieu))
        if not listed:
            return no_slot_page()
        listed.sort(key=lambda pair: pair[0])
        return places_page(params, listed)

    def _week(self, lieu: Lieu, params: dict[str, str]) -> str:
        first = _day_of(params.get("date", "")) or self.today()
        last = first + timedelta(days=6)
        shown = sorted(start for start in lieu.free if first <= start.date() <= last)
        if shown:
            return week_page(lieu, params, first, shown, None)
        later = sorted(start for start in lieu.free if start.date() > last)
        if not later:
            return no_slot_page(lieu)
        return week_page(lieu, params, first, [], later[0])


def _failure(behaviour: str) -> Response | None:
    match behaviour:
        case "forbidden":
            return Response(403, nginx_error(403, "Forbidden"))
        case "rate-limited":
            return Response(
                429, nginx_error(429, "Too Many Requests"), headers={"Retry-After": "120"}
            )
        case "overloaded":
            return Response(502, nginx_error(502, "Bad Gateway"))
        case "maintenance":
            return Response(503, MAINTENANCE)
        case "changed":
            return Response(200, CHANGED)
    return None


def _day_slots(day: date) -> list[datetime]:
    return [
        datetime(day.year, day.month, day.day, int(hm[:2]), int(hm[3:]), tzinfo=PARIS)
        for hm in SLOT_TIMES
    ]


def _day_of(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# --- markup --------------------------------------------------------------------------------


def rails_time(start: datetime) -> str:
    """How the app writes a time in a link (TimeWithZone#to_s)."""
    return f"{start:%Y-%m-%d %H:%M:%S %z}"


def human_time(start: datetime) -> str:
    """l(starts_at, format: :human): 'mardi 01 décembre 2026 à 09h00'."""
    day = FRENCH_DAYS[start.weekday()]
    return f"{day} {start:%d} {FRENCH_MONTHS[start.month - 1]} {start:%Y} à {start:%Hh%M}"


def link(path: str, params: dict[str, str], **more: str) -> str:
    """A link as Rails' to_query writes it (sorted, CGI-escaped), HTML-escaped."""
    merged = {**params, **more}
    return escape(f"{path}?{urlencode(sorted(merged.items()))}")


def slot_link(params: dict[str, str], start: datetime) -> str:
    """Where booking starts: shown, never to be requested by a monitor."""
    return link(BOOKING_PATHS[0] + "/new", params, motif_id="2301", starts_at=rails_time(start))


def layout(body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>RDV Service Public</title></head>
<body>
<header role="banner" class="fr-header"><p class="fr-logo">République<br>Française</p>
<p>RDV Service Public simulé par creneau — aucun vrai rendez-vous ici</p></header>
<main id="content" role="main">
<section class="bg-light py-4">
{body}
</section>
</main>
</body></html>
"""


def places_page(params: dict[str, str], listed: list[tuple[datetime, Lieu]]) -> str:
    cards = "".join(
        f"""<div class="card mb-3 card-hoverable"><div class="card-body"><div class="row">
<div class="col-md"><h4 class="card-title mb-0 mt-0">{escape(lieu.name)}</h4>
<div class="card-subtitle">{escape(lieu.address)}</div></div>
<div class="col-md align-self-center"><a class="d-block stretched-link"
 href="{link(SEARCH_PATH, params, lieu_id=lieu.id, date=rails_time(start))}">
Prochaine disponibilité le<br><strong>{human_time(start)}</strong></a></div>
</div></div></div>
"""
        for start, lieu in listed
    )
    count = "1 lieu est disponible" if len(listed) == 1 else f"{len(listed)} lieux sont disponibles"
    return layout(
        f"""<div class="fr-container">
<h3 class="rdv-font-weight-700">Sélectionnez un lieu de RDV :</h3>
<p>{count}</p>
{cards}</div>"""
    )


def week_page(
    lieu: Lieu, params: dict[str, str], first: date, shown: list[datetime], later: datetime | None
) -> str:
    columns = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        starts = [start for start in shown if start.date() == day]
        buttons = "".join(
            f'<a class="fr-btn fr-btn--tertiary" data-turbolinks="false" '
            f'href="{slot_link(params, start)}">{start:%H:%M}</a>\n'
            for start in starts
        )
        cell = buttons or '<p class="fr-text--sm">Pas de créneau disponible</p>\n'
        columns.append(
            f'<div class="fr-col"><p><strong>{FRENCH_DAYS[day.weekday()]}</strong><br>'
            f"{day:%d/%m}</p>\n{cell}</div>\n"
        )
    overlay = ""
    if later is not None:
        href = link(SEARCH_PATH, params, autofocus="first", date=rails_time(later))
        overlay = (
            f'<div class="bg-overlay"><a class="fr-btn fr-btn--secondary" href="{href}">'
            f"Prochaine disponibilité le<br><strong>{human_time(later)}</strong></a></div>\n"
        )
    next_week = link(SEARCH_PATH, params, date=(first + timedelta(days=7)).isoformat())
    return layout(
        f"""<div class="container">
<div class="card card-hoverable"><div class="card-body">
<h2 class="pb-1 mb-1 card-title">{escape(lieu.name)}</h2>
<div class="card-subtitle">{escape(lieu.address)}</div></div></div>
<h3 class="font-weight-bold">Sélectionnez un créneau :</h3>
<div class="card mb-3"><div class="card-body">
<div id="creneaux-lieu-{lieu.id}"><div class="row"><div class="col"><div class="row">
{"".join(columns)}{overlay}</div></div>
<div class="col-auto"><a class="fr-btn" href="{next_week}">sem. prochaine</a></div>
</div></div>
</div></div>
</div>"""
    )


def no_slot_page(lieu: Lieu | None = None) -> str:
    place = (
        f'<div class="card"><div class="card-body"><h2 class="card-title">{escape(lieu.name)}'
        "</h2></div></div>\n"
        if lieu
        else ""
    )
    return layout(
        f"""<div class="fr-container">
{place}<div class="card"><div class="card-body">
<div class="rdv-font-weight-700">{NO_SLOT_SENTENCE}</div>
</div></div>
</div>"""
    )


def motif_choice_page(params: dict[str, str]) -> str:
    href = link(SEARCH_PATH, params, motif_name_with_location_type=MOTIF)
    return layout(
        f"""<div class="fr-container">
<h2 class="rdv-font-weight-700">Sélectionnez le motif de votre RDV&nbsp;:</h2>
<div class="card mb-3"><a href="{href}"><div class="card-body">
<h3 class="card-title">{MOTIF_NAME}</h3><div class="card-subtitle">Sur place</div>
</div></a></div>
</div>"""
    )


MAINTENANCE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Service Indisponible - RDV Service Public</title></head>
<body><main role="main" id="content">
<h1 class="fr-h1">Service indisponible</h1>
<p class="fr-text--xl">RDV Service Public rencontre un problème, nous travaillons pour le résoudre
le plus rapidement possible.</p>
<p class="fr-text--sm">Merci de réessayer plus tard.</p>
</main></body></html>
"""

CHANGED = layout(
    """<div class="fr-container">
<h3 class="fr-h5">Choisissez votre horaire</h3>
<form action="/creneaux/reservation" method="post">
<button type="submit" class="fr-btn" name="creneau" value="2301/2026-12-01T09:00">09:00</button>
</form>
</div>"""
)
