"""A simulated RDV Préfecture (/rdvpref/reservation/demarche/<id>/…): démarches whose slots
are released and taken, a terms page with a CaptchEtat CAPTCHA whose code the simulator knows
(tests read it as a person reads the image, which is a real PNG showing the code), site
sessions that expire and send you back to cgu/, the "Dernière mise en ligne" line, failure
behaviours, and a log of every request. Anything past creneau/ (choosing a slot, personal
details, confirmation) is refused and recorded as a violation.

No sockets here: `handle` maps a request to a response; put it on 127.0.0.1 with
`SimulatorServer(sites=[RdvPrefecture(default_demarches())])`."""

from __future__ import annotations

import json
import re
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from creneau.dates import FRENCH_DAYS
from creneau.simulator.pages import nginx_error
from creneau.simulator.wire import Request, Response

PARIS = ZoneInfo("Europe/Paris")
BEHAVIOURS = ("normal", "forbidden", "bad-gateway", "maintenance", "changed", "bot-wall")
SESSION_COOKIE = "JSESSIONID"
CAPTCHA_ENDPOINT_PATH = "/piste/captcha/simple-captcha-endpoint"
INLINE_IMAGE_PATH = "/rdvpref/captcha/image"
CAPTCHA_STYLE = "captchaFR"
TERMS_BOX = "cguAccepte"
STEP = re.compile(r"^/rdvpref/reservation/demarche/(?P<id>\d+)/(?P<step>.*)$")
# The steps a watcher may use; any other step of a démarche is booking and is refused.
ALLOWED_STEPS = {("GET", ""), ("GET", "cgu/"), ("POST", "_validerCaptcha"), ("GET", "creneau/")}
SLOT_MINUTES = tuple(range(8 * 60 + 30, 11 * 60 + 30, 15))  # 08:30 … 11:15, every 15 min


@dataclass
class Demarche:
    id: str
    title: str
    free: dict[str, datetime] = field(default_factory=dict)  # trhId → start (Paris)
    behaviour: str = "normal"
    last_release: tuple[datetime, date] | None = None  # when, for the week of
    next_release: tuple[datetime, date] | None = None
    summary: str = ""


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # the simulator's clock
    host: str
    method: str
    path: str
    query: str
    status: int


@dataclass
class _Session:
    id: str
    token: str  # the CaptchEtat bearer token the terms page hands out
    captcha_id: str | None = None
    code: str | None = None
    opened_at: float | None = None  # when a person passed the CAPTCHA


