"""The CAPTCHA hand-off at /captcha/<name>, against the simulated RDV Préfecture: the image
creneau's own site session received, served from memory; a wrong code, a new image; the right
code, the site session kept in the store for the daemon; a challenge only a browser passes,
said plainly; CSRF; unknown targets; and the "Action requise" alert that links to the page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import english
from creneau.alerts.deliver import Sender
from creneau.check.record import Recorded
from creneau.config import Config, load_config
from creneau.fetch.client import PoliteClient
from creneau.fetch.politeness import HostState
from creneau.host_budget import HostBudget
from creneau.runtime import Runtime
from creneau.simulator.server import SimulatorServer
from creneau.sources.rdvpref.simulator import RdvPrefecture, captcha_png, default_demarches
from creneau.store import DatabaseThread, Store
from creneau.targets import TargetBase
from creneau.usecases.check_once import check_once
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret
from daemon_stand_in import DaemonStandIn

IMAGE = re.compile(r'<img class="captcha-image" id="captcha-image" src="([^"]+)"')
DEMARCHES = {"allier": "4418", "rhone": "9040", "duplicata": "1777"}  # 9040: a reCAPTCHA after
CGU = "/rdvpref/reservation/demarche/4418/cgu/"
CAPTCHETAT = "/piste/captcha/simple-captcha-endpoint"


@pytest.fixture
def site() -> RdvPrefecture:
    return RdvPrefecture(default_demarches())


@pytest.fixture
def server(site: RdvPrefecture) -> Iterator[SimulatorServer]:
    with SimulatorServer(sites=[site]) as running:
        yield running


def write_config(tmp_path: Path, server_url: str, web: str = "", language: str = "fr") -> Config:
    targets = "".join(
        f'[[target]]\nname = "{name}"\nsystem = "rdvpref"\n'
        f'url = "{server_url}/rdvpref/reservation/demarche/{number}/"\n'
        for name, number in DEMARCHES.items()
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f'[creneau]\ncontact = "tests@example.org"\nlanguage = "{language}"\n'
        f'database = "sqlite:///{tmp_path / "creneau.db"}"\ndata_dir = "{tmp_path / "data"}"\n'
        f"{targets}"
        '[[target]]\nname = "nanterre"\nsystem = "ezbooking"\n'
        'url = "https://pref.example/booking/create/1001"\n'
        '[hosts."127.0.0.1"]\nper_minute = 6000\nburst = 60\n'
        f"[web]\n{web}\n"
    )
    return load_config(path)


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


class Dashboard:
    """The app under test, its store, its clock, and one browser's cookie jar."""

    def __init__(self, config: Config, tmp_path: Path, live: object | None = None) -> None:
        self.config = config
        self.store = Store(config.creneau.database)
        self.store.upgrade()
        self.clock = Clock()
        signer = Signer(load_or_create_secret(tmp_path / "keys"))
        self.context = WebContext(
            config, self.store, DatabaseThread(inline=True), signer, now=self.clock
        )
        self.context.live = live  # type: ignore[assignment]
        self.client = TestClient(create_app(self.context), base_url="http://127.0.0.1:8765")
        self.client.get("/healthz")  # a loopback dashboard gives a session at once

    def page(self, name: str = "allier") -> str:
        answer = self.client.get(f"/captcha/{name}")
        assert answer.status_code == 200, answer.text
        return str(answer.text)

    def start(self, name: str = "allier") -> str:
        """A tap on the page's "show the site's image" button."""
        return self.send("", name, action="start")

    def send(self, code: str, name: str = "allier", action: str = "answer") -> str:
        answer = self.client.post(
            f"/captcha/{name}", data={"csrf": self.csrf, "code": code, "action": action}
        )
        assert [step.status_code for step in answer.history] == [303], answer.text
        assert answer.history[0].headers["location"] == f"/captcha/{name}"
        return str(answer.text)

    @property
    def csrf(self) -> str:
        """The token this browser's pages carry (the same on every page of its session)."""
        signer = self.context.signer
        session = signer.session_of(self.client.cookies.get("creneau_session"))
        assert session is not None
        return signer.csrf_token(session)

    def image(self, page: str) -> bytes:
        answer = self.client.get(image_src(page))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["cache-control"] == "no-store"
        return bytes(answer.content)


