"""A simulated RDV Préfecture (/rdvpref/reservation/demarche/<id>/…), shaped after the same
public evidence as sources/rdvpref/ (fixtures/rdvpref/SOURCES.md): démarches whose slots
are released and taken; a terms page (cgu/) whose <rdv-captchetat> loads a CaptchEtat image
CAPTCHA from a PISTE-like endpoint with a bearer token (tests read the code as a person reads
the image, a real PNG showing it); Vertigo-UI's page state in script#vui-init-data, its CTX
context that every POST must carry, and the three ways Vertigo writes dates and instants;
site sessions that end when idle (IDLE_LIFETIME); publications planned for an instant,
announced on the page and visible a random 0–60 s after it (simulated_releases.py); the
challenges bots met after the code (a reCAPTCHA checkbox, a Cloudflare Turnstile page,
hCaptcha, an Incapsula wall, an unknown verification page), each as a gate in front of a
démarche or chained after a right code; banners; failure behaviours; and a log of every
request (`request_times`, per host, for budget counts). Anything past creneau/ (choosing a
slot, personal details, confirmation) is refused and recorded as a violation.

Guesses, marked so in SOURCES.md: where an expired session or a missing CTX sends you
(cgu/?error=errorSessionInvalide), that creneau/ opens on the week of the first free slot,
the names of the slot list and of the publications in the page state, and the markup around
every challenge beyond its vendor's documented markers.

No sockets here: `handle` maps a request to a response; put it on 127.0.0.1 with
`SimulatorServer(sites=[RdvPrefecture(default_demarches())])`, or in-process with
`SimulatedInternet({"rdvpref.test": site, "piste.test": site})`."""

from __future__ import annotations

import json
import random
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

from creneau.dates import FRENCH_DAYS
from creneau.simulator import Simulated, flood
from creneau.simulator.pages import PARIS, nginx_error
from creneau.simulator.wire import Request, Response
from creneau.sources.rdvpref import SESSION_LIFETIME
from creneau.sources.rdvpref.simulated_releases import (
    VISIBILITY_DELAY,
    AutoAnnounce,
    Publication,
    Releases,
    monday_of,
)

# The site's idle session lifetime as the simulator plays it: the parser's guess, so that a
# keep-alive built on SESSION_LIFETIME is tried against the same figure.
IDLE_LIFETIME = SESSION_LIFETIME
CHALLENGES = ("recaptcha", "hcaptcha", "turnstile", "bot-wall", "interstitial")
BEHAVIOURS = ("normal", "forbidden", "bad-gateway", "maintenance", "changed", *CHALLENGES)
DATE_STYLES = ("encoded-2024", "encoded-2025", "formatted")
SESSION_COOKIE = "JSESSIONID"
CAPTCHA_ENDPOINT_PATH = "/piste/captcha/simple-captcha-endpoint"
INLINE_IMAGE_PATH = "/rdvpref/captcha/image"
CAPTCHA_STYLE = "captchaFR"
STEP = re.compile(r"^/rdvpref/reservation/demarche/(?P<id>\d+)/(?P<step>.*)$")
# The steps a watcher may use; any other step of a démarche is booking and is refused.
ALLOWED_STEPS = {("GET", ""), ("GET", "cgu/"), ("POST", "_validerCaptcha"), ("GET", "creneau/")}
SLOT_MINUTES = tuple(range(8 * 60 + 30, 11 * 60 + 30, 15))  # 08:30 … 11:15, every 15 min
ANNOUNCING = "2626"  # the démarche `creneau simulate` has announce its publications


@dataclass
class Demarche:
    id: str
    title: str
    free: dict[str, datetime] = field(default_factory=dict)  # trhId → start (Paris)
    behaviour: str = "normal"
    last_release: tuple[datetime, date] | None = None  # when, for the week of
    next_release: tuple[datetime, date] | None = None
    summary: str = ""
    chained: str = ""  # a challenge the site asks for after a right code
    banner: str = ""  # a notice shown above the slots (maintenance, overload…)


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
    ctx: str = ""  # Vertigo-UI's view context of the last page served
    captcha_id: str | None = None
    code: str | None = None
    opened_at: float | None = None  # when a person passed the CAPTCHA
    seen: float = 0.0  # the last request made with it
    pending: str = ""  # a chained challenge the session must pass in a browser


