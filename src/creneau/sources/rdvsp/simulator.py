"""A simulated RDV Service Public search (`/prendre_rdv`): places (lieux) and, for motifs
without a place, organisations, whose slots are released and taken by the tests; the app's
steps (`CurrentStepPicker`: motif choice, number of ANTS pre-applications for passport
motifs, place or organisation list with next availabilities, a week of slots, the no-slot
sentence); the home-page redirect of a search without an organisation's public link;
failure behaviours; and a log of every request. Requests to the booking wizard, where a
slot's link leads, are recorded as violations: a monitor must never make them. No sockets
here: `server.py` or `transport.py` serves it.

The markup follows the app's templates as fixtures/rdvsp/SOURCES.md lists them, generated and
simpler (no layout, no scripts)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from urllib.parse import urlencode

from creneau.dates import FRENCH_DAYS, FRENCH_MONTHS
from creneau.simulator import Simulated, flood
from creneau.simulator.pages import PARIS, nginx_error
from creneau.simulator.wire import Request, Response

BEHAVIOURS = ("normal", "forbidden", "rate-limited", "overloaded", "maintenance", "changed")
SEARCH_PATH = "/prendre_rdv"
BOOKING_PATHS = ("/users/rdv_wizard_step", "/prescripteur", "/prendre_rdv_prescripteur")
PUBLIC_LINK = "public_link_organisation_id"
PUBLIC_LINK_ORGANISATION = "31"  # the mairie whose public link (/org/…) the search came from
MOTIF = "Demande de passeport-public_office"  # a motif of the ANTS passport category
MOTIF_NAME = "Demande de passeport"
PHONE_MOTIF = "Information titres d'identité-phone"  # a motif without a place
PHONE_MOTIF_NAME = "Information titres d'identité"
SERVICE_ID = "7"
ANTS_COUNT = "ants_pre_demandes_count"
ANTS_COUNT_RANGE = range(1, 7)  # AntsPreDemandesCountValidator: 1 to 6
ANTS_COUNT_REFUSED = "Veuillez choisir un nombre de pré-demandes entre 1 et 6"
SLOT_TIMES = ("09:00", "09:20", "09:40", "10:00", "10:20", "10:40", "14:00", "14:20", "14:40")
NO_SLOT_SENTENCE = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
# Parameters a page does not carry over into its own links.
NOT_CARRIED = ("date", "autofocus")


@dataclass
class Lieu:
    """A place, or (for a motif without a place) an organisation."""

    id: str
    name: str
    address: str
    free: set[datetime] = field(default_factory=set)
    behaviour: str = "normal"  # of this place's week pages only

    @property
    def full_name(self) -> str:
        return f"{self.name} ({self.address})"


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


def default_organisations() -> list[Lieu]:
    return [
        Lieu("31", "Ville d'Issy-les-Moulineaux", "62 Rue du Général Leclerc, 92130 Issy"),
        Lieu("32", "Ville de Vanves", "23 Rue Mary Besseyre, 92170 Vanves"),
    ]


class RdvspSite:
    def __init__(
        self,
        lieux: list[Lieu] | None = None,
        *,
        organisations: list[Lieu] | None = None,
        today: Callable[[], date] = lambda: datetime.now(PARIS).date(),
        clock: Callable[[], float] = time.monotonic,
        requires_public_link: bool = True,
    ) -> None:
        self.lieux = {lieu.id: lieu for lieu in (lieux if lieux is not None else default_lieux())}
        chosen = organisations if organisations is not None else default_organisations()
        self.organisations = {organisation.id: organisation for organisation in chosen}
        self.today = today
        self.clock = clock
        # rdv.anct.gouv.fr sends a search without an organisation's public link home
        # (SearchController#search_allowed?); RDV Solidarités does not.
        self.requires_public_link = requires_public_link
        self.behaviour = "normal"
        self.log: list[LoggedRequest] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def search_url(self, root: str, **params: str | None) -> str:
        """The URL a person copies once the motif (and the pre-application count) is chosen,
        after opening the mairie's public link. `lieu_id=` pins one place; a None drops a
        parameter."""
        query: dict[str, str | None] = {
            PUBLIC_LINK: PUBLIC_LINK_ORGANISATION,
            "departement": "92",
            "motif_name_with_location_type": MOTIF,
            "service_id": SERVICE_ID,
            ANTS_COUNT: "1",
            **params,
        }
        kept = {key: value for key, value in query.items() if value is not None}
        return f"{root}{SEARCH_PATH}?{urlencode(kept)}"

    # --- driving it --------------------------------------------------------------------------

    def release(self, lieu_id: str, count: int, *, first_day: date | None = None) -> list[datetime]:
        """Frees the `count` earliest free-able working-day slots from `first_day` (default:
        tomorrow) at a place or organisation; returns their starts."""
        with self._lock:
            lieu = self._guichet(lieu_id)
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
            lieu = self._guichet(lieu_id)
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
                self._guichet(lieu_id).behaviour = behaviour

    def _guichet(self, ident: str) -> Lieu:
        return self.lieux.get(ident) or self.organisations[ident]

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
        place = self.lieux.get(params.get("lieu_id", ""))
        organisation = self.organisations.get(params.get("user_selected_organisation_id", ""))
        chosen = place or organisation
        if failure := _failure(chosen.behaviour if chosen else self.behaviour):
            return failure
        if failure := _failure(self.behaviour):
            return failure
        if self._sent_home(params):
            return Response(302, "", headers={"Location": "/"})
        carried = {key: value for key, value in params.items() if key not in NOT_CARRIED}
        motif = params.get("motif_name_with_location_type")
        if motif is None:
            return Response(200, motif_choice_page(carried))
        if motif == MOTIF:
            return self._passport(params, carried, place)
        if motif == PHONE_MOTIF:
            return self._by_phone(params, carried, organisation)
        return Response(200, no_slot_page())

    def _sent_home(self, params: dict[str, str]) -> bool:
        if not params:
            return True
        exempt = params.get(PUBLIC_LINK) or params.get("departement") == "C21"
        return self.requires_public_link and not exempt

    def _passport(
        self, params: dict[str, str], carried: dict[str, str], place: Lieu | None
    ) -> Response:
        count = params.get(ANTS_COUNT)
        if count is None or not count.isdigit() or int(count) not in ANTS_COUNT_RANGE:
            return Response(200, ants_count_page(carried, refused=count is not None))
        if "lieu_id" in params:
            if place is None:
                return Response(404, nginx_error(404, "Not Found"))
            return Response(200, self._week(place, params, carried))
        return Response(200, self._choices(carried, self.lieux.values(), "lieu_id"))

    def _by_phone(
        self, params: dict[str, str], carried: dict[str, str], organisation: Lieu | None
    ) -> Response:
        if organisation is None and params.get(PUBLIC_LINK):
            organisation = self.organisations.get(params[PUBLIC_LINK])
            if organisation is None:
                return Response(200, no_slot_page())
        if organisation is not None:
            return Response(200, self._week(organisation, params, carried, by_phone=True))
        return Response(
            200,
            self._choices(carried, self.organisations.values(), "user_selected_organisation_id"),
        )

    def _choices(self, carried: dict[str, str], guichets: object, param: str) -> str:
        listed = []
        for guichet in guichets:  # type: ignore[attr-defined]
            upcoming = [start for start in guichet.free if start.date() >= self.today()]
            if upcoming:
                listed.append((min(upcoming), guichet))
        if not listed:
            return no_slot_page()
        listed.sort(key=lambda pair: pair[0])
        if param == "lieu_id":
            return places_page(carried, listed)
        return organisations_page(carried, listed)

    def _week(
        self, lieu: Lieu, params: dict[str, str], carried: dict[str, str], by_phone: bool = False
    ) -> str:
        first = _day_of(params.get("date", "")) or self.today()
        last = first + timedelta(days=6)
        shown = sorted(start for start in lieu.free if first <= start.date() <= last)
        later = sorted(start for start in lieu.free if start.date() > last)
        if not shown and not later:
            return no_slot_page(lieu)
        return week_page(lieu, carried, first, shown, None if shown else later[0], by_phone)


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
    """search_rdv.html.slim's section around the step's partial; the layout is not the app's."""
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>RDV Service Public</title></head>
<body>
<header role="banner" class="fr-header"><p class="fr-logo">République<br>Française</p>
<p>RDV Service Public simulé par creneau — aucun vrai rendez-vous ici</p></header>
<main id="content" role="main">
<section class="rdv-background-color-alt-grey py-4"><div class="fr-container">
{body}
</div></section>
</main>
</body></html>
"""


def recap(motif: str, extra: str = "") -> str:
    """_selected_motif_recap: the chosen motif (and pre-application count, place)."""
    return f"""<div class="card"><ul class="list-group list-group-flush fr-mt-0">