class RdvPrefecture:
    def __init__(
        self,
        demarches: list[Demarche],
        *,
        session_ttl: float = 20 * 60,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(PARIS),
        inline_captcha: bool = False,
        render_radios: bool = True,
    ) -> None:
        self.demarches = {demarche.id: demarche for demarche in demarches}
        self.session_ttl = session_ttl
        self.clock = clock
        self.now = now
        self.inline_captcha = inline_captcha  # a plain <img> in the form instead of CaptchEtat
        self.render_radios = render_radios  # the radios as a browser shows them, not only JSON
        self.log: list[LoggedRequest] = []
        self.violations: list[str] = []  # requests a watcher must never make
        self.last_captcha_code: str | None = None
        self._sessions: dict[str, _Session] = {}
        self._next_slot_id = 88120001
        self._lock = threading.Lock()

    # --- what a person (or a test) does --------------------------------------------------

    def captcha_code(self, session_id: str) -> str:
        """The code the current image of that site session shows."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.code is None:
                raise KeyError(f"no CAPTCHA shown to session {session_id!r}")
            return session.code

    def release(self, demarche_id: str, count: int, week_of: date | None = None) -> list[str]:
        """Put `count` slots online in the week of `week_of` (default: in two weeks); they
        become the "Dernière mise en ligne". Returns their trhIds."""
        with self._lock:
            demarche = self.demarches[demarche_id]
            monday = _monday(week_of or self.now().date() + timedelta(days=14))
            taken = set(demarche.free.values())
            starts = [start for start in _week_starts(monday) if start not in taken][:count]
            ids = []
            for start in starts:
                slot_id = str(self._next_slot_id)
                self._next_slot_id += 1
                demarche.free[slot_id] = start
                ids.append(slot_id)
            demarche.last_release = (self.now().replace(second=0, microsecond=0), monday)
            return ids

    def take(self, demarche_id: str, count: int = 0) -> None:
        """Someone books `count` slots (0 = all)."""
        with self._lock:
            demarche = self.demarches[demarche_id]
            earliest = sorted(demarche.free, key=lambda slot_id: demarche.free[slot_id])
            for slot_id in earliest[: count or len(earliest)]:
                del demarche.free[slot_id]

    def announce_next_release(self, demarche_id: str, at: datetime, week_of: date) -> None:
        with self._lock:
            self.demarches[demarche_id].next_release = (at, _monday(week_of))

    def set_behaviour(self, demarche_id: str, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self._lock:
            self.demarches[demarche_id].behaviour = behaviour

    # --- serving -----------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.startswith(("/rdvpref/", CAPTCHA_ENDPOINT_PATH))

    def handle(self, request: Request) -> Response:
        with self._lock:
            response = self._route(request)
            self.log.append(
                LoggedRequest(
                    self.clock(),
                    request.host,
                    request.method,
                    request.path,
                    request.query,
                    response.status,
                )
            )
            return response

    def _route(self, request: Request) -> Response:
        if request.path == CAPTCHA_ENDPOINT_PATH:
            return self._captchetat(request)
        session, cookie = self._session(request)
        response = self._rdvpref(request, session)
        if cookie:
            response.set_cookies[SESSION_COOKIE] = cookie
        return response

    def _session(self, request: Request) -> tuple[_Session, str | None]:
        known = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if known is not None:
            return known, None
        session = _Session(secrets.token_hex(16), secrets.token_urlsafe(24))
        self._sessions[session.id] = session
        return session, session.id

    def _rdvpref(self, request: Request, session: _Session) -> Response:
        if request.path == INLINE_IMAGE_PATH:
            return self._image(session, request.params.get("t", ""))
        step = STEP.match(request.path)
        demarche = self.demarches.get(step.group("id")) if step else None
        if step is None or demarche is None:
            return Response(404, nginx_error(404, "Not Found"))
        if failure := _failure(demarche.behaviour):
            return failure
        where = (request.method, step.group("step"))
        if where not in ALLOWED_STEPS:
            self.violations.append(f"{request.method} {request.path}")
            return Response(403, nginx_error(403, "Forbidden"))
        match where:
            case ("GET", ""):
                return Response(200, home_page(demarche))
            case ("GET", "cgu/"):
                return self._terms(demarche, session)
            case ("POST", "_validerCaptcha"):
                return self._validate(demarche, session, request.form)
        return self._slots(demarche, session)

    def _terms(self, demarche: Demarche, session: _Session) -> Response:
        if self.inline_captcha:
            self._new_captcha(session)
            return Response(200, terms_page(demarche, session, inline=True))
        return Response(200, terms_page(demarche, session, inline=False))

    def _validate(self, demarche: Demarche, session: _Session, form: dict[str, str]) -> Response:
        base = f"/rdvpref/reservation/demarche/{demarche.id}"
        expected = (session.captcha_id, (session.code or "").upper())
        typed = (form.get("captchaId"), form.get("captchaUsercode", "").strip().upper())
        accepted = form.get(TERMS_BOX) in ("true", "on")
        session.captcha_id = session.code = None  # an image answers once, right or wrong
        if expected[0] is None or typed != expected or not accepted:
            return _redirect(f"{base}/cgu/?error=invalidCaptcha")
        session.opened_at = self.clock()
        return _redirect(f"{base}/creneau/")

    def _slots(self, demarche: Demarche, session: _Session) -> Response:
        base = f"/rdvpref/reservation/demarche/{demarche.id}"
        opened = session.opened_at
        if opened is None or self.clock() - opened >= self.session_ttl:
            session.opened_at = None
            return _redirect(f"{base}/cgu/")
        today = self.now().date()
        return Response(200, slots_page(demarche, today, self.render_radios))

    def _captchetat(self, request: Request) -> Response:
        """The PISTE API: `get=html` issues a CAPTCHA, `get=image` draws it."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        session = next((s for s in self._sessions.values() if token and s.token == token), None)
        if session is None:
            return Response(401, '{"error":"invalid_token"}', "application/json")
        match request.params.get("get"):
            case "html":
                captcha_id = self._new_captcha(session)
                return Response(200, captchetat_markup(request.params.get("c", ""), captcha_id))
            case "image":
                return self._image(session, request.params.get("t", ""))
        return Response(400, '{"error":"unsupported"}', "application/json")

    def _new_captcha(self, session: _Session) -> str:
        session.captcha_id = secrets.token_hex(16)
        session.code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        self.last_captcha_code = session.code
        return session.captcha_id

    @staticmethod
    def _image(session: _Session, captcha_id: str) -> Response:
        if session.code is None or captcha_id != session.captcha_id:
            return Response(404, "no such CAPTCHA", "text/plain")
        return Response(200, captcha_png(session.code), "image/png")