class RdvPrefecture:
    def __init__(
        self,
        demarches: list[Demarche],
        *,
        session_ttl: float | None = None,
        idle_lifetime: float = IDLE_LIFETIME.total_seconds(),
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(PARIS),
        inline_captcha: bool = False,
        rendered: bool = False,
        date_style: str = "encoded-2024",
        opens_on_first_free_week: bool = True,
        captchetat_url: str = "",
        visibility_delay: timedelta = VISIBILITY_DELAY,
    ) -> None:
        if date_style not in DATE_STYLES:
            raise ValueError(f"unknown date style {date_style!r} (known: {DATE_STYLES})")
        self.demarches = {demarche.id: demarche for demarche in demarches}
        # A session ends `idle_lifetime` seconds after its last request, and (a test's
        # shortcut) `session_ttl` seconds after its CAPTCHA whatever it does.
        self.session_ttl = session_ttl
        self.idle_lifetime = idle_lifetime
        self.clock = clock
        self.now = now
        self.inline_captcha = inline_captcha  # a plain <img> in the form instead of CaptchEtat
        # What a browser shows once the page's Vue components ran (a page saved from a
        # browser); the server itself sends the components' tags and the JSON state only.
        self.rendered = rendered
        self.date_style = date_style
        self.opens_on_first_free_week = opens_on_first_free_week
        # Where <rdv-captchetat> points: this host by default, or another (the real site
        # uses api.piste.gouv.fr), served by this same object.
        self.captchetat_url = captchetat_url or CAPTCHA_ENDPOINT_PATH
        self.log: list[LoggedRequest] = []
        self.violations: list[str] = []  # requests a watcher must never make
        self.last_captcha_code: str | None = None
        self._sessions: dict[str, _Session] = {}
        self._next_slot_id = 88120001
        self._lock = threading.Lock()
        # Seeded: the same visibility delays on every run.
        self.releases = Releases(
            self.demarches, rng or random.Random(0), self._put_online, _take, visibility_delay
        )

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
            now = self._paris_now()  # the site writes its times in Paris time
            monday = monday_of(week_of or now.date() + timedelta(days=14))
            ids = self._put_online(demarche, monday, count)
            demarche.last_release = (now.replace(second=0, microsecond=0), monday)
            return ids

    def schedule_publication(
        self, demarche_id: str, at: datetime, count: int, week_of: date | None = None
    ) -> Publication:
        """An agent plans `count` slots of the week of `week_of` (default: two weeks after
        `at`) for `at`: announced at once, visible at `at` plus a random 0–60 s (the
        returned publication's `visible_at`), then the "Dernière mise en ligne"."""
        with self._lock:
            now = self._paris_now()
            publication = self.releases.schedule(demarche_id, at, count, week_of, now)
            self.releases.advance(now)
            return publication

    def auto_announce(
        self,
        demarche_id: str,
        *,
        every: timedelta,
        lead: timedelta = timedelta(minutes=3),
        count: int = 3,
        taken_after: timedelta | None = None,
    ) -> Publication:
        """From now on, a publication of `count` slots every `every`: the first at the first
        whole minute `lead` from now, each announced `lead` before its instant (or as soon
        as the one before is visible); with `taken_after`, others book its slots that long
        after they show. Returns the first publication (all: `publications`)."""
        with self._lock:
            auto = AutoAnnounce(every, lead, count, taken_after)
            now = self._paris_now()
            publication = self.releases.start_auto(demarche_id, auto, now)
            self.releases.advance(now)
            return publication

    def stop_announcing(self, demarche_id: str) -> None:
        with self._lock:
            self.releases.stop_auto(demarche_id)

    @property
    def publications(self) -> list[Publication]:
        """Every publication planned, in the order planned."""
        with self._lock:
            return list(self.releases.publications)

    def advance(self) -> None:
        """Play what is due by the simulator's `now` (every request does it first)."""
        with self._lock:
            self.releases.advance(self._paris_now())

    def request_times(self) -> dict[str, list[float]]:
        """Host → the instants (the simulator's clock) of the requests it received."""
        with self._lock:
            times: dict[str, list[float]] = {}
            for request in self.log:
                times.setdefault(request.host, []).append(request.at)
            return times

    def _paris_now(self) -> datetime:
        return self.now().astimezone(PARIS)

    def _put_online(self, demarche: Demarche, monday: date, count: int) -> list[str]:
        taken = set(demarche.free.values())
        starts = [start for start in _week_starts(monday) if start not in taken][:count]
        ids = []
        for start in starts:
            slot_id = str(self._next_slot_id)
            self._next_slot_id += 1
            demarche.free[slot_id] = start
            ids.append(slot_id)
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
            self.demarches[demarche_id].next_release = (at.astimezone(PARIS), monday_of(week_of))

    def set_behaviour(self, demarche_id: str, behaviour: str) -> None:
        """How every page of the démarche answers: normally, failing, or behind a challenge."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self._lock:
            self.demarches[demarche_id].behaviour = behaviour

    def chain_challenge(self, demarche_id: str, challenge: str) -> None:
        """After a right code, ask for `challenge` (e.g. "recaptcha") before creneau/, as bots
        reported in 2025; "" stops it."""
        if challenge and challenge not in CHALLENGES:
            raise ValueError(f"unknown challenge {challenge!r} (known: {CHALLENGES})")
        with self._lock:
            self.demarches[demarche_id].chained = challenge

    def end_sessions(self) -> None:
        """The site ends every session (a restart, a deployment): the next request of each
        meets the CAPTCHA again."""
        with self._lock:
            self._sessions.clear()

    def set_banner(self, demarche_id: str, text: str) -> None:
        with self._lock:
            self.demarches[demarche_id].banner = text

    # --- serving -----------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.startswith(("/rdvpref/", CAPTCHA_ENDPOINT_PATH))

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.releases.advance(self._paris_now())
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
        """The request's session, or a new one (a new cookie) when it has none or its
        session ended idle: a servlet container forgets it, so creneau/ and the code's form
        then send the request to cgu/?error=errorSessionInvalide."""
        now = self.clock()
        known = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if known is not None and now - known.seen >= self.idle_lifetime:
            del self._sessions[known.id]
            known = None
        if known is not None:
            known.seen = now
            return known, None
        session = _Session(secrets.token_hex(16), secrets.token_urlsafe(24), seen=now)
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
        if session.pending:  # the chained challenge stands in front of every page
            return challenge_page(session.pending, demarche)
        match where:
            case ("GET", ""):
                return Response(200, home_page(demarche))
            case ("GET", "cgu/"):
                return self._terms(demarche, session)
            case ("POST", "_validerCaptcha"):
                return self._validate(demarche, session, request.form)
        return self._slots(demarche, session)

    def _terms(self, demarche: Demarche, session: _Session) -> Response:
        session.ctx = _new_ctx()
        if self.inline_captcha:
            self._new_captcha(session)
        return Response(
            200, terms_page(demarche, session, self.inline_captcha, self.captchetat_url)
        )

    def _validate(self, demarche: Demarche, session: _Session, form: dict[str, str]) -> Response:
        base = f"/rdvpref/reservation/demarche/{demarche.id}"
        # Vertigo-UI refuses a POST without its view context (AbstractVSpringMvcController).
        if not session.ctx or form.get("CTX") != session.ctx:
            return _redirect(f"{base}/cgu/?error=errorSessionInvalide")
        expected = (session.captcha_id, (session.code or "").upper())
        typed = (form.get("captchaId"), form.get("captchaUsercode", "").strip().upper())
        session.captcha_id = session.code = None  # an image answers once, right or wrong
        if expected[0] is None or typed != expected:
            return _redirect(f"{base}/cgu/?error=invalidCaptcha")
        if demarche.chained:
            session.pending = demarche.chained
            return challenge_page(demarche.chained, demarche)
        session.opened_at = self.clock()
        return _redirect(f"{base}/creneau/")

    def _slots(self, demarche: Demarche, session: _Session) -> Response:
        base = f"/rdvpref/reservation/demarche/{demarche.id}"
        opened, ttl = session.opened_at, self.session_ttl
        if opened is None or (ttl is not None and self.clock() - opened >= ttl):
            session.opened_at = None
            return _redirect(f"{base}/cgu/?error=errorSessionInvalide")
        session.ctx = _new_ctx()
        page = SlotsPage(
            demarche,
            self._paris_now().date(),
            session.ctx,
            self.date_style,
            self.opens_on_first_free_week,
            self.rendered,
        )
        return Response(200, page.html())

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
    if behaviour in CHALLENGES:
        return challenge_page(behaviour, None)
    return None


def challenge_page(challenge: str, demarche: Demarche | None) -> Response:
    """What the site answers while `challenge` stands in front of it."""
    title = demarche.title if demarche else "Rendez-vous en préfecture"
    match challenge:
        case "recaptcha":
            return Response(200, layout(title, RECAPTCHA_GATE.format(title=escape(title))))
        case "hcaptcha":
            return Response(200, layout(title, HCAPTCHA_GATE.format(title=escape(title))))
        case "turnstile":
            headers = {"cf-mitigated": "challenge", "Server": "cloudflare"}
            return Response(403, CLOUDFLARE_CHALLENGE, headers=headers)
        case "bot-wall":
            return Response(200, BOT_WALL)
    return Response(200, layout(title, INTERSTITIAL))


def _redirect(location: str) -> Response:
    return Response(302, "", headers={"Location": location})


def _new_ctx() -> str:
    """Vertigo-UI's view context id: "<init>$<uid>" (AbstractVSpringMvcController)."""
    return f"{secrets.token_hex(16)}${secrets.token_hex(8)}"