<li class="list-group-item">Motif : {escape(motif)} <a href="{SEARCH_PATH}">Modifier</a></li>
{extra}</ul></div>
"""


def _card(title_link: str, detail: str, subtitle: str) -> str:
    """A DSFR horizontal card whose title is the link (_organisation_selection, _motif_card)."""
    return f"""<li class="fr-card fr-enlarge-link fr-card--horizontal fr-mb-2w">
<div class="fr-card__body"><div class="fr-card__content">
<div class="fr-card__title">{title_link}</div>
<div class="fr-card__end"><p class="fr-card__desc">{subtitle}</p>
<div class="fr-card__detail"><p class="fr-text fr-mt-3w rdv-color-text-default-grey">
<span class="fr-icon-calendar-2-fill fr-mr-1w"></span>{detail}</p></div></div>
</div></div></li>
"""


def _choice_cards(params: dict[str, str], listed: list[tuple[datetime, Lieu]], param: str) -> str:
    cards = []
    for start, lieu in listed:
        href = link(SEARCH_PATH, params, **{param: lieu.id, "date": rails_time(start)})
        title = f'<a href="{href}">{escape(lieu.name)}</a>'
        detail = f"Prochaine disponibilité le <strong>{human_time(start)}</strong>"
        cards.append(_card(title, detail, escape(lieu.address)))
    return "".join(cards)


def places_page(params: dict[str, str], listed: list[tuple[datetime, Lieu]]) -> str:
    count = "1 lieu est disponible" if len(listed) == 1 else f"{len(listed)} lieux sont disponibles"
    return layout(
        f"""{recap(MOTIF_NAME)}<p class="fr-text--lg">Sélectionnez un lieu de RDV :</p>