def _failure(behaviour: str) -> Response | None:
    match behaviour:
        case "forbidden":
            return Response(403, nginx_error(403, "Forbidden"))
        case "bad-gateway":
            return Response(502, nginx_error(502, "Bad Gateway"))
        case "maintenance":
            return Response(503, MAINTENANCE)
        case "changed":
            return Response(200, CHANGED)
        case "bot-wall":
            return Response(200, BOT_WALL)
    return None


def _redirect(location: str) -> Response:
    return Response(302, "", headers={"Location": location})


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_starts(monday: date) -> list[datetime]:
    return [
        datetime(day.year, day.month, day.day, tzinfo=PARIS) + timedelta(minutes=minutes)
        for day in (monday + timedelta(days=offset) for offset in range(5))
        for minutes in SLOT_MINUTES
    ]


def _week_shown(demarche: Demarche, today: date) -> tuple[date, list[tuple[str, datetime]]]:
    """The site shows the week of the first free slot (this week when there is none)."""
    if not demarche.free:
        return _monday(today), []
    monday = _monday(min(demarche.free.values()).date())
    sunday = monday + timedelta(days=6)
    shown = [(k, start) for k, start in demarche.free.items() if monday <= start.date() <= sunday]
    return monday, sorted(shown, key=lambda item: item[1])


# --- pages ---------------------------------------------------------------------------------


