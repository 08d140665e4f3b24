"""Adding a target from the dashboard by its link (/add, /add/preview, /add/save), and pausing,
resuming and removing one (/targets/<name>/pause|resume|remove), against the simulated sites
on 127.0.0.1: the preview shows what one check saw; saving writes exactly one new table, the
rest of the file byte for byte unchanged; a config mistake is one line and writes nothing;
every POST needs the CSRF token (and the login, when a password is set); the SSRF guard
refuses a loopback link unless `[web] allow_private_targets`."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from creneau.config import load_config
from creneau.redact import public_link
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import default_prefecture
from creneau.sources.html.simulator import HtmlBookingSite
from creneau.store import DatabaseThread, Store
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, hash_password, load_or_create_secret
from harness.config_text import commented_config

PREVIEW_KEY = re.compile(r'name="preview" value="([^"]+)"')
ALLOW_PRIVATE = "\n[web]\nallow_private_targets = true\n"
NANTERRE = "remise-de-titre-de-sejour-nanterre"


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    plages = HtmlBookingSite(layout="plages", path="/plages")
    plages.release(plages.guichets[0].id, 3)
    sites = [plages, HtmlBookingSite(layout="plages", path="/refus", behaviour="forbidden")]
    with SimulatorServer(default_prefecture(), sites=sites) as running:
        yield running


def original(root: str, web: str = ALLOW_PRIVATE) -> str:
    return commented_config(root, web)


def with_table(text: str, table: str) -> str:
    """The file with a table added after the last target's own lines."""
    return text.replace('# desks = ["16001"]\n\n', f'# desks = ["16001"]\n\n{table}\n', 1)


class Dashboard:
    """The app on a config file, its store, and one browser's cookie jar."""

    def __init__(self, path: Path, *, known_file: bool = True) -> None:
        self.path = path
        config = load_config(path)
        self.store = Store(config.creneau.database)
        self.store.upgrade()
        signer = Signer(load_or_create_secret(path.parent / "keys"))
        self.context = WebContext(
            config,
            self.store,
            DatabaseThread(inline=True),
            signer,
            now=lambda: datetime.now(UTC),
            config_path=path if known_file else None,
        )
        self.client = TestClient(create_app(self.context), base_url="http://127.0.0.1:8765")
        self.client.get("/healthz")  # a dashboard without password gives a session at once

    @property
    def csrf(self) -> str:
        signer = self.context.signer
        session = signer.session_of(self.client.cookies.get("creneau_session"))
        assert session is not None
        return signer.csrf_token(session)

    def preview(
        self, url: str, name: str = "", every: str = "2s", notify: tuple[str, ...] = ()
    ) -> tuple[int, str]:
        data = {"csrf": self.csrf, "url": url, "name": name, "every": every, "notify": notify}
        answer = self.client.post("/add/preview", data=data)
        return answer.status_code, html.unescape(answer.text)

    def save(self, page: str, **fields: str | list[str]) -> tuple[int, str, str]:
        """Send the preview's form (with `fields`); (status, page, where it redirected)."""
        found = PREVIEW_KEY.search(page)
        assert found, page
        data: dict[str, str | list[str]] = {"csrf": self.csrf, "preview": found.group(1)}
        data.update(fields)
        answer = self.client.post("/add/save", data=data, follow_redirects=False)
        return answer.status_code, html.unescape(answer.text), answer.headers.get("location", "")

    def post(self, path: str, csrf: bool = True) -> tuple[int, str]:
        data = {"csrf": self.csrf} if csrf else {}
        answer = self.client.post(path, data=data, follow_redirects=False)
        return answer.status_code, answer.headers.get("location", "")

    def close(self) -> None:
        self.client.close()
        self.store.close()


def dashboard_on(tmp_path: Path, text: str, *, known_file: bool = True) -> Dashboard:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return Dashboard(path, known_file=known_file)


@pytest.fixture
def dashboard(tmp_path: Path, server: SimulatorServer) -> Iterator[Dashboard]:
    board = dashboard_on(tmp_path, original(server.url))
    yield board
    board.close()


def files_beside(path: Path) -> list[str]:
    return sorted(each.name for each in path.parent.iterdir() if each.suffix == ".toml")