<p>{count}</p>
<ul class="fr-raw-list">
{_choice_cards(params, listed, "lieu_id")}</ul>"""
    )


def organisations_page(params: dict[str, str], listed: list[tuple[datetime, Lieu]]) -> str:
    return layout(
        f"""{recap(PHONE_MOTIF_NAME)}
<p class="fr-text--lg">Sélectionnez la structure avec laquelle prendre RDV&nbsp;:</p>
<ul class="fr-raw-list">
{_choice_cards(params, listed, "user_selected_organisation_id")}</ul>"""
    )


def week_page(
    lieu: Lieu,
    params: dict[str, str],
    first: date,
    shown: list[datetime],
    later: datetime | None,
    by_phone: bool = False,
) -> str:
    columns = [_day_column(first + timedelta(days=offset), shown, params) for offset in range(7)]
    overlay = _next_availability(later, params) if later is not None else ""
    next_week = link(
        SEARCH_PATH, params, autofocus="first", date=(first + timedelta(days=7)).isoformat()
    )
    where = (
        f'<div class="card"><div class="card-body"><h2 class="pb-1 mb-1 card-title">'
        f"{escape(lieu.name)}</h2></div></div>\n"
        if by_phone
        else ""
    )
    place = (
        '<li class="list-group-item">RDV téléphonique</li>\n'
        if by_phone
        else f'<li class="list-group-item">Lieu :&nbsp;{escape(lieu.full_name)} '
        f'<a href="{SEARCH_PATH}" title="Modifier le lieu">modifier</a></li>\n'
    )
    block_id = "" if by_phone else lieu.id
    return layout(
        f"""{recap(PHONE_MOTIF_NAME if by_phone else MOTIF_NAME, place)}{where}
