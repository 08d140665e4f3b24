"""A simulated generic booking page, as the `html` system meets one: a préfecture table of
"rendez-vous disponibles", a consulate list of créneaux per service, or a bare list of free
"plages" that a target reads with nothing but a slot_selector. Slots are released and taken by
the test; the page can switch to a changed layout, a refusal, an overload, a maintenance page or
a CAPTCHA, or keep its slots under a maintenance or "trop de demandes" banner. Following a
slot's link (booking) is a violation: creneau never books. No sockets here: `server.py` puts
the site on 127.0.0.1."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from typing import Literal
from zoneinfo import ZoneInfo

from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS
from creneau.simulator import Simulated, flood
from creneau.simulator.wire import Request, Response

PARIS = ZoneInfo("Europe/Paris")
Layout = Literal["prefecture", "consulate", "plages"]
BEHAVIOURS = (
    "normal",
    "changed",
    "forbidden",
    "rate-limited",
    "unavailable",
    "overloaded",
    "maintenance",
    "captcha",
    "maintenance-notice",  # the slots, under a banner announcing an "opération de maintenance"
    "busy-notice",  # the slots, under a banner about "trop de demandes"
)
SLOT_TIMES = ((9, 0), (9, 30), (10, 15), (14, 0), (15, 45))
SLOT_LENGTH = timedelta(minutes=15)
FIRST_SLOT_NUMBER = 7001


@dataclass(frozen=True)
class Guichet:
    id: str  # the id creneau derives from the label: folded, dashes for the rest
    label: str


@dataclass(frozen=True, order=True)
class SimulatedSlot:
    start: datetime
    guichet_id: str
    number: int  # in the slot's booking link


PREFECTURE_GUICHETS = (
    Guichet("guichet-1-remise-de-titre", "Guichet 1 – Remise de titre"),
    Guichet("guichet-3-etudiants", "Guichet 3 – Étudiants"),
)
CONSULATE_GUICHETS = (
    Guichet("passeports-et-cartes-d-identite", "Passeports et cartes d’identité"),
    Guichet("visas", "Visas"),
)
# One list, no guichet named on the page: a target without guichet_selector calls it "page".
PLAGES_GUICHETS = (Guichet("page", "Accueil des étrangers"),)
GUICHETS: dict[str, tuple[Guichet, ...]] = {
    "prefecture": PREFECTURE_GUICHETS,
    "consulate": CONSULATE_GUICHETS,
    "plages": PLAGES_GUICHETS,
}


@dataclass
class HtmlBookingSite:
    """One booking page at `path`; its booking links live under `path` too."""

    layout: Layout = "prefecture"
    path: str = "/rendez-vous"
    guichets: tuple[Guichet, ...] = ()
    zone: ZoneInfo = PARIS
    today: date | None = None  # default: the zone's today, at each release
    behaviour: str = "normal"
    free: list[SimulatedSlot] = field(default_factory=list, init=False)
    violations: list[str] = field(default_factory=list, init=False)  # creneau must never ask
    _next_number: int = field(default=FIRST_SLOT_NUMBER, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.guichets:
            self.guichets = GUICHETS[self.layout]

    # --- driving it ----------------------------------------------------------------------------

    def release(self, guichet_id: str, count: int) -> list[SimulatedSlot]:
        """Open the next `count` working-day slots at a guichet, from tomorrow on."""
        with self._lock:
            self._guichet(guichet_id)
            taken = {slot.start for slot in self.free if slot.guichet_id == guichet_id}
            starts = [start for start in self._upcoming_starts() if start not in taken][:count]
            released = []
            for start in starts:
                released.append(SimulatedSlot(start, guichet_id, self._next_number))
                self._next_number += 1
            self.free.extend(released)
            return released

    def take(self, guichet_id: str, count: int = 0) -> None:
        """Somebody booked the earliest `count` slots at a guichet (0: all of them)."""
        with self._lock:
            mine = sorted(slot for slot in self.free if slot.guichet_id == guichet_id)
            gone = set(mine[: count or len(mine)])
            self.free = [slot for slot in self.free if slot not in gone]

    def set_behaviour(self, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r} (known: {', '.join(BEHAVIOURS)})")
        with self._lock:
            self.behaviour = behaviour

    def _guichet(self, guichet_id: str) -> Guichet:
        found = next((g for g in self.guichets if g.id == guichet_id), None)
        if found is None:
            raise KeyError(f"no guichet {guichet_id!r} at {self.path}")
        return found

    def _upcoming_starts(self) -> list[datetime]:
        today = self.today or datetime.now(self.zone).date()
        starts: list[datetime] = []
        for offset in range(1, 22):
            day = today + timedelta(days=offset)
            if day.weekday() < 5:
                starts.extend(
                    datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                    for hour, minute in SLOT_TIMES
                )
        return starts

    # --- serving -------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path == self.path or path.startswith(f"{self.path}/")

    def handle(self, request: Request) -> Response:
        with self._lock:
            if request.path != self.path:
                self.violations.append(f"{request.method} {request.path}")
                return Response(403, _apache_error(403, "Forbidden"))
            return self._page()

    def _page(self) -> Response:
        match self.behaviour:
            case "forbidden":
                return Response(403, _apache_error(403, "Forbidden"))
            case "rate-limited":
                return Response(
                    429, _apache_error(429, "Too Many Requests"), headers={"Retry-After": "120"}
                )
            case "unavailable":
                return Response(503, _apache_error(503, "Service Unavailable"))
            case "overloaded":
                return Response(200, _frame("Service surchargé", OVERLOADED))
            case "maintenance":
                return Response(503, _frame("Maintenance", MAINTENANCE))
            case "captcha":
                return Response(200, _frame("Vérification", CAPTCHA))
            case "changed":
                return Response(200, _frame("Prendre rendez-vous", self._tiles()))
        slots = sorted(self.free)
        layouts = {"prefecture": self._table, "consulate": self._lists, "plages": self._plages}
        body = layouts[self.layout](slots)
        notices = {"maintenance-notice": MAINTENANCE_NOTICE, "busy-notice": BUSY_NOTICE}
        body = notices.get(self.behaviour, "") + body
        return Response(200, _frame("Rendez-vous disponibles", body))

    # --- the layouts ---------------------------------------------------------------------------

    def _table(self, slots: list[SimulatedSlot]) -> str:
        rows = "\n".join(
            f'<tr><td class="guichet">{escape(self._guichet(slot.guichet_id).label)}</td>'
            f'<td class="horaire">{french_long(slot.start)}</td>'
            f'<td><a href="{self.path}/choisir?creneau={slot.number}">Choisir ce créneau</a>'
            "</td></tr>"
            for slot in slots
        )
        if not slots:
            rows = (
                '<tr><td colspan="3" class="vide">Aucun rendez-vous n’est disponible pour le '
                "moment.</td></tr>"
            )
        return (
            '<table class="rdv-disponibles"><thead><tr><th>Guichet</th><th>Date et heure</th>'
            f"<th>Réserver</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table>"
        )

    def _lists(self, slots: list[SimulatedSlot]) -> str:
        sections = []
        for guichet in self.guichets:
            mine = [slot for slot in slots if slot.guichet_id == guichet.id]
            items = "\n".join(
                f"<li>Le {slot.start:%d/%m/%Y} de {slot.start:%H:%M} à "
                f"{slot.start + SLOT_LENGTH:%H:%M} "
                f'<a href="{self.path}/reserver/{slot.number}">Réserver</a></li>'
                for slot in mine
            )
            listing = (
                f'<ul class="creneaux">\n{items}\n</ul>'
                if mine
                else '<p class="vide">Aucun créneau disponible pour ce service.</p>'
            )
            sections.append(f'<h2 class="service">{escape(guichet.label)}</h2>\n{listing}')
        return '<div class="services">\n' + "\n".join(sections) + "\n</div>"

    def _plages(self, slots: list[SimulatedSlot]) -> str:
        """The free slots as links in a list, each naming its day and time in words: the
        form of the example in issue 13 (point 11)."""
        items = "\n".join(
            f'<li class="plage libre"><a href="{self.path}/reserver/{slot.number}">'
            f"{french_human(slot.start)}</a></li>"
            for slot in slots
        )
        if not slots:
            return '<p class="plages-vides">Aucune plage horaire libre pour le moment.</p>'
        return f'<ul class="plages">\n{items}\n</ul>'

    def _tiles(self) -> str:
        """The redesign: tiles instead of rows, and no sentence when there is no slot."""
        tiles = "\n".join(
            f'<div class="fr-tile creneau-tuile"><a href="{self.path}/v2/{slot.number}">'
            f"{slot.start:%d.%m} — {slot.start:%H:%M}</a></div>"
            for slot in sorted(self.free)
        )
        return f'<p>Choisissez un créneau.</p>\n<div id="app-creneaux">{tiles}</div>'


def french_long(start: datetime) -> str:
    """'mardi 1er décembre 2026 à 9h30', as préfecture pages write it."""
    day = "1er" if start.day == 1 else str(start.day)
    minutes = f"{start.minute:02d}" if start.minute else ""
    return (
        f"{FRENCH_DAYS[start.weekday()]} {day} {FRENCH_MONTHS[start.month - 1]} {start.year} "
        f"à {start.hour}h{minutes}"
    )


def french_human(start: datetime) -> str:
    """'mardi 8 décembre 2026 à 09h30': the day in words, the time as rdv-service-public's
    "%Hh%M" (config/locales/fr.yml, time.formats.human), the day without a leading zero."""
    return (
        f"{FRENCH_DAYS[start.weekday()]} {start.day} {FRENCH_MONTHS[start.month - 1]} "
        f"{start.year} à {start:%H}h{start:%M}"
    )


OVERLOADED = (
    "<p><strong>Service surchargé</strong></p>"
    "<p>Trop de connexions simultanées : veuillez réessayer ultérieurement.</p>"
)
MAINTENANCE = "<p>Le site est actuellement en maintenance. Merci de revenir plus tard.</p>"
MAINTENANCE_NOTICE = (
    '<div class="fr-notice"><p>Une opération de maintenance est prévue ce soir de 20h à 22h : '
    "la prise de rendez-vous sera alors indisponible.</p></div>\n"
)
BUSY_NOTICE = (
    '<div class="fr-notice"><p>En raison de trop de demandes, les pages peuvent mettre du '
    "temps à s’afficher.</p></div>\n"
)
CAPTCHA = (
    '<form method="post" action="/verification"><p>Saisissez les caractères de l’image.</p>'
    '<img src="/verification.png" alt="image"><input name="code"></form>'
)


def _frame(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{escape(title)} - Site simulé</title></head>
<body><main>
<p class="bandeau">Page simulée par creneau — aucun vrai rendez-vous ici</p>
<h1>{escape(title)}</h1>
{body}
</main></body></html>
"""