# --- the form -----------------------------------------------------------------------------


def test_the_form_asks_for_the_link_a_name_and_an_interval(dashboard: Dashboard) -> None:
    answer = dashboard.client.get("/add")
    assert answer.status_code == 200
    page = answer.text
    assert "Collez le lien que vous utilisez pour réserver" in page
    assert '<form method="post" action="/add/preview" class="add-form">' in page
    assert f'<input type="hidden" name="csrf" value="{dashboard.csrf}">' in page
    for field in ('id="url" name="url" type="url"', 'id="name" name="name"', 'name="every"'):
        assert field in page
    assert '<a href="/add" id="nav-add">Ajouter</a>' in page  # in every page's bar
    assert "<script>" not in page
    assert "style=" not in page


LOADED_BY_PAGES = """
import json, sys
from pathlib import Path
from test_security import client_for, web_context
client = client_for(web_context(Path(sys.argv[1])))
assert client.get("/").status_code == 200
assert client.get("/add").status_code == 200
print(json.dumps(sorted(name for name, module in sys.modules.items() if module)))
"""


def test_a_dashboard_that_adds_no_target_never_loads_the_link_readers(tmp_path: Path) -> None:
    # The use case, the link readers and the config editor (tomlkit) come with the first
    # preview: the pages and the form alone do not carry them.
    answer = subprocess.run(
        [sys.executable, "-c", LOADED_BY_PAGES, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([*sys.path])},
    )
    loaded = set(json.loads(answer.stdout.splitlines()[-1]))
    assert "creneau.web.admin" in loaded
    never = {
        "creneau.usecases.targets",
        "creneau.adding.links",
        "creneau.adding.config_file",
        "tomlkit",
    }
    assert never & loaded == set()


def test_without_the_config_files_path_the_form_says_it_is_unavailable(
    tmp_path: Path, server: SimulatorServer
) -> None:
    board = dashboard_on(tmp_path, original(server.url), known_file=False)
    try:
        page = board.client.get("/add").text
        assert "ne sait pas quel fichier de configuration modifier" in html.unescape(page)
        assert 'action="/add/preview"' not in page
        status, shown = board.preview(server.booking_url("1001"))
        assert status == 409
        assert "ne sait pas quel fichier de configuration modifier" in shown
        assert board.post("/targets/bobigny/pause")[0] == 409
        target_page = html.unescape(board.client.get("/targets/bobigny").text)
        assert 'action="/targets/bobigny/pause"' not in target_page
        assert "ne sait pas quel fichier de configuration modifier" in target_page
    finally:
        board.close()
    assert not server.hits


# --- preview, then save -----------------------------------------------------------------------