<h3 class="rdv-font-weight-700">Sélectionnez un créneau&nbsp;:</h3>
<div class="card mb-3"><div class="card-body">
<div id="creneaux-lieu-{block_id}"><div class="row"><div class="col"><div class="row">
{"".join(columns)}{overlay}</div></div>
<div class="col-12 col-md-auto mt-2 mt-md-0 d-flex align-items-center justify-content-center">
<a class="fr-btn fr-btn--icon-right fr-icon-arrow-right-s-line fr-hidden-md" \
aria-label="semaine suivante" href="{next_week}">sem. prochaine</a></div>
</div></div>
</div></div>"""
    )


def _day_column(day: date, shown: list[datetime], params: dict[str, str]) -> str:
    starts = [start for start in shown if start.date() == day]
    buttons = "".join(
        f'<a class="fr-col-12 fr-btn fr-btn--tertiary fr-mb-1w rdv-justify-content-center" '
        f'aria-label="Choisir le créneau du {FRENCH_DAYS[start.weekday()]} {start.day} à '
        f'{start:%H:%M}" href="{slot_link(params, start)}">{start:%H:%M}</a>\n'
        for start in starts
    )
    cell = (
        f'<div class="fr-grid-row">\n{buttons}</div>\n'
        if buttons
        else '<p class="rdv-text-align-center fr-text--sm">Pas de créneau disponible</p>\n'
    )
    return (
        f'<div class="fr-col-6 fr-col-md-3 fr-col-lg fr-pl-1w fr-pr-1w">'
        f'<p class="rdv-text-align-center"><strong>{FRENCH_DAYS[day.weekday()]}</strong><br>'
        f"{day.day} {FRENCH_MONTHS[day.month - 1][:4]}.</p>\n{cell}</div>\n"
    )


def _next_availability(later: datetime, params: dict[str, str]) -> str:
    """The overlay over a week without slots: a link to the next availability."""
    href = link(SEARCH_PATH, params, autofocus="first", date=rails_time(later))
    return (
        '<div class="position-absolute h-100 w-100 bg-overlay d-flex align-items-center '
        'justify-content-center"><a class="fr-btn fr-btn--secondary fr-btn--icon-right '
        f'fr-icon-arrow-right-s-line" data-disable-with="Veuillez patienter…" href="{href}">'
        '<div class="d-flex align-items-center"><div>Prochaine disponibilité le<br>'
        f"<strong>{human_time(later)}</strong></div></div></a></div>\n"
    )


def no_slot_page(lieu: Lieu | None = None) -> str:
    place = (
        f'<div class="card"><div class="card-body"><h2 class="card-title">{escape(lieu.name)}'
        "</h2></div></div>\n"
        if lieu
        else ""
    )
    return layout(
        f"""{place}<div class="card"><div class="card-body">
<div class="rdv-font-weight-700">{NO_SLOT_SENTENCE}</div>
</div></div>"""
    )


def motif_choice_page(params: dict[str, str]) -> str:
    """_motif_selection and _motif_card (DSFR)."""
    cards = []
    for motif, name, badge in (
        (MOTIF, MOTIF_NAME, "Sur place"),
        (PHONE_MOTIF, PHONE_MOTIF_NAME, "Par téléphone"),
    ):
        href = link(SEARCH_PATH, params, motif_name_with_location_type=motif, service_id=SERVICE_ID)
        cards.append(
            f"""<li class="fr-card fr-enlarge-link fr-card--horizontal fr-mb-2w">