@pytest.fixture
def dashboard(tmp_path: Path, server: SimulatorServer) -> Iterator[Dashboard]:
    running = Dashboard(write_config(tmp_path, server.url), tmp_path)
    yield running
    running.store.close()


def state(page: str) -> str:
    found = re.search(r'id="captcha" data-state="([a-z_]+)"', page)
    assert found, page
    return found.group(1)


def image_src(page: str) -> str:
    found = IMAGE.search(page)
    assert found, page
    return found.group(1)


def site_requests(site: RdvPrefecture) -> list[tuple[str, str]]:
    return [(entry.method, entry.path) for entry in site.log]


def test_the_page_shows_the_image_creneaus_own_site_session_received(
    dashboard: Dashboard, site: RdvPrefecture, server: SimulatorServer
) -> None:
    page = dashboard.start()
    assert state(page) == "image"
    assert image_src(page) == "/captcha/allier/image?v=1.1"
    assert server.url not in page  # the browser never asks the site for the image
    assert 'name="code"' in page
    assert f'name="csrf" value="{dashboard.csrf}"' in page
    assert "<code>creneau captcha allier</code>" in page  # the terminal way, still
    assert dashboard.image(page) == captcha_png(site.last_captcha_code or "")
    assert site_requests(site) == [("GET", CGU), ("GET", CAPTCHETAT), ("GET", CAPTCHETAT)]
    again = dashboard.page()  # a reload shows the same image, without asking the site
    assert dashboard.image(again) == captcha_png(site.last_captcha_code or "")
    assert len(site.log) == 3


