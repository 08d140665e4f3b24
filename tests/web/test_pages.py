"""The pages a person reads, on a history this test writes and a clock it sets: the overview
and its refreshed list, a target's page, its heatmap image and evidence zip, the outbox and
its retry button, the hosts. Exact texts and links, French and English, under a sub-path,
page text escaped, and no secret anywhere."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.config import Config, load_config
from creneau.expected import Announcement
from creneau.fetch.politeness import HostState
from creneau.results import CheckResult, GuichetResult, ReleaseAnnouncement, Slot, Status
from creneau.startup import prepare_config
from creneau.store import DatabaseThread, Store
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret
from daemon_stand_in import DaemonStandIn

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 3, 6, 8, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Paris: the test's clock
NANTERRE_URL = "https://pref.example/booking/create/1001"
CERGY_URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1234/"
CERGY_HOST = "www.rdv-prefecture.interieur.gouv.fr"
TOPIC = "s3cretTopic9f8e7d6c"  # the notification URL's secret part
NOTIFY_URL = f"ntfy://{TOPIC}"
ANTS_TOKEN = "ants-token-5b4a39c8e7"
PASSWORD = "correct horse battery staple"
SECRETS = (TOPIC, NOTIFY_URL, ANTS_TOKEN, PASSWORD)
HOSTILE = 'Guichet 1 <script>alert("x")</script> [bold red]gras[/bold red] **md** [a](javascript:x)'
REMISE = "Guichet 2 - Remise de titre"
BASE = "http://127.0.0.1"


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 3, day, hour, minute, tzinfo=PARIS)


def slot(start: datetime, guichet: str, label: str, key: str | None = None) -> Slot:
    return Slot(start, guichet, label, key or str(int(start.timestamp())))


# --- the history -----------------------------------------------------------------------------

NANTERRE_NOW = (
    GuichetResult(
        "14007",
        REMISE,
        Status.AVAILABLE,
        (slot(paris(12, 9, 15), "14007", REMISE), slot(paris(12, 9, 30), "14007", REMISE)),
    ),
    GuichetResult("14006", HOSTILE, Status.AVAILABLE, (slot(paris(13, 14), "14006", HOSTILE),)),
)
NANTERRE_BEFORE = (
    GuichetResult("14007", REMISE, Status.AVAILABLE, (slot(paris(10, 10), "14007", REMISE),)),
)


def nanterre(store: Store, routing: Routing) -> None:
    """Every 20 minutes for two days, the last 2 minutes ago: slots at two guichets for the
    last 42 minutes, one slot 33 to 34 hours ago, blocked once 3 h 22 ago."""
    for k in range(143, -1, -1):
        at = NOW - timedelta(minutes=2 + 20 * k)
        guichets: tuple[GuichetResult, ...] = ()
        status = Status.NONE
        if k <= 2:
            status, guichets = Status.AVAILABLE, NANTERRE_NOW
        elif 100 <= k <= 102:
            status, guichets = Status.AVAILABLE, NANTERRE_BEFORE
        elif k == 10:
            status = Status.BLOCKED
        if status is Status.NONE:
            guichets = (GuichetResult("14007", REMISE, Status.NONE),)
        detail = {Status.NONE: "the page says there is no free slot", Status.BLOCKED: "HTTP 403"}
        result = CheckResult(
            "nanterre",
            "ezbooking",
            NANTERRE_URL,
            status,
            at,
            duration_ms=420,
            http_status=403 if status is Status.BLOCKED else 200,
            detail=detail.get(status, ""),
            guichets=guichets,
            requests=3,
        )
        record(store, result, routing)


def paris_cni(store: Store, routing: Routing) -> None:
    """ANTS: nothing 15 minutes ago, then slots at two mairies; the API gave the booking page
    of one slot only."""
    points = (
        GuichetResult(
            "75001",
            "Mairie du 1er arrondissement",
            Status.AVAILABLE,
            (
                slot(paris(7, 10), "75001", "Mairie du 1er arrondissement", "k1"),
                slot(paris(7, 11), "75001", "Mairie du 1er arrondissement", "k2"),
            ),
        ),
        GuichetResult(
            "75002",
            "Mairie du 2e",
            Status.AVAILABLE,
            (slot(paris(8, 9), "75002", "Mairie du 2e", "k3"),),
        ),
    )
    for at, status, guichets, facts in (
        (NOW - timedelta(minutes=15), Status.NONE, (), {}),
        (
            NOW - timedelta(minutes=5),
            Status.AVAILABLE,
            points,
            {"booking_url:k1": "https://mairie1.example/rdv/k1"},
        ),
    ):
        record(
            store,
            CheckResult(
                "paris-cni",
                "ants",
                "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition",
                status,
                at,
                guichets=guichets,
                facts=facts,
                requests=1,
            ),
            routing,
        )


def cergy(store: Store, routing: Routing) -> None:
    """RDV Préfecture: no slot half an hour ago (the page said when it last put slots
    online), a CAPTCHA 3 minutes ago; the host cools down after a 429."""
    said = {
        "last_release_at": "2030-03-05T10:00:00+01:00",
        "last_release_week": "2030-03-11",
        "next_release_at": "2030-03-12T10:00:00+01:00",
    }
    for at, status, facts, detail in (
        (NOW - timedelta(minutes=30), Status.NONE, said, "no slot"),
        (NOW - timedelta(minutes=3), Status.CAPTCHA, {}, "the page asks for a CAPTCHA"),
    ):
        said_then = ReleaseAnnouncement.from_facts(facts)
        result = CheckResult(
            "cergy", "rdvpref", CERGY_URL, status, at, detail=detail, releases=said_then
        )
        record(store, result, routing)


def write_history(store: Store) -> None:
    routing = Routing(PARIS, [Destination("phone", NOTIFY_URL)])
    nanterre(store, routing)
    paris_cni(store, routing)
    cergy(store, routing)
    with store.transaction() as tx:
        tx.save_host_state(
            "pref.example",
            HostState(
                robots_txt="User-agent: *\nDisallow: /admin\n",
                robots_fetched_at=NOW - timedelta(hours=2),
            ),
            NOW,
        )
        tx.save_host_state(
            CERGY_HOST,
            HostState(
                not_before=NOW + timedelta(minutes=10),
                open_until=NOW + timedelta(minutes=25),
                reason="HTTP 429",
                consecutive_failures=2,
                openings=1,
                robots_txt="User-agent: *\nDisallow: /rdvpref/reservation/demarche/1234/\n",
                robots_fetched_at=NOW - timedelta(days=3),
            ),
            NOW,
        )
    store.save_next_check("nanterre", NOW + timedelta(minutes=3), NOW)
    store.save_next_check("cergy", NOW + timedelta(minutes=25), NOW)
    outbox_states(store)


def outbox_states(store: Store) -> None:
    """The first alert sent long ago, the second failed (its error quoting the secret URL),
    the ANTS one sent a minute after it was queued, the CAPTCHA one expired."""
    rows = [(row.id, row.target, row.kind) for row in store.notifications()]
    assert rows == [
        (1, "nanterre", "slots"),
        (2, "nanterre", "slots"),
        (3, "paris-cni", "slots"),
        (4, "cergy", "trouble"),
    ]
    store.outbox.mark_sent([1], NOW - timedelta(hours=30))  # more than 24 h ago: not shown
    store.outbox.mark_failed(
        [2], f"ntfy refused {NOTIFY_URL}: 401 Unauthorized (topic {TOPIC})", None
    )
    store.outbox.mark_sent([3], NOW - timedelta(minutes=4))
    store.outbox.mark_expired([4], "older than alert_expiry (6h)")


# --- the app -----------------------------------------------------------------------------------


class Live(DaemonStandIn):
    """The running daemon's view of the next checks."""

    def next_checks(self) -> Mapping[str, datetime | None]:
        return {"nanterre": NOW + timedelta(minutes=2)}

    def scheduler_lag_seconds(self) -> float:
        return 0.0