<div class="fr-card__body"><div class="fr-card__content">
<div class="fr-card__title"><a href="{href}">{escape(name)}</a></div>
<div class="fr-card__start"><ul class="fr-badges-group">
<li class="fr-badge fr-badge--blue-cumulus fr-badge--icon-left">{badge}</li></ul></div>
</div></div></li>
"""
        )
    return layout(
        f"""<p class="fr-text--lg">Sélectionnez le motif de votre RDV&nbsp;:</p>
<ul class="fr-raw-list">
{"".join(cards)}</ul>"""
    )


def ants_count_page(params: dict[str, str], refused: bool = False) -> str:
    """_ants_pre_demandes_count_selection: a GET form back to /prendre_rdv, the search's
    parameters as hidden fields, and the count (1 by default)."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" id="{escape(key)}" value="{escape(value)}" '
        'autocomplete="off">\n'
        for key, value in params.items()
        if key != ANTS_COUNT
    )
    value = escape(params.get(ANTS_COUNT, "1"))
    error = (
        f'<div class="fr-alert fr-alert--error fr-mb-2w"><p>{ANTS_COUNT_REFUSED}</p></div>\n'
        if refused
        else ""
    )
    return layout(
        f"""{recap(MOTIF_NAME)}{error}<div class="fr-card"><div class="fr-card__body">
<div class="fr-card__content">
<h3>Nombre de pré-demandes ANTS</h3>
<p>Chaque personne souhaitant une nouvelle carte d'identité ou passeport doit avoir rempli une
pré-demande en ligne sur le site de l’ANTS. <a target="_blank"
href="https://passeport.ants.gouv.fr/demarches-en-ligne">Faites votre pré-demande ici</a></p>
<form action="{SEARCH_PATH}" accept-charset="UTF-8" method="get">
{hidden}<label class="fr-label" for="{ANTS_COUNT}">Indiquez ci-dessous le nombre total de
pré-demandes ANTS à traiter :</label>
<div class="fr-grid-row"><div class="fr-col-12 fr-col-sm-6 fr-col-md-5 fr-col-lg-3">
<div class="d-flex rdv-gap-1rem fr-mb-2w" data-controller="counter-field">
<button class="fr-btn fr-btn--secondary" type="button" \
data-action="click-&gt;counter-field#decrement">-</button>
<input class="fr-input rdv-text-align-center" data-counter-field-target="input" data-min="1" \
data-max="6" type="text" value="{value}" name="{ANTS_COUNT}" id="{ANTS_COUNT}">
<button class="fr-btn fr-btn--secondary" type="button" \
data-action="click-&gt;counter-field#increment">+</button>
</div>
<ul class="fr-btns-group fr-btns-group--inline fr-my-1w"><li>
<input type="submit" name="commit" value="Valider" class="fr-btn" data-disable-with="Valider">
</li></ul></div></div>
</form></div></div></div>"""
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
    """<h3 class="fr-h5">Choisissez votre horaire</h3>
<form action="/creneaux/reservation" method="post">
<button type="submit" class="fr-btn" name="creneau" value="2301/2026-12-01T09:00">09:00</button>
</form>"""
)


def _with_slots() -> RdvspSite:
    site = RdvspSite()
    site.release(next(iter(site.lieux)), 3)
    return site


SIMULATED = Simulated(
    'RDV Service Public (system = "rdvsp"):',
    _with_slots,
    lambda site, root: [f"  {site.search_url(root)}"],
)


# --- a page far bigger than any the site shows (issue 24): creneau.simulator.flood ------


def flood_page(count: int = flood.SLOTS, size: int = flood.BODY_CAP) -> str:
    """A week of slots whose links all carry a start (`_creneaux`)."""

    def item(index: int) -> str:
        return (
            f"<a href=/prendre_rdv?lieu_id=1&starts_at={flood.minute(index):%Y-%m-%d+%H:%M}>x</a>"
        )

    head = (
        '<!DOCTYPE html><html lang=fr><body><h2 class="card-title">Mairie</h2>'
        '<div id="creneaux-lieu-1">'
    )
    return flood.fit(head, "</div></body></html>", item, count, size)