def _take(demarche: Demarche, slot_ids: list[str]) -> None:
    for slot_id in slot_ids:
        demarche.free.pop(slot_id, None)


def _week_starts(monday: date) -> list[datetime]:
    return [
        datetime(day.year, day.month, day.day, tzinfo=PARIS) + timedelta(minutes=minutes)
        for day in (monday + timedelta(days=offset) for offset in range(5))
        for minutes in SLOT_MINUTES
    ]


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


def vertigo_form(action: str, content: str) -> str:
    """Vertigo-UI's form fragment (form.html): the CTX field is bound to the page state."""
    return (
        f'<form action="{action}" method="post" autocomplete="off" spellcheck="false" '
        f'accept-charset="UTF-8">\n{content}\n'
        '<input type="hidden" name="CTX" v-bind:value="vueData.CTX">\n</form>'
    )


def home_page(demarche: Demarche) -> str:
    base = f"/rdvpref/reservation/demarche/{demarche.id}"
    return layout(
        demarche.title,
        f"""<h1 class="fr-h2">{escape(demarche.title)}</h1>
<h2>Que souhaitez-vous faire ?</h2>
<a class="q-btn bg-primary text-white" href="{base}/cgu/">Prendre un rendez-vous</a>
<a class="fr-link" href="/rdvpref/login/">Gérer mes rendez-vous</a>""",
    )