def write_config(tmp_path: Path, language: str = "fr", web: str = "") -> Path:
    path = tmp_path / f"config-{language}.toml"
    path.write_text(f"""
[creneau]
contact = "pages@example.org"
database = "sqlite:///{tmp_path / "c.db"}"
data_dir = "{tmp_path / "data"}"
language = "{language}"
[web]
{web}
[[notify]]
name = "phone"
urls = ["ntfy://${{NTFY_TOPIC}}"]
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{NANTERRE_URL}"
[[target]]
name = "paris-cni"
system = "ants"
latitude = 48.86
longitude = 2.34
reason = "CNI"
token = "${{ANTS_TOKEN}}"
[[target]]
name = "cergy"
system = "rdvpref"
url = "{CERGY_URL}"
""")
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history, written once for the module."""
    folder = tmp_path_factory.mktemp("history")
    store = Store(f"sqlite:///{folder / 'c.db'}")
    store.upgrade()
    write_history(store)
    store.close()
    return folder


@pytest.fixture
def history_db(tmp_path: Path, recorded: Path) -> Path:
    """A copy of the history of its own for each test (a retry changes it)."""
    for file in recorded.iterdir():
        shutil.copy(file, tmp_path / file.name)
    return tmp_path


@pytest.fixture(autouse=True)
def _secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTFY_TOPIC", TOPIC)
    monkeypatch.setenv("ANTS_TOKEN", ANTS_TOKEN)
    monkeypatch.setenv("CRENEAU_WEB_PASSWORD", PASSWORD)


class Dashboard:
    def __init__(
        self,
        folder: Path,
        config: Config,
        live: Live | None,
        root_path: str,
        now: datetime = NOW,
    ) -> None:
        self.store = Store(config.creneau.database)
        self.db = DatabaseThread()
        signer = Signer(load_or_create_secret(folder / "data"))
        self.context = WebContext(config, self.store, self.db, signer, live, now=lambda: now)
        self.client = TestClient(create_app(self.context), base_url=BASE, root_path=root_path)

    def close(self) -> None:
        self.client.close()
        self.db.close()
        self.store.close()


@pytest.fixture
def open_dashboard(history_db: Path) -> Iterator[Callable[..., TestClient]]:
    opened: list[Dashboard] = []

    def open_one(
        language: str = "fr",
        web: str = "",
        live: Live | None = None,
        root_path: str = "",
        now: datetime = NOW,
    ) -> TestClient:
        config = prepare_config(write_config(history_db, language, web))
        dashboard = Dashboard(history_db, config, live, root_path, now)
        opened.append(dashboard)
        return dashboard.client

    yield open_one
    for dashboard in opened:
        dashboard.close()


@pytest.fixture
def client(open_dashboard: Callable[..., TestClient]) -> TestClient:
    return open_dashboard()


# --- reading pages -----------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text a person reads (SVG drawings aside), one space at every tag."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skipping += tag == "svg"
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag == "svg"
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def text_of(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    return " ".join("".join(reader.parts).split())


def links_of(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action|hx-get)="([^"]*)"', html)


def cards(html: str) -> dict[str, str]:
    """The overview's cards, by target name."""
    found = {}
    for chunk in html.split('<li class="card target"')[1:]:
        chunk = '<li class="card target"' + chunk[: chunk.rindex("</li>") + 5]
        name = re.search(r'class="target-name" href="[^"]*">([^<]*)</a>', chunk)
        assert name
        found[name.group(1)] = chunk
    return found