def _apache_error(code: int, reason: str) -> str:
    return (
        f'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
        f"<title>{code} {reason}</title>\n</head><body>\n<h1>{reason}</h1>\n<hr>\n"
        "<address>Apache Server</address>\n</body></html>\n"
    )


def _with_slots() -> HtmlBookingSite:
    site = HtmlBookingSite()
    site.release(site.guichets[0].id, 2)
    return site


SIMULATED = Simulated(
    'a generic page (system = "html"; selectors in fixtures/html/):',
    _with_slots,
    lambda site, root: [f"  {root}{site.path}"],
)


# --- a page far bigger than any the site shows (issue 24): creneau.simulator.flood ------


# The target that reads `flood_page`: each <b> is a slot ("7/12 8h05").
FLOOD_TARGET = {"slot_selector": "p#plages > b", "none_text": ["Aucune plage libre"]}


def flood_page(count: int = flood.SLOTS, size: int = flood.BODY_CAP) -> str:
    """A page of `count` slots (as many as fit in `size`), each a <b> FLOOD_TARGET reads."""

    def item(index: int) -> str:
        at = flood.minute(index)
        return f"<b>{at.day}/{at.month} {at.hour}h{at.minute:02d}</b>"

    head = (
        "<!DOCTYPE html><html lang=fr><head><meta charset=utf-8><title>Plages</title></head>"
        "<body><h1>Plages libres</h1><p id=plages>"
    )
    return flood.fit(head, "</p></body></html>", item, count, size)