def terms_page(demarche: Demarche, session: _Session, inline: bool, endpoint: str) -> str:
    base = f"/rdvpref/reservation/demarche/{demarche.id}"
    if inline:
        captcha = (
            f'<div class="captcha"><img id="{CAPTCHA_STYLE}_CaptchaImage" src="'
            f'{INLINE_IMAGE_PATH}?t={session.captcha_id}" alt="Code de sécurité"></div>\n'
            f'<input type="hidden" name="captchaId" value="{session.captcha_id}">'
        )
    else:
        captcha = (
            f'<rdv-captchetat endpoint-url="{escape(endpoint)}" '
            f'captcha-style-name="{CAPTCHA_STYLE}" token="{session.token}"></rdv-captchetat>'
        )
    content = f"""<h2>Conditions générales d'utilisation</h2>
<p>Le service de prise de rendez-vous est gratuit. Un rendez-vous réservé et non honoré
prive une autre personne d'un créneau.</p>
<h2>Vérification</h2>
<p>Recopiez les caractères de l'image ci-dessous (code de sécurité).</p>
{captcha}
<label class="fr-label" for="captchaFormulaireExtInput">Code de sécurité</label>
<input class="fr-input" type="text" id="captchaFormulaireExtInput" name="captchaUsercode"
 autocomplete="off">
<button type="submit" class="fr-btn" formaction="{base}/_validerCaptcha"><span>Suivant</span>
</button>"""
    return layout(
        f"{demarche.title} - Conditions générales d'utilisation",
        f'<h1 class="fr-h2">{escape(demarche.title)}</h1>\n'
        + vertigo_form(f"{base}/cgu/", content),
        {"vueData": {"CTX": session.ctx}, "componentStates": {}, "vuiLang": "fr"},
    )