def layout(title: str, body: str, init_data: dict[str, object] | None = None) -> str:
    data = json.dumps(init_data or {"vueData": {}}, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>{escape(title)} - RDV Préfecture (simulé)</title></head>
<body><div id="page">
<header class="fr-header"><p class="fr-logo">Ministère de l'Intérieur</p>
<p class="fr-header__service-title">Prise de rendez-vous en préfecture — simulée par creneau,
aucun vrai rendez-vous ici</p></header>
<main class="fr-container">
{body}
</main></div>
<script type="application/json" id="vui-init-data">{data}</script>
</body></html>
"""


def home_page(demarche: Demarche) -> str:
    base = f"/rdvpref/reservation/demarche/{demarche.id}"
    return layout(
        demarche.title,
        f"""<h1 class="fr-h2">{escape(demarche.title)}</h1>
<h2>Que souhaitez-vous faire ?</h2>
<a class="q-btn bg-primary text-white" href="{base}/cgu/">Prendre un rendez-vous</a>
<a class="fr-link" href="/rdvpref/login/">Gérer mes rendez-vous</a>""",
    )


def terms_page(demarche: Demarche, session: _Session, *, inline: bool) -> str:
    base = f"/rdvpref/reservation/demarche/{demarche.id}"
    if inline:
        captcha = (
            f'<input type="hidden" name="captchaId" value="{session.captcha_id}">\n'
            f'<img id="{CAPTCHA_STYLE}_CaptchaImage" src="{INLINE_IMAGE_PATH}?t='
            f'{session.captcha_id}" alt="Code de sécurité">'
        )
    else:
        captcha = (
            f'<rdv-captchetat endpoint-url="{CAPTCHA_ENDPOINT_PATH}" '
            f'captcha-style-name="{CAPTCHA_STYLE}" token="{session.token}"></rdv-captchetat>'
        )
    return layout(
        f"{demarche.title} - Conditions générales d'utilisation",
        f"""<h1 class="fr-h2">{escape(demarche.title)}</h1>
<form method="post" action="{base}/cgu/" id="formulaire-cgu">
<input type="hidden" name="CTX" value="{secrets.token_hex(8)}">
<h2>Conditions générales d'utilisation</h2>
<p>Le service de prise de rendez-vous est gratuit. Un rendez-vous réservé et non honoré
prive une autre personne d'un créneau.</p>
<div class="fr-checkbox-group"><input type="checkbox" id="{TERMS_BOX}" name="{TERMS_BOX}"
 value="true"><label for="{TERMS_BOX}">J'ai lu et j'accepte les conditions générales
d'utilisation</label></div>
<h2>Vérification</h2>
<p>Recopiez les caractères de l'image ci-dessous (code de sécurité).</p>
{captcha}
<label class="fr-label" for="captchaFormulaireExtInput">Code de sécurité</label>
<input class="fr-input" type="text" id="captchaFormulaireExtInput" name="captchaUsercode"
 autocomplete="off">
<button type="submit" class="fr-btn" formaction="{base}/_validerCaptcha">Suivant</button>
</form>""",
        {"vueData": {"CTX": "cgu"}},
    )


def captchetat_markup(style: str, captcha_id: str) -> str:
    """The PISTE API's `get=html` answer: BotDetect markup around the image."""
    query = f"c={escape(style)}&amp;t={captcha_id}"
    return f"""<div class="BDC_CaptchaDiv" id="{escape(style)}_CaptchaDiv">
<div class="BDC_CaptchaImageDiv" id="{escape(style)}_CaptchaImageDiv">
<img class="BDC_CaptchaImage" id="{escape(style)}_CaptchaImage"
 src="simple-captcha-endpoint?get=image&amp;{query}" alt="Code de sécurité"></div>
<div class="BDC_CaptchaIconsDiv"><a id="{escape(style)}_SoundLink"
 href="simple-captcha-endpoint?get=sound&amp;{query}">Écouter</a></div>
<input type="hidden" name="BDC_VCID_{escape(style)}" id="BDC_VCID_{escape(style)}"
 value="{captcha_id}">
<input type="hidden" name="BDC_BackWorkaround_{escape(style)}"
 id="BDC_BackWorkaround_{escape(style)}" value="0">
</div>
<script src="simple-captcha-endpoint?get=script-include&amp;{query}&amp;cs=203"></script>
"""


def slots_page(demarche: Demarche, today: date, render_radios: bool) -> str:
    monday, shown = _week_shown(demarche, today)
    first_free = min(demarche.free.values()).date() if demarche.free else None
    vue_data = {
        "CTX": secrets.token_hex(8),
        "critereTrancheHoraire": {
            "ageIds": [int(demarche.id) * 10],
            "premierJour": _day(monday),
            "dateMin": _day(today),
            "minutesMin": 0,
            "dateMax": _day(today + timedelta(weeks=8)),
            "datePremiereDispo": _day(first_free) if first_free else "",
        },
        "tranchesHoraires": [
            {
                "trhId": int(slot_id),
                "dateLocale": _day(start.date()),
                "minutesDebut": start.hour * 60 + start.minute,
                "minutesFin": start.hour * 60 + start.minute + 15,
                "nbGuichet": 1,
            }
            for slot_id, start in shown
        ],
        "precedentePublication": _publication(demarche.last_release),
        "prochainePublication": _publication(demarche.next_release),
        "reservation": {"trhId": None},
    }
    if shown:
        heading = "<h2>Choisissez votre créneau</h2>"
        body = _radios(monday, shown) if render_radios else ""
    else:
        heading = "<h2>Choix du créneau</h2>"
        body = (
            '<div class="text-center q-pa-md">Aucun créneau disponible.<br>'
            "Veuillez réessayer ultérieurement.</div>" + _release_lines(demarche)
        )
    return layout(
        f"{demarche.title} - Créneau",
        f"""<h1 class="fr-h2">{escape(demarche.title)}</h1>
{heading}
<form method="post" action="/rdvpref/reservation/demarche/{demarche.id}/creneau/">
<rdv-choix-tranche v-model="vueData.reservation.trhId" :tranches="vueData.tranchesHoraires"
 :premier-jour="vueData.critereTrancheHoraire.premierJour" :nombre-de-jour="5"
 :nombre-de-ligne="6" :precedente-pub="vueData.precedentePublication"
 :prochaine-pub="vueData.prochainePublication">
{body}
</rdv-choix-tranche>
<button type="submit" class="fr-btn">Suivant</button>
</form>""",
        {"vueData": vue_data, "componentStates": {}, "vuiLang": "fr"},
    )


def _radios(monday: date, shown: list[tuple[str, datetime]]) -> str:
    columns = []
    for offset in range(5):
        day = monday + timedelta(days=offset)
        items = "".join(
            f'<li class="row cellule justify-center radio-card"><input type="radio" '
            f'name="trhId" id="trhId_{slot_id}" data-value="{slot_id}"><label class="fr-label" '
            f'for="trhId_{slot_id}">{start:%H}h{start:%M}</label></li>'
            for slot_id, start in shown
            if start.date() == day
        )
        columns.append(
            f'<div class="column col items-center blocCreneauSelection">'
            f'<h3 class="celulleHeader text-bold text-center">{FRENCH_DAYS[day.weekday()]}<br>'
            f"{day:%d/%m}</h3><ul>{items}</ul></div>"
        )
    return '<div class="row q-gutter-xs">' + "\n".join(columns) + "</div>"


def _release_lines(demarche: Demarche) -> str:
    lines = []
    for words, release in (
        ("Prochaine mise en ligne de nouveaux rendez-vous", demarche.next_release),
        ("Dernière mise en ligne de rendez-vous", demarche.last_release),
    ):
        if release:
            at, week = release
            lines.append(
                f'<div class="text-center q-pa-md"><span class="fr-text--italic fr-text--bold">'
                f"{words} : le {at:%d/%m/%Y} à {at:%H:%M}</span><br>"
                f'<span class="fr-text--italic">pour des créneaux de la semaine du '
                f"{week:%d/%m/%Y}</span></div>"
            )
    return "\n".join(lines)


def _publication(release: tuple[datetime, date] | None) -> dict[str, str] | None:
    if release is None:
        return None
    at, monday = release
    return {
        "dateMin": _day(monday),
        "dateMax": _day(monday + timedelta(days=4)),
        "instantPublication": f"{at:%d/%m/%Y %H:%M}",
    }


def _day(day: date) -> str:
    return f"{day:%d/%m/%Y}"


MAINTENANCE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>RDV Préfecture - Maintenance</title></head>
<body><h1>Site en maintenance</h1>
<p>Le site est actuellement en maintenance. Merci de revenir ultérieurement.</p>
</body></html>
"""

CHANGED = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>RDV Préfecture</title></head>
<body><div id="app"><h1>Nouvelle interface</h1>
<p>Sélectionnez une date dans le calendrier ci-dessous.</p>
<div class="calendar-v2" data-state="loading"></div></div></body></html>
"""

BOT_WALL = """<html style="height:100%"><head><meta name="robots" content="noindex, nofollow">
</head><body style="margin:0px;height:100%"><iframe id="main-iframe"
src="/_Incapsula_Resource?SWUDNSAI=31&amp;xinfo=1-2-3" frameborder=0 width="100%" height="100%">
Request unsuccessful. Incapsula incident ID: 1234000010000001-1234567890123456</iframe>
</body></html>
"""


# --- the CAPTCHA image: a real PNG drawn with a 3x5 font, no imaging library ---------------

CODE_ALPHABET = "ACEFHKLPRTUXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B to confuse a reader
_GLYPHS = {
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "C": ("###", "#..", "#..", "#..", "###"),
    "E": ("###", "#..", "##.", "#..", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", ".#.", ".#."),
    "9": ("###", "#.#", "###", "..#", "###"),
}
_SCALE = 4
_MARGIN = 4


def captcha_png(code: str) -> bytes:
    """A grayscale PNG showing `code` in black on white (letters from CODE_ALPHABET)."""
    glyphs = [_GLYPHS[char] for char in code.upper()]
    ink = [
        "".join(
            (glyph[row] + ".") if index < len(glyphs) - 1 else glyph[row]
            for index, glyph in enumerate(glyphs)
        )
        for row in range(5)
    ]
    width = 2 * _MARGIN + len(ink[0]) * _SCALE
    height = 2 * _MARGIN + 5 * _SCALE
    blank = b"\x00" + b"\xff" * width
    rows = [blank] * _MARGIN
    for line in ink:
        pixels = b"".join((b"\x00" if dot == "#" else b"\xff") * _SCALE for dot in line)
        margin = b"\xff" * _MARGIN
        rows += [b"\x00" + margin + pixels + margin] * _SCALE
    rows += [blank] * _MARGIN
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def default_demarches() -> list[Demarche]:
    """The démarches a simulated RDV Préfecture serves: one per case a watcher meets."""

    def failing(demarche_id: str, title: str, behaviour: str, summary: str) -> Demarche:
        return Demarche(demarche_id, title, behaviour=behaviour, summary=summary)

    return [
        Demarche("4418", "Remise de titre de séjour - Préfecture de l'Allier", summary="slots"),
        Demarche("16040", "Titre de séjour - Préfecture du Val-de-Marne", summary="never a slot"),
        failing("1403", "Carte de résident", "forbidden", "answers 403 Forbidden"),
        failing("1502", "Naturalisation", "bad-gateway", "answers 502 Bad Gateway"),
        failing("1411", "Asile", "maintenance", "shows a maintenance page (503)"),
        failing("1999", "Changement d'adresse", "changed", "a redesigned page (unknown)"),
        failing("1666", "Titre de voyage", "bot-wall", "an anti-bot wall (Incapsula)"),
    ]