def test_an_ezbooking_link_is_previewed_then_saved_as_one_new_table(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    url = server.booking_url("1001")
    before = dashboard.path.read_text(encoding="utf-8")
    status, page = dashboard.preview(url)
    assert status == 200, page
    assert dashboard.path.read_text(encoding="utf-8") == before  # a preview writes nothing
    assert '<section class="card" id="seen" data-status="none">' in page
    assert "3 guichets : la page indique qu'il n'y a aucun créneau libre" in page
    desks = re.findall(
        r'<input type="checkbox" name="choice" value="(\d+)">\s*<span class="option-body">'
        r'<span><span class="desk-id">\1</span> <span class="desk-label">([^<]+)</span></span>\s*'
        r'<span><span class="status status-none">aucun créneau</span> '
        r'<span class="muted">0 créneau</span>',
        page,
    )
    assert desks == [
        ("14006", "Guichet 1 - Remise de titre"),
        ("14007", "Guichet 2 - Remise de titre"),
        ("14012", "Guichet 5 - Étudiants"),
    ]
    assert '<ul class="desks"' not in page  # each desk once, as a choice
    assert f'value="{NANTERRE}"' in page  # the name proposed from the page
    table = (
        "[[target]]\n"
        f'name = "{NANTERRE}"\n'
        'system = "ezbooking"\n'
        f'url = "{url}"\n'
        'every = "2s"\n'
        'jitter = "2s"\n'
        "desks = []  # empty = all; seen: 14006, 14007, 14012\n"
        "guarded = true  # added from the dashboard: every request passes the SSRF guard\n"
    )
    assert f'<pre class="toml" id="table">{table}</pre>' in page
    # The check is recorded as an ad-hoc one, under the page's public link.
    assert set(dashboard.store.last_checks()) == {public_link(url)}

    status, _, location = dashboard.save(page, name=NANTERRE, every="2s")
    assert (status, location) == (303, f"/targets/{NANTERRE}")
    assert dashboard.path.read_text(encoding="utf-8") == with_table(before, table)
    assert files_beside(dashboard.path) == ["config.toml"]
    assert [t.name for t in dashboard.context.config.targets] == ["bobigny", NANTERRE]
    target_page = html.unescape(dashboard.client.get(location).text)
    assert '<p class="muted" id="first-check">En attente de sa première vérification.</p>' in (
        target_page
    )
    overview = dashboard.client.get("/").text
    assert f'href="/targets/{NANTERRE}"' in overview


def test_the_desks_ticked_are_the_ones_watched(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    before = dashboard.path.read_text(encoding="utf-8")
    status, page = dashboard.preview(server.booking_url("1001"))
    assert status == 200
    status, _, location = dashboard.save(
        page, name="nanterre", every="10m", choice=["14012", "14007", "99999"]
    )
    assert (status, location) == (303, "/targets/nanterre")
    table = (
        "[[target]]\n"
        'name = "nanterre"\n'
        'system = "ezbooking"\n'
        f'url = "{server.booking_url("1001")}"\n'
        'every = "10m"\n'
        'jitter = "30s"\n'
        'desks = ["14007", "14012"]  # seen: 14006, 14007, 14012\n'
        "guarded = true  # added from the dashboard: every request passes the SSRF guard\n"
    )
    assert dashboard.path.read_text(encoding="utf-8") == with_table(before, table)


def test_an_html_page_offers_what_to_look_for_and_the_person_picks_one(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    url = f"{server.url}/plages"
    before = dashboard.path.read_text(encoding="utf-8")
    status, page = dashboard.preview(url, name="plages")
    assert status == 200, page
    assert "Page lue : HTTP 200, " in page
    options = re.findall(
        r'<label class="option" id="option-(\d)">.*?<code>([^<]*)</code>', page, re.S
    )
    assert options[:2] == [
        ("1", 'slot_selector = "li.plage.libre"'),
        ("2", 'slot_selector = "li.plage.libre a"'),
    ]
    assert '<input type="radio" name="option" value="1" checked>' in page
    assert "lit : créneaux libres — 3 créneaux : " in page
    assert '<pre class="toml"' not in page  # what is written depends on the choice

    status, _, location = dashboard.save(page, name="plages", every="2s", option="2")
    assert (status, location) == (303, "/targets/plages")
    table = (
        "[[target]]\n"
        'name = "plages"\n'
        'system = "html"\n'
        f'url = "{url}"\n'
        'every = "2s"\n'
        'jitter = "2s"\n'
        'slot_selector = "li.plage.libre a"\n'
        "guarded = true  # added from the dashboard: every request passes the SSRF guard\n"
    )
    assert dashboard.path.read_text(encoding="utf-8") == with_table(before, table)


def test_a_page_that_could_not_be_read_cannot_be_saved(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    before = dashboard.path.read_bytes()
    status, page = dashboard.preview(f"{server.url}/refus")
    assert status == 200
    assert 'data-status="blocked"' in page
    assert "La page n'a pas pu être lue" in page
    assert 'id="save"' not in page
    status, shown, _ = dashboard.save(page, name="refus", every="2s", option="1")
    assert status == 400
    assert "La page n'a pas pu être lue" in shown
    assert dashboard.path.read_bytes() == before


def test_a_config_mistake_is_one_line_on_the_page_and_nothing_is_written(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    before = dashboard.path.read_bytes()
    status, page = dashboard.preview(server.booking_url("1001"))
    assert status == 200
    status, shown, location = dashboard.save(page, name="bobigny", every="2s")
    assert (status, location) == (400, "")
    problem = re.search(r'<p class="card problem" id="problem">([^<]*)</p>', shown)
    assert problem, shown
    assert problem.group(1) == f'{dashboard.path}: target "bobigny": the name is used twice'
    assert dashboard.path.read_bytes() == before
    assert files_beside(dashboard.path) == ["config.toml"]
    assert 'value="bobigny"' in shown  # the form comes back as it was sent

    status, shown, _ = dashboard.save(page, name="nanterre", every="10")
    assert status == 400
    assert (
        '<p class="card problem" id="problem">Vérifier toutes les : attendu une durée comme '
        "« 90s », « 5m » ou « 1h » (reçu « 10 »).</p>"
    ) in shown
    assert dashboard.path.read_bytes() == before


@pytest.mark.parametrize(
    ("link", "line"),
    [
        ("", "Collez le lien de la page de rendez-vous (https://…)."),
        (
            "ftp://example.org/rdv",
            "Ce n'est pas une adresse web : attendu https://… (reçu « ftp://example.org/rdv »).",
        ),
    ],
)
def test_a_link_that_is_not_one_is_said_in_one_line(
    dashboard: Dashboard, server: SimulatorServer, link: str, line: str
) -> None:
    status, page = dashboard.preview(link)
    assert status == 400
    assert f'<p class="problem" id="problem">{line}</p>' in page
    assert not server.hits


def test_a_preview_expires_and_belongs_to_its_session(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    status, page = dashboard.preview(server.booking_url("1001"))
    assert status == 200
    before = dashboard.path.read_bytes()
    stranger = TestClient(create_app(dashboard.context), base_url="http://127.0.0.1:8765")
    stranger.get("/healthz")
    signer = dashboard.context.signer
    session = signer.session_of(stranger.cookies.get("creneau_session"))
    assert session is not None
    found = PREVIEW_KEY.search(page)
    assert found
    answer = stranger.post(
        "/add/save",
        data={"csrf": signer.csrf_token(session), "preview": found.group(1), "name": "x"},
    )
    assert answer.status_code == 400
    assert "Cet aperçu a expiré : collez le lien à nouveau." in html.unescape(answer.text)
    assert dashboard.path.read_bytes() == before


# --- the SSRF guard -----------------------------------------------------------------------------


def test_a_loopback_link_is_refused_unless_private_targets_are_allowed(
    tmp_path: Path, server: SimulatorServer
) -> None:
    board = dashboard_on(tmp_path, original(server.url, web=""))
    try:
        before = board.path.read_bytes()
        status, page = board.preview(server.booking_url("1001"))
    finally:
        board.close()
    assert status == 400
    port = server.url.rsplit(":", 1)[1]
    assert (
        '<p class="problem" id="problem">Lien refusé, rien n\'a été demandé au site : '
        "127.0.0.1 est une adresse de bouclage (loopback) ([web] allow_private_targets = true "
        "l'autorise).</p>"
    ) in page
    assert f'value="http://127.0.0.1:{port}/booking/create/1001"' in page  # kept in the form
    assert not server.hits  # refused before any request
    assert board.path.read_bytes() == before


@pytest.mark.parametrize("dot", ["\u3002", "\uff0e", "\uff61"])
def test_a_loopback_link_written_with_other_full_stops_is_refused_too(
    tmp_path: Path, server: SimulatorServer, dot: str
) -> None:
    board = dashboard_on(tmp_path, original(server.url, web=""))
    written = "127.0.0.1".replace(".", dot)
    try:
        before = board.path.read_bytes()
        status, page = board.preview(server.booking_url("1001").replace("127.0.0.1", written))
    finally:
        board.close()
    assert status == 400
    assert (
        '<p class="problem" id="problem">Lien refusé, rien n\'a été demandé au site : '
        f"127.0.0.1 (écrit {written}) est une adresse de bouclage (loopback) "
        "([web] allow_private_targets = true l'autorise).</p>"
    ) in page
    assert not server.hits  # refused before any request
    assert board.path.read_bytes() == before


def test_a_link_with_a_user_name_is_refused_even_when_private_targets_are_allowed(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    link = server.url.replace("http://", "http://me@") + "/booking/create/1001"
    status, page = dashboard.preview(link)
    assert status == 400
    assert (
        "Lien refusé, rien n'a été demandé au site : le lien porte un nom d'utilisateur ou un "
        "mot de passe (user@hôte) : refusé." in page
    )
    assert not server.hits


# --- pause, resume, remove ----------------------------------------------------------------------


def test_pause_resume_and_remove_edit_only_their_table(
    dashboard: Dashboard, server: SimulatorServer
) -> None:
    page = dashboard.preview(server.booking_url("1002"))[1]
    assert dashboard.save(page, name="naturalisation", every="2s")[0] == 303
    text = dashboard.path.read_text(encoding="utf-8")

    assert dashboard.post("/targets/bobigny/pause") == (303, "/targets/bobigny")
    paused = text.replace('# desks = ["16001"]\n', 'paused = true\n# desks = ["16001"]\n')
    assert dashboard.path.read_text(encoding="utf-8") == paused
    assert dashboard.context.config.targets[0].paused
    target_page = html.unescape(dashboard.client.get("/targets/bobigny").text)
    assert "En pause : creneau ne vérifie pas cette cible." in target_page
    assert 'action="/targets/bobigny/resume"' in target_page
    assert 'action="/targets/bobigny/pause"' not in target_page
    overview = dashboard.client.get("/").text
    assert '<span class="status status-paused">en pause</span>' in overview

    assert dashboard.post("/targets/bobigny/resume") == (303, "/targets/bobigny")
    assert dashboard.path.read_text(encoding="utf-8") == text
    target_page = dashboard.client.get("/targets/bobigny").text
    assert 'action="/targets/bobigny/pause"' in target_page
    assert 'action="/targets/bobigny/remove"' in target_page

    assert dashboard.post("/targets/bobigny/remove") == (303, "/")
    assert dashboard.path.read_text(encoding="utf-8") == text.replace(
        text[text.index("# Bobigny") : text.index('[[target]]\nname = "naturalisation"')], ""
    )
    assert [t.name for t in dashboard.context.config.targets] == ["naturalisation"]
    assert [t.name for t in load_config(dashboard.path).targets] == ["naturalisation"]
    assert dashboard.client.get("/targets/bobigny").status_code == 404
    assert dashboard.post("/targets/bobigny/pause")[0] == 404


def test_removing_the_last_target_is_one_line_and_writes_nothing(dashboard: Dashboard) -> None:
    before = dashboard.path.read_bytes()
    answer = dashboard.client.post("/targets/bobigny/remove", data={"csrf": dashboard.csrf})
    assert answer.status_code == 400
    assert (
        f"<p>{dashboard.path}: target: no target to watch (add a [[target]] table)</p>"
        in html.unescape(answer.text)
    )
    assert dashboard.path.read_bytes() == before


# --- CSRF and the login -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/add/preview", "/add/save", "/targets/bobigny/pause", "/targets/bobigny/resume",
     "/targets/bobigny/remove"],
)  # fmt: skip
def test_a_post_without_the_csrf_token_is_refused(
    dashboard: Dashboard, server: SimulatorServer, path: str
) -> None:
    before = dashboard.path.read_bytes()
    data = {"url": server.booking_url("1001"), "name": "x", "preview": "x"}
    answer = dashboard.client.post(path, data=data)
    assert answer.status_code == 403
    assert dashboard.client.post(path, data={**data, "csrf": "wrong"}).status_code == 403
    assert dashboard.path.read_bytes() == before
    assert not server.hits


def test_a_password_sends_the_forms_to_the_login_first(
    tmp_path: Path, server: SimulatorServer
) -> None:
    secret = hash_password("correct horse battery")
    web = f'\n[web]\nallow_private_targets = true\npassword = "{secret}"\n'
    board = dashboard_on(tmp_path, original(server.url, web=web))
    try:
        before = board.path.read_bytes()
        for path in ("/add", "/add/preview", "/targets/bobigny/pause"):
            method = board.client.get if path == "/add" else board.client.post
            answer = method(path, follow_redirects=False)
            assert (answer.status_code, answer.headers["location"]) == (
                303,
                f"/login?next={path}",
            )
        assert board.path.read_bytes() == before
    finally:
        board.close()
    assert not server.hits


# --- the alert channels -------------------------------------------------------------------------

TWO_CHANNELS = (
    '[[notify]]\nname = "phone"  # my phone\nurls = ["json://127.0.0.1:9/"]\n',
    '[[notify]]\nname = "phone"  # my phone\nurls = ["json://127.0.0.1:9/"]\n\n'
    '[[notify]]\nname = "mail"\nurls = ["json://127.0.0.1:9/mail"]\n',
)
CHANNEL_BOX = re.compile(r'<input type="checkbox" name="notify" value="([^"]+)"( checked)?>')


@pytest.fixture
def two_channels(tmp_path: Path, server: SimulatorServer) -> Iterator[Dashboard]:
    board = dashboard_on(tmp_path, original(server.url).replace(*TWO_CHANNELS))
    yield board
    board.close()


def test_the_form_offers_the_configured_channels_and_writes_those_ticked(
    two_channels: Dashboard, server: SimulatorServer
) -> None:
    board = two_channels
    form = board.client.get("/add").text
    assert CHANNEL_BOX.findall(form) == [("phone", ""), ("mail", "")]
    assert "Si aucun canal n'est coché, les alertes partent par tous." in html.unescape(form)

    before = board.path.read_text(encoding="utf-8")
    status, page = board.preview(server.booking_url("1001"), notify=("mail",))
    assert status == 200, page
    assert CHANNEL_BOX.findall(page) == [("phone", ""), ("mail", " checked")]
    assert 'jitter = "2s"\nnotify = ["mail"]\ndesks = []' in page  # the table to be written

    status, _, location = board.save(page, name="nanterre", every="2s", notify="mail")
    assert (status, location) == (303, "/targets/nanterre")
    written = board.path.read_text(encoding="utf-8")
    assert written.startswith(before.split("# the simulator may be asked often")[0])
    assert '\njitter = "2s"\nnotify = ["mail"]\ndesks = []' in written
    [added] = [t for t in load_config(board.path).targets if t.name == "nanterre"]
    assert added.notify == ["mail"]
    assert board.context.config.channels_for(added)[0].name == "mail"


def test_no_channel_ticked_writes_no_notify_key(
    two_channels: Dashboard, server: SimulatorServer
) -> None:
    status, page = two_channels.preview(server.booking_url("1001"))
    assert status == 200
    assert CHANNEL_BOX.findall(page) == [("phone", ""), ("mail", "")]
    assert two_channels.save(page, name="nanterre", every="2s")[0] == 303
    [added] = [t for t in load_config(two_channels.path).targets if t.name == "nanterre"]
    assert added.notify == []  # every channel


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("fr", "Aucun canal d'alerte nommé « sms » (canaux : phone, mail)."),
        ("en", 'No alert channel named "sms" (channels: phone, mail).'),
    ],
)
def test_a_channel_not_configured_is_refused_in_one_line(
    tmp_path: Path, server: SimulatorServer, language: str, line: str
) -> None:
    text = original(server.url).replace(*TWO_CHANNELS)
    board = dashboard_on(tmp_path, in_language(text, language))
    try:
        before = board.path.read_bytes()
        status, page = board.preview(server.booking_url("1001"), notify=("sms",))
        assert status == 400
        assert f'<p class="problem" id="problem">{line}</p>' in page
        assert CHANNEL_BOX.findall(page) == [("phone", ""), ("mail", "")]
        assert not server.hits  # refused before any request

        status, page = board.preview(server.booking_url("1001"), notify=("phone",))
        assert status == 200
        status, shown, _ = board.save(page, name="nanterre", every="2s", notify=["phone", "sms"])
        assert status == 400
        assert f'<p class="card problem" id="problem">{line}</p>' in shown
        assert board.path.read_bytes() == before
    finally:
        board.close()


# --- the refusals, in the configured language --------------------------------------------------


def in_language(text: str, language: str) -> str:
    return text.replace("[creneau]\n", f'[creneau]\nlanguage = "{language}"\n', 1)


PREVIEW_REFUSALS = {
    "fr": {
        "": "Collez le lien de la page de rendez-vous (https://…).",
        "mailto:rdv@example.org": (
            "Ce n'est pas une adresse web : attendu https://… (reçu « mailto:rdv@example.org »)."
        ),
        "https://rendezvouspasseport.ants.gouv.fr/": (
            "https://rendezvouspasseport.ants.gouv.fr/ : le hub de l'ANTS cherche autour d'un "
            "lieu pour un motif, et ce lien ne dit pas latitude, longitude, reason. Ajoutez la "
            "cible en ligne de commande : creneau add URL --set latitude=48.85 --set "
            'longitude=2.35 --set reason=PASSPORT (et le jeton du hub, token = "${ANTS_TOKEN}").'
        ),
        "x" * 2001: "Le lien dépasse 2000 caractères.",
    },
    "en": {
        "": "Paste the link of the booking page (https://…).",
        "mailto:rdv@example.org": (
            'Not a web address: expected https://… (got "mailto:rdv@example.org").'
        ),
        "https://rendezvouspasseport.ants.gouv.fr/": (
            "https://rendezvouspasseport.ants.gouv.fr/: the ANTS hub searches around a place "
            "for a reason, and this link does not say latitude, longitude, reason. Add the "
            "target on the command line: creneau add URL --set latitude=48.85 --set "
            'longitude=2.35 --set reason=PASSPORT (and the hub\'s token, token = "${ANTS_TOKEN}").'
        ),
        "x" * 2001: "The link is longer than 2000 characters.",
    },
}
EVERY_REFUSALS = {
    "fr": (
        "Vérifier toutes les : attendu une durée comme « 90s », « 5m » ou « 1h » (reçu « 10 »).",
        "Vérifier toutes les : durée bien trop longue (au plus 36600d).",
    ),
    "en": (
        'Check every: expected a duration such as "90s", "5m" or "1h" (got "10").',
        "Check every: far too long (at most 36600d).",
    ),
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_what_stops_a_preview_is_said_in_the_configured_language(
    tmp_path: Path, server: SimulatorServer, language: str
) -> None:
    board = dashboard_on(tmp_path, in_language(original(server.url), language))
    try:
        for link, line in PREVIEW_REFUSALS[language].items():
            status, page = board.preview(link)
            assert status == 400
            assert f'<p class="problem" id="problem">{line}</p>' in page, link
        not_a_duration, too_long = EVERY_REFUSALS[language]
        for every, line in (("10", not_a_duration), ("99999999d", too_long)):
            status, page = board.preview(server.booking_url("1001"), every=every)
            assert status == 400
            assert f'<p class="problem" id="problem">{line}</p>' in page
    finally:
        board.close()
    assert not server.hits


EDITOR_REFUSALS = {
    "fr": (
        "{file} : fichier introuvable (partez de config.example.toml).",
        "{file} : erreur de syntaxe TOML (",
        "{file} : aucune cible nommée « bobigny » (cibles : renamed).",
    ),
    "en": (
        "{file}: no such file (start from config.example.toml).",
        "{file}: TOML syntax error (",
        '{file}: no target named "bobigny" (targets: renamed).',
    ),
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_what_the_config_editor_refuses_is_said_in_the_configured_language(
    tmp_path: Path, server: SimulatorServer, language: str
) -> None:
    """The file changed by hand under the dashboard: gone, broken, the target renamed."""
    text = in_language(original(server.url), language)
    board = dashboard_on(tmp_path, text)
    path = board.path
    gone, broken, renamed = (line.format(file=path) for line in EDITOR_REFUSALS[language])
    try:
        path.unlink()
        assert pause_page(board) == (400, gone)

        path.write_text(text + "\n[[target]\n", encoding="utf-8")
        status, line = pause_page(board)
        assert status == 400
        assert line.startswith(broken)

        path.write_text(text.replace('name = "bobigny"', 'name = "renamed"'), encoding="utf-8")
        assert pause_page(board) == (400, renamed)
    finally:
        board.close()
    assert not server.hits


def pause_page(board: Dashboard) -> tuple[int, str]:
    """Pause bobigny: the answer's status and the line it says."""
    answer = board.client.post("/targets/bobigny/pause", data={"csrf": board.csrf})
    found = re.search(r"<h1>\d+</h1>\s*<p>([^<]*)</p>", answer.text)
    assert found, answer.text
    return answer.status_code, html.unescape(found.group(1))


def test_every_refusal_has_its_words_in_both_languages() -> None:
    from string import Formatter

    from creneau.web.pages.texts import PROBLEMS

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert PROBLEMS["fr"].keys() == PROBLEMS["en"].keys()
    for code, french in PROBLEMS["fr"].items():
        assert fields(french) == fields(PROBLEMS["en"][code]), code