def captchetat_markup(style: str, captcha_id: str) -> str:
    """The PISTE API's `get=html` answer: BotDetect markup around the image (the site's
    component expects `id="captchaFR_CaptchaImage" src="…"` and BDC_VCID_<style>; woob reads
    the id from the script's `t`)."""
    style = escape(style)
    query = f"c={style}&amp;t={captcha_id}"
    return f"""<div class="BDC_CaptchaDiv" id="{style}_CaptchaDiv">
<div class="BDC_CaptchaImageDiv" id="{style}_CaptchaImageDiv">
<img id="{style}_CaptchaImage" src="simple-captcha-endpoint?get=image&amp;{query}"
 class="BDC_CaptchaImage" alt="Retapez le code de l'image"></div>
<div class="BDC_CaptchaIconsDiv"><a id="{style}_SoundLink" title="Énoncer le code du captcha"
 href="simple-captcha-endpoint?get=sound&amp;{query}">Écouter</a></div>
<input type="hidden" name="BDC_VCID_{style}" id="BDC_VCID_{style}" value="{captcha_id}">
<input type="hidden" name="BDC_BackWorkaround_{style}" id="BDC_BackWorkaround_{style}" value="0">
</div>
<script src="simple-captcha-endpoint?get=script-include&amp;{query}&amp;cs=203"></script>
"""