def test_opening_the_page_asks_nothing_of_the_site_until_a_person_taps(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    # Any page the owner visits may make the browser GET this one (an <img>, a link):
    # starting a site session spends the host's budget, so only a POST with the token does.
    page = dashboard.page()
    assert state(page) == "start"
    assert (
        '<form method="post" action="/captcha/allier" class="captcha-start">\n'
        f'    <input type="hidden" name="csrf" value="{dashboard.csrf}">\n'
        '    <input type="hidden" name="action" value="start">\n'
        '    <button type="submit" id="start">Afficher l&#39;image du site</button>'
    ) in page
    assert "captcha-image" not in page
    assert dashboard.client.get("/captcha/allier/image").status_code == 404
    assert site.log == []
    assert dashboard.store.host_states() == {}
    for token in ({}, {"csrf": "forged"}):  # another site's form cannot start it either
        answer = dashboard.client.post("/captcha/allier", data={"action": "start", **token})
        assert answer.status_code == 403
    assert site.log == []
    assert state(dashboard.start()) == "image"
    asked = len(site.log)
    assert asked > 0
    assert state(dashboard.start()) == "image"  # a second tap: the same site session
    assert len(site.log) == asked


def test_a_wrong_code_gets_a_new_image(dashboard: Dashboard, site: RdvPrefecture) -> None:
    first = dashboard.image(dashboard.start())
    page = dashboard.send("WRONG1")
    assert state(page) == "image"
    assert "Le site n&#39;a pas accepté ce code : voici une nouvelle image." in page
    assert image_src(page) == "/captcha/allier/image?v=1.2"
    second = dashboard.image(page)
    assert second != first
    assert second == captcha_png(site.last_captcha_code or "")
    assert dashboard.store.site_session("allier") is None


def test_the_right_code_keeps_the_site_session_for_the_daemon(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    site.release("4418", 2)
    dashboard.start()
    page = dashboard.send(site.last_captcha_code or "")
    assert state(page) == "solved"
    assert "C&#39;est fait : le site a accepté le code." in page
    assert "2 créneaux disponibles" in page
    kept = dashboard.store.site_session("allier")
    assert kept is not None
    # Each cookie with the host that set it: the daemon sends it back there only.
    assert [(cookie["name"], cookie["domain"]) for cookie in kept] == [("JSESSIONID", "127.0.0.1")]
    assert [check.status for check in dashboard.store.checks("allier")] == ["available"]
    assert dashboard.client.get("/captcha/allier/image").status_code == 404  # image gone
    assert state(dashboard.page()) == "solved"  # coming back says so, without a new image
    asked = len(site.log)
    assert state(dashboard.send(site.last_captcha_code or "")) == "solved"  # a second tap
    assert len(site.log) == asked

    # The daemon's next check (its own client, the session from the store) passes.
    target = next(t for t in dashboard.config.targets if t.name == "allier")
    runtime = Runtime(dashboard.config, dashboard.store)
    recorded = asyncio.run(check_once(runtime, target))
    assert recorded.result.status.value == "available"
    assert site.violations == []


def test_three_refused_codes_end_the_hand_off_until_asked_again(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    dashboard.start()
    dashboard.send("WRONG1")
    dashboard.send("WRONG2")
    page = dashboard.send("WRONG3")
    assert state(page) == "gave_up"
    assert "Le site a refusé 3 codes de suite." in page
    assert dashboard.client.get("/captcha/allier/image").status_code == 404
    again = dashboard.send("", action="new")
    assert state(again) == "image"
    assert dashboard.image(again) == captcha_png(site.last_captcha_code or "")


def test_an_empty_code_is_not_sent(dashboard: Dashboard, site: RdvPrefecture) -> None:
    dashboard.start()
    page = dashboard.send("   ")
    assert state(page) == "image"
    assert "Tapez le code de l&#39;image avant d&#39;envoyer." in page
    assert ("POST", "/rdvpref/reservation/demarche/4418/_validerCaptcha") not in (
        site_requests(site)
    )


def test_a_challenge_only_a_browser_can_pass_is_said_plainly(
    dashboard: Dashboard, site: RdvPrefecture, server: SimulatorServer
) -> None:
    page = dashboard.start("duplicata")  # a Cloudflare Turnstile page instead of the CAPTCHA
    assert state(page) == "browser_only"
    assert (
        "Le site demande une vérification Cloudflare Turnstile : creneau ne peut pas vous le "
        "transmettre, seul un navigateur sur le site peut le passer. Ouvrez le site dans votre "
        "navigateur si vous voulez réserver."
    ) in page
    assert f'href="{server.url}/rdvpref/reservation/demarche/1777/"' in page
    assert "captcha-image" not in page
    assert site_requests(site) == [("GET", "/rdvpref/reservation/demarche/1777/cgu/")]
    # Cloudflare answers its challenge with a 403: the host's breaker opened meanwhile.
    assert state(dashboard.page("duplicata")) == "start"  # said once; a tap tries again
    assert "est en pause" in dashboard.start("duplicata")


def test_a_browser_challenge_after_the_right_code_is_said_plainly_too(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    dashboard.start("rhone")  # a reCAPTCHA chained after the right code
    after = dashboard.send(site.last_captcha_code or "", name="rhone")
    assert state(after) == "browser_only"
    assert "Le site demande un reCAPTCHA de Google (« Je ne suis pas un robot »)" in after
    assert dashboard.store.site_session("rhone") is None


def test_a_code_needs_the_csrf_token(dashboard: Dashboard, site: RdvPrefecture) -> None:
    dashboard.start()
    code = site.last_captcha_code or ""
    for token in ({}, {"csrf": "forged"}):
        answer = dashboard.client.post("/captcha/allier", data={"code": code, **token})
        assert answer.status_code == 403
    assert all(method == "GET" for method, _path in site_requests(site))
    assert dashboard.store.site_session("allier") is None


def test_an_unknown_target_is_not_found_and_a_system_without_captcha_says_so(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    assert dashboard.client.get("/captcha/nobody").status_code == 404
    assert dashboard.client.get("/captcha/nobody/image").status_code == 404
    page = dashboard.page("nanterre")
    assert state(page) == "no_captcha"
    assert "Le système ezbooking ne demande jamais de CAPTCHA" in page
    assert site.log == []


def test_an_image_waits_a_few_minutes_then_a_new_one_is_fetched(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    dashboard.start()
    token = dashboard.csrf
    dashboard.clock.at += timedelta(minutes=5, seconds=1)
    assert dashboard.client.get("/captcha/allier/image").status_code == 404
    answer = dashboard.client.post("/captcha/allier", data={"csrf": token, "code": "ABC123"})
    assert state(answer.text) == "image"
    assert "L&#39;image précédente a expiré : voici une nouvelle image." in answer.text
    assert ("POST", "/rdvpref/reservation/demarche/4418/_validerCaptcha") not in (
        site_requests(site)
    )  # the old image's code was never sent


def test_a_first_visit_gets_its_session_then_the_image(
    tmp_path: Path, server: SimulatorServer
) -> None:
    running = Dashboard(write_config(tmp_path, server.url), tmp_path)
    running.client.cookies.clear()
    answer = running.client.get("/captcha/allier", follow_redirects=False)
    assert answer.status_code == 200
    assert "creneau_session=" in answer.headers["set-cookie"]
    assert state(answer.text) == "start"  # the first page carries its session already
    assert f'name="csrf" value="{running.csrf}"' in answer.text
    assert state(running.start()) == "image"
    image = running.client.get("/captcha/allier/image?v=1.1")
    assert image.status_code == 200
    running.store.close()


def test_links_follow_the_root_path(tmp_path: Path, server: SimulatorServer) -> None:
    running = Dashboard(write_config(tmp_path, server.url, language="en"), tmp_path)
    # Behind a proxy that strips /creneau: the browser's paths, and its cookie's, carry it.
    client = TestClient(
        running.client.app, base_url="http://127.0.0.1:8765/creneau", root_path="/creneau"
    )
    client.get("/healthz")
    page = client.get("/captcha/allier").text
    assert 'action="/creneau/captcha/allier"' in page
    assert "Show the site&#39;s image" in page
    session = running.context.signer.session_of(client.cookies.get("creneau_session"))
    assert session is not None
    tapped = client.post(
        "/captcha/allier",
        data={"csrf": running.context.signer.csrf_token(session), "action": "start"},
        follow_redirects=False,
    )
    assert tapped.status_code == 303
    assert tapped.headers["location"] == "/creneau/captcha/allier"
    page = client.get("/captcha/allier").text
    assert 'src="/creneau/captcha/allier/image?v=1.1"' in page
    assert 'action="/creneau/captcha/allier"' in page
    assert "The site asks for the code in this image." in page
    running.store.close()


def test_the_site_is_asked_through_the_polite_client_and_its_state_is_kept(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    site.set_behaviour("4418", "forbidden")  # 403: the host's breaker opens at once
    page = dashboard.start()
    assert state(page) == "problem"
    assert "creneau n&#39;a pas d&#39;image du site à vous montrer pour le moment." in page
    assert site_requests(site) == [("GET", CGU)]
    host = dashboard.store.host_states()["127.0.0.1"]
    assert host.open_until is not None
    assert english(host.reason) == "HTTP 403"
    assert 'id="retry"' in page  # one tap tries again
    again = dashboard.start()  # the host cools down: nothing goes to the site
    assert state(again) == "problem"
    assert "127.0.0.1 est en pause (HTTP 403)" in again
    assert len(site.log) == 1


def test_a_retry_after_the_daemon_recorded_holds_here_too(
    dashboard: Dashboard, site: RdvPrefecture
) -> None:
    wait_until = datetime.now(UTC) + timedelta(hours=1)
    with dashboard.store.transaction() as tx:
        tx.save_host_state(
            "127.0.0.1", HostState(not_before=wait_until, reason="HTTP 429"), wait_until
        )
    page = dashboard.start()
    assert state(page) == "problem"
    assert "127.0.0.1 est en pause (HTTP 429)" in page
    assert site.log == []


class RunningDaemon(DaemonStandIn):
    """What `creneau run` gives the dashboard: the daemon, with its polite client and its
    checks on demand."""

    def __init__(self, client: PoliteClient) -> None:
        super().__init__(client)
        self.runtime: Runtime | None = None
        self.watched: list[str] = []

    async def watch(self, target: TargetBase) -> Recorded | None:
        assert self.runtime is not None
        self.watched.append(target.name)
        return await check_once(self.runtime, target)


def test_under_creneau_run_the_hand_off_goes_through_the_daemon(
    tmp_path: Path, server: SimulatorServer, site: RdvPrefecture
) -> None:
    budget = HostBudget(per_minute=1, burst=60)  # refills too slowly to hide a request
    daemon = RunningDaemon(PoliteClient("tests@example.org", lambda host: budget))
    running = Dashboard(write_config(tmp_path, server.url), tmp_path, daemon)
    daemon.runtime = Runtime(running.config, running.store, client=daemon.client)
    assert state(running.start()) == "image"
    # The daemon's own client paid for robots.txt and the three requests.
    assert daemon.client.host_state("127.0.0.1").robots_fetched_at is not None
    assert daemon.client.gate("127.0.0.1").bucket.tokens < 60 - 3
    site.release("4418", 1)
    page = running.send(site.last_captcha_code or "")
    assert state(page) == "solved"
    assert "1 créneau disponible" in page
    assert daemon.watched == ["allier"]  # the daemon checked with the new session
    assert running.store.site_session("allier")
    running.store.close()


# --- the alert ------------------------------------------------------------------------------------

CAPTCHA_EVENT = {
    "event": "captcha",
    "target": "allier",
    "url": "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4418/",
    "status": "captcha",
    "detail": "",
    "saved_page": None,
    "challenge": "image",
}


@pytest.mark.parametrize(
    ("web", "language", "says"),
    [
        (
            "",
            "fr",
            "Recopiez le code de l'image sur cette page du tableau de bord : "
            "<http://127.0.0.1:8765/captcha/allier>\n(ou, dans un terminal, lancez "
            "`creneau captcha allier`) ; creneau reprendra ensuite la surveillance.",
        ),
        (
            'root_path = "/creneau"\nlisten = "127.0.0.1:9000"',
            "en",
            "Type the code from the image on this page of the dashboard: "
            "<http://127.0.0.1:9000/creneau/captcha/allier>\n(or, in a terminal, run "
            "`creneau captcha allier`); creneau then goes on watching.",
        ),
        (
            'public_url = "https://creneau.asso.example/watch/"',
            "fr",
            "<https://creneau.asso.example/watch/captcha/allier>",
        ),
        (
            "enabled = false",
            "fr",
            "Lancez `creneau captcha allier` et recopiez le code de l'image ; creneau "
            "reprendra ensuite la surveillance.",
        ),
    ],
)
def test_the_action_alert_links_straight_to_the_page(
    tmp_path: Path, web: str, language: str, says: str
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", web, language)
    store = Store(config.creneau.database)
    rendered = Sender.from_config(store, config).messages.render([CAPTCHA_EVENT])
    store.close()
    assert rendered.title == (
        "Action requise : allier" if language == "fr" else "Action needed: allier"
    )
    assert says in rendered.body
    assert ("/captcha/allier" in rendered.body) == ("enabled = false" not in web)


def test_an_alert_for_a_challenge_only_a_browser_passes_has_no_dashboard_link(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    store = Store(config.creneau.database)
    event = {**CAPTCHA_EVENT, "challenge": "recaptcha"}
    body = Sender.from_config(store, config).messages.render([event]).body
    store.close()
    assert "/captcha/allier" not in body
    assert "seul un navigateur sur le site peut le passer" in body