def section(html: str, heading: str) -> str:
    """The text of the page's <section> whose <h2> is `heading`."""
    for chunk in html.split("<section")[1:]:
        if f"<h2>{escape(heading)}</h2>" in chunk:
            return text_of("<section" + chunk.split("</section>")[0])
    raise AssertionError(f"no section {heading}")


def session_token(client: TestClient, path: str = "/outbox") -> str:
    """The page's CSRF token (a first visit gets its session cookie, the second its token)."""
    client.get(path)
    found = re.search(r'name="csrf" value="([^"]*)"', client.get(path).text)
    assert found
    assert found.group(1)
    return found.group(1)


# --- the overview ------------------------------------------------------------------------------

NANTERRE_CARD_FR = (
    "nanterre créneaux libres vérifié il y a 2 min · prochaine vérification dans 3 min (09:03) "
    f"{HOSTILE} : mercredi 13 mars 2030 à 14:00 réserver "
    f"{REMISE} : mardi 12 mars 2030 à 09:15 réserver "
    f"Dernière mise en ligne : 08:18 — 1 créneau ({HOSTILE}), 2 créneaux ({REMISE}) "
    "Site pref.example : ok Dernières 24 h il y a 24 h maintenant"
)


def test_the_overview_shows_each_target_as_it_stands(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    shown = cards(answer.text)
    assert list(shown) == ["nanterre", "paris-cni", "cergy"]
    assert text_of(shown["nanterre"]) == NANTERRE_CARD_FR
    assert links_of(shown["nanterre"]) == ["/targets/nanterre", NANTERRE_URL, NANTERRE_URL]
    assert text_of(shown["paris-cni"]) == (
        "paris-cni créneaux libres vérifié il y a 5 min "
        "Mairie du 1er arrondissement : jeudi 7 mars 2030 à 10:00 réserver "
        "Mairie du 2e : vendredi 8 mars 2030 à 09:00 réserver "
        "Dernière mise en ligne : 08:55 — 2 créneaux (Mairie du 1er arrondissement), "
        "1 créneau (Mairie du 2e) "
        "Site api.rendezvouspasseport.ants.gouv.fr : ok Dernières 24 h il y a 24 h maintenant"
    )
    # The ANTS slot's own booking page when the API gave one, else the national search page.
    assert links_of(shown["paris-cni"]) == [
        "/targets/paris-cni",
        "https://mairie1.example/rdv/k1",
        "https://rendezvouspasseport.ants.gouv.fr/",
    ]
    assert text_of(shown["cergy"]) == (
        "cergy CAPTCHA à résoudre vérifié il y a 3 min · prochaine vérification dans 25 min "
        "(09:25) Résoudre le CAPTCHA the page asks for a CAPTCHA "
        "Dernière mise en ligne : aucune encore "
        "Prochaine mise en ligne : mardi 12 mars à 10:00 — annoncée par le site "
        f"Site {CERGY_HOST} : en pause jusqu'à 09:25 (HTTP 429) "
        "Dernières 24 h il y a 24 h maintenant"
    )
    assert links_of(shown["cergy"]) == ["/targets/cergy", "/captcha/cergy"]
    assert '<span class="status status-available">créneaux libres</span>' in shown["nanterre"]
    assert '<span class="status status-captcha">CAPTCHA à résoudre</span>' in shown["cergy"]
    assert '<p class="muted host trouble">' in shown["cergy"]


def strip_runs(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<rect x="(\d+)" width="(\d+)" height="1" class="st-(\w+)">', html)


def test_the_24_hour_strip_has_a_run_per_status(client: TestClient) -> None:
    shown = cards(client.get("/").text)
    # 48 half-hours up to 09:00 (Paris): a check every 20 minutes, blocked at 05:38, slots
    # since 08:18.
    assert strip_runs(shown["nanterre"]) == [
        ("0", "41", "none"),
        ("41", "1", "blocked"),
        ("42", "4", "none"),
        ("46", "2", "available"),
    ]
    titles = re.findall(r"<title>([^<]*)</title>", shown["nanterre"])
    assert titles == [
        "mar. 5 mars 09:00 – 05:30 : aucun créneau × 61",
        "05:30 – 06:00 : bloqué × 1, aucun créneau × 1",
        "06:00 – 08:00 : aucun créneau × 6",
        "08:00 – 09:00 : créneaux libres × 3",
    ]
    assert strip_runs(shown["cergy"]) == [("0", "47", "never"), ("47", "1", "captcha")]
    assert re.findall(r"<title>([^<]*)</title>", shown["cergy"])[0] == (
        "mar. 5 mars 09:00 – 08:30 : aucune vérification"
    )
    assert (
        'aria-label="Dernières 24 h : aucun créneau × 45, créneaux libres × 2, bloqué × 1"'
        in (shown["nanterre"])
    )


def test_the_overview_in_english(open_dashboard: Callable[..., TestClient]) -> None:
    shown = cards(open_dashboard("en").get("/").text)
    assert text_of(shown["nanterre"]) == (
        "nanterre slots free checked 2 min ago · next check in 3 min (09:03) "
        f"{HOSTILE} : Wednesday 13 March 2030, 14:00 book "
        f"{REMISE} : Tuesday 12 March 2030, 09:15 book "
        f"Last release: 08:18 — 1 slot ({HOSTILE}), 2 slots ({REMISE}) "
        "Host pref.example: ok Last 24 h 24 h ago now"
    )
    assert text_of(shown["cergy"]).startswith(
        "cergy CAPTCHA to solve checked 3 min ago · next check in 25 min (09:25) Solve the CAPTCHA"
    )
    assert f"Host {CERGY_HOST}: cooling down until 09:25 (HTTP 429)" in text_of(shown["cergy"])
    assert "Next release: Tuesday 12 March at 10:00 — announced by the site" in text_of(
        shown["cergy"]
    )


def test_a_fresh_database_shows_targets_never_checked(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    store.close()
    dashboard = Dashboard(tmp_path, load_config(write_config(tmp_path)), None, "")
    try:
        shown = cards(dashboard.client.get("/").text)
        assert text_of(shown["nanterre"]) == (
            "nanterre jamais vérifié Dernière mise en ligne : aucune encore "
            "Site pref.example : ok Dernières 24 h il y a 24 h maintenant"
        )
        assert strip_runs(shown["nanterre"]) == [("0", "48", "never")]
        for path in ("/targets/nanterre", "/targets/nanterre/heatmap.svg", "/outbox", "/hosts"):
            assert dashboard.client.get(path).status_code == 200, path
    finally:
        dashboard.close()


def test_next_checks_come_live_from_the_daemon_when_it_runs(
    open_dashboard: Callable[..., TestClient],
) -> None:
    shown = cards(open_dashboard(live=Live()).get("/").text)
    assert "prochaine vérification dans 2 min (09:02)" in text_of(shown["nanterre"])
    assert "prochaine vérification" not in text_of(shown["cergy"])  # the daemon plans none


def test_the_list_refreshes_from_its_fragment(client: TestClient) -> None:
    page = client.get("/").text
    assert (
        '<div id="overview" hx-get="/fragments/overview" hx-trigger="every 20s" '
        'hx-swap="innerHTML">' in page
    )
    fragment = client.get("/fragments/overview")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "<footer" not in fragment.text
    assert {name: text_of(card) for name, card in cards(fragment.text).items()} == {
        name: text_of(card) for name, card in cards(page).items()
    }
    assert fragment.headers["cache-control"] == "no-store"


# --- a target's page ---------------------------------------------------------------------------


def test_a_target_page_shows_its_slots_checks_releases_and_history(client: TestClient) -> None:
    answer = client.get("/targets/nanterre")
    assert answer.status_code == 200
    page = answer.text
    assert section(page, "Créneaux affichés, par guichet") == (
        f"Créneaux affichés, par guichet {HOSTILE} mercredi 13 mars 2030 à 14:00 réserver "
        f"{REMISE} mardi 12 mars 2030 à 09:15 réserver mardi 12 mars 2030 à 09:30 réserver "
        f"Dernière mise en ligne : 08:18 — 1 créneau ({HOSTILE}), 2 créneaux ({REMISE}) "
        "Prochaine mise en ligne : aucune connue"
    )
    assert section(page, "Mises en ligne (30 derniers jours)") == (
        "Mises en ligne (30 derniers jours) vue à après la vérification de guichet créneaux "
        "dates proposées tous partis après "
        f"08:18 07:58 {REMISE} 2 mar. 12 mars encore affichés "
        f"08:18 07:58 {HOSTILE} 1 mer. 13 mars encore affichés "
        f"lun. 4 mars 22:58 lun. 4 mars 22:38 {REMISE} 1 dim. 10 mars 1 h 00"
    )
    assert section(page, "Durée d'affichage des créneaux (90 derniers jours)") == (
        "Durée d'affichage des créneaux (90 derniers jours) guichet créneaux partis "
        f"encore affichés médiane p90 {HOSTILE} 1 0 1 — — {REMISE} 3 1 2 1 h 00 1 h 00"
    )
    checks = section(page, "Vérifications")
    assert checks.startswith(
        "Vérifications Dernières 24 h il y a 24 h maintenant 7 derniers jours il y a 7 j "
        "maintenant Dernières vérifications quand état détail "
        "08:58 créneaux libres 08:38 créneaux libres 08:18 créneaux libres "
        "07:58 aucun créneau the page says there is no free slot"
    )
    assert checks.count("aucun créneau") == 7
    assert section(page, "Réponses du site par jour (14 derniers jours)") == (
        "Réponses du site par jour (14 derniers jours) jour vérifications réponse claire "
        "mer. 6 mars 27 96.3% bloqué 3.7% mar. 5 mars 72 100% lun. 4 mars 45 100%"
    )
    assert 'src="/targets/nanterre/heatmap.svg"' in page
    assert '<form class="evidence" method="get" action="/targets/nanterre/evidence">' in page
    assert 'name="since" type="date" value="2030-02-04"' in page
    assert 'name="until" type="date" value="2030-03-06"' in page
    day, week = re.findall(r"<svg.*?</svg>", page, re.S)
    assert strip_runs(day) == strip_runs(cards(client.get("/").text)["nanterre"])
    # 168 hours up to 09:00: nothing before the first check, 48 hours ago; the slots of
    # Monday night and of this morning (an hour with slots shows them, whatever else).
    assert strip_runs(week) == [
        ("0", "120", "never"),
        ("120", "13", "none"),
        ("133", "2", "available"),
        ("135", "32", "none"),
        ("167", "1", "available"),
    ]


def test_a_target_page_says_what_the_site_says_of_its_releases(client: TestClient) -> None:
    page = client.get("/targets/cergy").text
    assert section(page, "Quand les créneaux sont mis en ligne") == (
        "Quand les créneaux sont mis en ligne Ce que dit le site de ses mises en ligne "
        "Dernière mise en ligne : mar. 5 mars 10:00 (semaine du lun. 11 mars) "
        "Prochaine mise en ligne : mar. 12 mars 10:00 "
        # What became of its announcements (this one, the only one, is still to come).
        "Annonces du site : 1 (0 suivie de créneaux ; 0 sans créneau ; 0 retirée ; 1 à venir)"
    )
    assert '<a class="action" href="/captcha/cergy">Résoudre le CAPTCHA</a>' in page
    assert (
        '<a href="https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/'
        '1234/" rel="noreferrer">page du site</a>' in page
    )


def test_a_target_page_says_its_next_release_and_the_burst_it_costs(client: TestClient) -> None:
    page = client.get("/targets/cergy").text
    assert section(page, "Créneaux affichés, par guichet") == (
        "Créneaux affichés, par guichet Aucun créneau affiché. "
        "Dernière mise en ligne : aucune encore "
        "Prochaine mise en ligne : mardi 12 mars à 10:00 — annoncée par le site "
        # RDV Préfecture's own budget (sources/rdvpref), and one request a check.
        "prochaine rafale : 9 vérifications, 9 requêtes à 10:00 ; budget 4/min, "
        "rafales de 4 : tient"
    )


def test_a_target_page_in_english_says_the_burst_s_cost(
    open_dashboard: Callable[..., TestClient],
) -> None:
    page = open_dashboard("en").get("/targets/cergy").text
    assert (
        '<p class="muted next-burst">next burst: 9 checks, 9 requests at 10:00; budget 4/min, '
        "bursts of 4: fits</p>"
    ) in page


# cergy's site announced a release on Tuesday 12 March at 10:00; its last check met a CAPTCHA.
CERGY_RELEASE = paris(12, 10)


def session_notice_of(page: str) -> str:
    found = re.search(r'<p class="session-notice" id="session-notice">(.*?)</p>', page)
    return found.group(1) if found else ""


def test_before_an_announced_release_the_target_page_asks_for_the_captcha(
    open_dashboard: Callable[..., TestClient],
) -> None:
    # Before T − prepare (10 min by default): nothing yet.
    early = open_dashboard(now=CERGY_RELEASE - timedelta(minutes=11)).get("/targets/cergy")
    assert session_notice_of(early.text) == ""
    page = open_dashboard(now=CERGY_RELEASE - timedelta(minutes=8)).get("/targets/cergy").text
    assert session_notice_of(page) == (
        "Mise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant 09:55 pour que creneau "
        'regarde dès 10:00 <a class="action" href="/captcha/cergy">Résoudre le CAPTCHA</a>'
    )
    overview = open_dashboard(now=CERGY_RELEASE - timedelta(minutes=8)).get("/").text
    assert (
        '<p class="session-notice">Mise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant '
        "09:55 pour que creneau regarde dès 10:00</p>"
    ) in overview


def test_after_an_announced_release_without_a_session_the_page_says_so(
    open_dashboard: Callable[..., TestClient], history_db: Path
) -> None:
    store = Store(f"sqlite:///{history_db / 'c.db'}")
    assert store.mark_session_ready("cergy", CERGY_RELEASE, False)
    store.close()
    after = CERGY_RELEASE + timedelta(minutes=1)
    page = open_dashboard(now=after).get("/targets/cergy").text
    assert session_notice_of(page) == (
        "Aucune session n&#39;était prête à 10:00 : creneau a vérifié quand même"
    )
    english = open_dashboard("en", now=after).get("/targets/cergy").text
    assert session_notice_of(english) == "No session was ready at 10:00: creneau checked anyway"


def test_a_target_page_says_what_became_of_the_releases_its_site_announced(
    open_dashboard: Callable[..., TestClient], history_db: Path
) -> None:
    """Besides the pending one its checks read (12 March), two released (slots seen 20 and
    30 s after the instant), one without slots and one withdrawn, the week before."""
    store = Store(f"sqlite:///{history_db / 'c.db'}")
    with store.transaction() as tx:
        for day, outcome, after in (
            (2, "released", 20),
            (3, "released", 30),
            (4, "no_slots", None),
            (5, "withdrawn", None),
        ):
            at = paris(day, 10)
            seen = at + timedelta(seconds=after) if after is not None else None
            tx.save_announcement(
                Announcement("cergy", at, None, at - timedelta(hours=1), at, outcome, seen), None
            )
    store.close()
    page = open_dashboard().get("/targets/cergy").text
    assert (
        "Annonces du site : 5 (2 suivies de créneaux, vus en médiane 25 s après l'heure "
        "annoncée ; 1 sans créneau ; 1 retirée ; 1 à venir)"
    ) in text_of(page)
    english = open_dashboard("en").get("/targets/cergy").text
    assert (
        "Site announcements: 5 (2 followed by slots, seen a median 25 s after the announced "
        "time; 1 without slots; 1 withdrawn; 1 to come)</p>"
    ) in english
    # A target whose site announced nothing says nothing of it.
    assert 'id="announced"' not in open_dashboard().get("/targets/nanterre").text


def test_the_heatmap_is_an_svg_image_of_its_own(client: TestClient) -> None:
    answer = client.get("/targets/nanterre/heatmap.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "Probabilité de mise en ligne — nanterre (Europe/Paris)" in answer.text
    assert "<script" not in answer.text


@pytest.mark.parametrize(
    "path",
    ["/targets/lyon", "/targets/lyon/heatmap.svg", "/targets/lyon/evidence.zip?since=2030-03-01"],
)
def test_an_unknown_target_is_404(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "Aucune cible nommée lyon." in text_of(answer.text)


def test_the_evidence_export_downloads_as_one_zip(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temporary"))
    (tmp_path / "temporary").mkdir()
    answer = client.get("/targets/nanterre/evidence.zip?since=2030-03-05&until=2030-03-05")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    folder = "creneau-evidence-nanterre-2030-03-05-2030-03-05"
    assert answer.headers["content-disposition"] == f'attachment; filename="{folder}.zip"'
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zipped:
        names = sorted(zipped.namelist())
        assert names == [
            f"{folder}/MANIFEST.sha256",
            f"{folder}/RECORD.sha256",
            f"{folder}/calendar.svg",
            f"{folder}/checks.csv",
            f"{folder}/dossier.pdf",
            f"{folder}/lettre.txt",
            f"{folder}/summary.csv",
            f"{folder}/summary.html",
        ]
        manifest = zipped.read(f"{folder}/MANIFEST.sha256").decode()
        for line in manifest.splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(zipped.read(f"{folder}/{name}")).hexdigest() == digest
        checks = zipped.read(f"{folder}/checks.csv").decode().splitlines()
    assert len(checks) == 1 + 72  # a header, then the day's checks (every 20 minutes)
    assert list((tmp_path / "temporary").iterdir()) == []  # nothing left behind


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("", "since: a first day is needed, e.g. 2026-11-01"),
        (
            "?since=yesterday",
            'since: expected a date such as 2026-11-01 or 2026-11-01T08:00 (got "yesterday")',
        ),
        ("?since=2030-03-05&until=2030-03-01", "the period is empty"),
    ],
)
def test_an_evidence_request_without_a_period_says_why(
    client: TestClient, query: str, said: str
) -> None:
    answer = client.get(f"/targets/nanterre/evidence.zip{query}")
    assert answer.status_code == 400
    assert said in text_of(answer.text)


# --- the outbox --------------------------------------------------------------------------------


def outbox_rows(html: str) -> list[str]:
    return [
        text_of(row) for row in re.findall(r'<li class="alert alert-\w+">(.*?)</li>', html, re.S)
    ]


def test_the_outbox_lists_what_did_not_go_with_its_error_masked(client: TestClient) -> None:
    page = client.get("/outbox").text
    assert section(page, "En attente, en échec ou expirées").startswith(
        "En attente, en échec ou expirées en attente 0 · échec 1 · expirée 1"
    )
    rows = outbox_rows(page)
    assert rows == [
        "#4 expirée cergy Action requise : cergy créée 08:57 · canal phone (ntfy://) · "
        "essais 0 dernière erreur : older than alert_expiry (6h) Renvoyer",
        f"#2 échec nanterre 3 nouveaux créneaux — {REMISE}, {HOSTILE} créée 08:18 · canal "
        "phone (ntfy://) · essais 1 dernière erreur : ntfy refused ***: 401 Unauthorized "
        "(topic ***) Renvoyer",
        "#3 envoyée paris-cni 3 nouveaux créneaux — Mairie du 1er arrondissement, "
        "Mairie du 2e créée 08:55 · canal phone (ntfy://) · essais 1 · envoyée 08:56",
    ]
    assert page.count('<input type="hidden" name="csrf"') >= 2


def test_a_retry_needs_the_page_token_and_comes_back_to_the_outbox(client: TestClient) -> None:
    token = session_token(client)
    assert client.post("/outbox/2/retry", data={}).status_code == 403
    assert client.post("/outbox/2/retry", data={"csrf": "forged"}).status_code == 403
    foreign = client.post(
        "/outbox/2/retry", data={"csrf": token}, headers={"origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    answer = client.post("/outbox/2/retry", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/outbox?retried=2"
    page = client.get(answer.headers["location"]).text
    assert "L'alerte 2 part maintenant." in text_of(page)
    # Due now, and a slot alert gets a fresh expiry: it counts from now.
    assert outbox_rows(page)[1].startswith("#2 en attente nanterre 3 nouveaux créneaux")
    assert (
        "créée 09:00 · canal phone (ntfy://) · essais 1 · prochain essai 09:00"
        in (outbox_rows(page)[1])
    )
    sent = client.post("/outbox/3/retry", data={"csrf": token}, follow_redirects=False)
    assert sent.headers["location"] == "/outbox?missing=3"  # sent already: nothing to retry


# --- the hosts ---------------------------------------------------------------------------------


def test_the_hosts_page_shows_budget_breaker_retry_after_and_robots(client: TestClient) -> None:
    page = client.get("/hosts").text
    hosts = [
        text_of(card)
        for card in re.findall(r'<section class="card host-card.*?</section>', page, re.S)
    ]
    assert hosts == [
        "pref.example cibles : nanterre Budget 6 requêtes par minute, rafale de 10 "
        "Disjoncteur fermé (les requêtes passent) Échecs consécutifs 0 Retry-After aucune "
        "robots.txt lu 07:00 nanterre : autorisé",
        "api.rendezvouspasseport.ants.gouv.fr cibles : paris-cni Budget 12 requêtes par "
        "minute, rafale de 3 Disjoncteur fermé (les requêtes passent) Échecs consécutifs 0 "
        "Retry-After aucune "
        "robots.txt pas encore lu paris-cni : pas encore lu",
        f"{CERGY_HOST} cibles : cergy Budget 4 requêtes par minute, rafale de 4 "
        "Disjoncteur ouvert jusqu'à 09:25 : HTTP 429 Échecs consécutifs 2 "
        "Retry-After pas de requête avant 09:10 robots.txt lu dim. 3 mars 09:00 "
        "cergy : interdit",
    ]
    assert '<section class="card host-card trouble">' in page


# --- the page around them ----------------------------------------------------------------------


def test_links_carry_the_sub_path(open_dashboard: Callable[..., TestClient]) -> None:
    client = open_dashboard(web='root_path = "/creneau"', root_path="/creneau")
    token = session_token(client, "/creneau/outbox")
    for path in ("/creneau/", "/creneau/targets/nanterre", "/creneau/outbox", "/creneau/hosts"):
        page = client.get(path)
        assert page.status_code == 200, path
        local = [link for link in links_of(page.text) if link.startswith("/")]
        assert local, path
        assert all(link.startswith("/creneau/") for link in local), (path, local)
    overview = client.get("/creneau/").text
    assert 'hx-get="/creneau/fragments/overview"' in overview
    assert 'href="/creneau/targets/nanterre"' in overview
    assert (
        'src="/creneau/targets/nanterre/heatmap.svg"'
        in client.get("/creneau/targets/nanterre").text
    )
    retried = client.post("/creneau/outbox/2/retry", data={"csrf": token}, follow_redirects=False)
    assert retried.headers["location"] == "/creneau/outbox?retried=2"


def test_page_text_is_shown_as_text(client: TestClient) -> None:
    for path in ("/", "/fragments/overview", "/targets/nanterre"):
        page = client.get(path).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "javascript:" not in re.sub(r"\[a\]\(javascript:x\)", "", page)
        assert HOSTILE in text_of(page)  # markup shown as written, never applied


def test_each_page_gets_what_the_layout_needs(
    client: TestClient, open_dashboard: Callable[..., TestClient]
) -> None:
    page = client.get("/").text
    assert '<html lang="fr">' in page
    assert "Se déconnecter" not in page  # no password: nobody to log out
    english = open_dashboard("en").get("/hosts").text
    assert '<html lang="en">' in english
    assert "<nav>" in english


def readable(name: str, body: bytes) -> str:
    """A file of the export as text: the PDF's through pdftotext (its streams are
    compressed), when poppler-utils is there."""
    if not name.endswith(".pdf"):
        return body.decode()
    if shutil.which("pdftotext") is None:
        return ""
    done = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True)
    return done.stdout.decode()


def test_no_secret_in_any_page(open_dashboard: Callable[..., TestClient]) -> None:
    client = open_dashboard(web='password = "${CRENEAU_WEB_PASSWORD}"')
    assert client.get("/", follow_redirects=False).status_code == 303
    login = client.post("/login", data={"password": PASSWORD, "next": "/"})
    assert login.status_code == 200
    pages = [login.text]
    for path in (
        "/",
        "/fragments/overview",
        "/targets/nanterre",
        "/targets/paris-cni",
        "/targets/cergy",
        "/targets/nanterre/heatmap.svg",
        "/outbox",
        "/hosts",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        pages.append(answer.text)
    assert "Se déconnecter" in pages[1]  # logged in: base.html offers to log out
    export = client.get("/targets/nanterre/evidence.zip?since=2030-03-05")
    with zipfile.ZipFile(io.BytesIO(export.content)) as zipped:
        pages += [readable(name, zipped.read(name)) for name in zipped.namelist()]
    for text in pages:
        for secret in SECRETS:
            assert secret not in text