@dataclass(frozen=True)
class SlotsPage:
    """creneau/: the page state a Vertigo-UI page carries, and <rdv-choix-tranche> bound to
    it; with `rendered`, also what the component shows in a browser."""

    demarche: Demarche
    today: date
    ctx: str
    date_style: str
    opens_on_first_free_week: bool
    rendered: bool

    def html(self) -> str:
        monday, shown = self.week_shown()
        demarche = self.demarche
        body = (
            (f'<div class="fr-notice"><p>{escape(demarche.banner)}</p></div>\n')
            if demarche.banner
            else ""
        )
        heading = "Choisissez votre créneau" if shown else "Choix du créneau"
        inner = self.rendered_component(monday, shown) if self.rendered else ""
        content = f"""<h2>{heading}</h2>
<rdv-choix-tranche v-model="vueData.reservation.trhId" :is-display-calendar="true"
 :is-current-min-week="true" :is-current-max-week="false"
 :premier-jour="vueData.critere.premierJour" :premiere-dispo="vueData.critere.datePremiereDispo"
 :tranches="vueData.tranchesHoraires" :nombre-de-jour="5" :nombre-de-ligne="6"
 :precedente-pub="vueData.precedentePublication" :prochaine-pub="vueData.prochainePublication">
{inner}
</rdv-choix-tranche>
<button type="submit" class="fr-btn">Suivant</button>"""
        return layout(
            f"{demarche.title} - Créneau",
            f'<h1 class="fr-h2">{escape(demarche.title)}</h1>\n{body}'
            + vertigo_form(f"/rdvpref/reservation/demarche/{demarche.id}/creneau/", content),
            {"vueData": self.vue_data(monday, shown), "componentStates": {}, "vuiLang": "fr"},
        )

    def week_shown(self) -> tuple[date, list[tuple[str, datetime]]]:
        """This week, or (a guess) the week of the first free slot."""
        free = self.demarche.free
        monday = monday_of(self.today)
        if free and self.opens_on_first_free_week:
            monday = max(monday, monday_of(min(free.values()).date()))
        sunday = monday + timedelta(days=6)
        shown = [(k, start) for k, start in free.items() if monday <= start.date() <= sunday]
        return monday, sorted(shown, key=lambda item: item[1])

    def vue_data(self, monday: date, shown: list[tuple[str, datetime]]) -> dict[str, object]:
        free = self.demarche.free
        first_free = min(free.values()).date() if free else None
        return {
            "CTX": self.ctx,
            "critere": {
                "ageIds": [int(self.demarche.id) * 10],
                "premierJour": self.day(monday),
                "dateMin": self.day(self.today),
                "minutesMin": 0,
                "dateMax": self.day(self.today + timedelta(weeks=8)),
                "datePremiereDispo": self.day(first_free) if first_free else "",
            },
            "tranchesHoraires": [
                {
                    "trhId": int(slot_id),
                    "dateLocale": self.day(start.date()),
                    "minutesDebut": start.hour * 60 + start.minute,
                    "minutesFin": start.hour * 60 + start.minute + 15,
                    "nbGuichet": 1,
                }
                for slot_id, start in shown
            ],
            "precedentePublication": self.publication(self.demarche.last_release),
            "prochainePublication": self.publication(self.demarche.next_release),
            "reservation": {"trhId": None},
        }

    def day(self, day: date) -> str:
        """A LocalDate as Vertigo-UI sends it: dd/MM/yyyy, or ISO since its 2025-03 encoder."""
        return f"{day:%Y-%m-%d}" if self.date_style == "encoded-2025" else f"{day:%d/%m/%Y}"

    def publication(self, release: tuple[datetime, date] | None) -> dict[str, str] | None:
        if release is None:
            return None
        at, monday = release
        range_ = {"dateMin": self.day(monday), "dateMax": self.day(monday + timedelta(days=4))}
        match self.date_style:
            case "encoded-2025":
                return {**range_, "instantPublication": f"{at:%Y-%m-%dT%H:%M}"}
            case "formatted":  # PInstant's formatter, "dd/MM/yyyy ' ' HH'h'mm"
                return {**range_, "instantPublication_fmt": f"{at:%d/%m/%Y}   {at:%H}h{at:%M}"}
        return {**range_, "instantPublication": f"{at:%d/%m/%Y %H:%M}"}

    def rendered_component(self, monday: date, shown: list[tuple[str, datetime]]) -> str:
        """What <rdv-choix-tranche> shows in a browser (the site's component template)."""
        if shown:
            return _radios(monday, shown)
        demarche = self.demarche
        if demarche.free:
            first = min(demarche.free.values()).date()
            return (
                '<div class="text-center q-pa-md">Aucun créneau disponible sur cette semaine'
                f'</div><div class="text-center q-pa-md"><button class="q-btn">Prochaine '
                f"disponibilité le {first:%d/%m/%Y}</button></div>"
            )
        return (
            '<div class="text-center q-pa-md">Aucun créneau disponible à partir de cette date.'
            "<br/>Veuillez réessayer ultérieurement.</div>" + _release_lines(demarche)
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

# Google's documented markup (developers.google.com/recaptcha/docs/display) and kednasai's
# "div.g-recaptcha" and "Suivant"; the rest of the page is a guess.
RECAPTCHA_GATE = """<h1 class="fr-h2">{title}</h1>
<script src="https://www.google.com/recaptcha/api.js" async defer></script>
<form action="#" method="post">
<p>Merci de confirmer que vous n'êtes pas un robot.</p>
<div class="g-recaptcha" data-sitekey="6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"></div>
<button type="submit" class="fr-btn"><span>Suivant</span></button>
</form>"""

# docs.hcaptcha.com's documented markup; the rest is a guess.
HCAPTCHA_GATE = """<h1 class="fr-h2">{title}</h1>
<script src="https://js.hcaptcha.com/1/api.js" async defer></script>
<form action="#" method="post">
<div class="h-captcha" data-sitekey="10000000-ffff-ffff-ffff-000000000001"></div>
<button type="submit" class="fr-btn"><span>Suivant</span></button>
</form>"""

# A Cloudflare challenge page, served 403 with "cf-mitigated: challenge" (Cloudflare docs);
# its title and _cf_chl_opt/challenge-platform markers as bots quote them; the rest a guess.
CLOUDFLARE_CHALLENGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head><body>
<div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">www.rdv-prefecture.interieur.gouv.fr</h1>
<p>Verifying you are human. This may take a few seconds.</p></div></div>
<script>(function(){window._cf_chl_opt={cvId:'3',cZone:'www.rdv-prefecture.interieur.gouv.fr',
cType:'managed',cRay:'8f0000000000abcd',cH:'simulated'};var a=document.createElement('script');
a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f0000000000abcd';
document.getElementsByTagName('head')[0].appendChild(a);}());</script></body></html>
"""

# unconfirmed: a verification page no vendor marker identifies.
INTERSTITIAL = """<h1 class="fr-h2">Vérification de sécurité</h1>
<p>Merci de patienter pendant que nous vérifions votre navigateur.</p>"""


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
        Demarche(
            ANNOUNCING,
            "Titre de séjour - Préfecture du Nord",
            summary="announces its publications (every 15 min, 3 min ahead; seen 0–60 s after)",
        ),
        Demarche(
            "9040",
            "Admission exceptionnelle au séjour - Préfecture du Rhône",
            chained="recaptcha",
            summary="a reCAPTCHA checkbox after the image CAPTCHA (browser only)",
        ),
        failing("1403", "Carte de résident", "forbidden", "answers 403 Forbidden"),
        failing("1502", "Naturalisation", "bad-gateway", "answers 502 Bad Gateway"),
        failing("1411", "Asile", "maintenance", "shows a maintenance page (503)"),
        failing("1999", "Changement d'adresse", "changed", "a redesigned page (unknown)"),
        failing("1666", "Titre de voyage", "bot-wall", "an anti-bot wall (Incapsula)"),
        failing("1777", "Duplicata", "turnstile", "a Cloudflare Turnstile page (browser only)"),
    ]


def _with_slots() -> RdvPrefecture:
    site = RdvPrefecture(default_demarches())
    site.release(next(iter(site.demarches)), 3)
    site.auto_announce(
        ANNOUNCING,
        every=timedelta(minutes=15),
        lead=timedelta(minutes=3),
        taken_after=timedelta(minutes=5),
    )
    return site


SIMULATED = Simulated(
    'RDV Préfecture (system = "rdvpref"; creneau captcha NAME shows the code):',
    _with_slots,
    lambda site, root: [
        f"  {root}/rdvpref/reservation/demarche/{demarche.id}/  {demarche.summary}"
        for demarche in site.demarches.values()
    ],
)


# --- a page far bigger than any the site shows (issue 24): creneau.simulator.flood ------


def flood_page(count: int = flood.SLOTS, size: int = flood.BODY_CAP) -> str:
    """The creneau/ page's state (script#vui-init-data) listing `count` TrancheHoraire."""

    def item(index: int) -> str:
        at = flood.minute(index)
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
    return flood.fit(head, "]}}</script></body></html>", item, count, size)
