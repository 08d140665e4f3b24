"""`/public/…`: nothing unless `[web] public = true`; then the release history of each target
as HTML (French or English), JSON and CSV in the command line's shapes, an Atom feed with
stable ids; and, over every route this part of the dashboard adds, no secret of the config."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_metrics import (
    ANNOUNCED,
    NOW,
    PARIS,
    PHONE,
    SLOTS,
    START,
    URL,
    Live,
    dashboard,
    write_history,
)

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.results import CheckResult, GuichetResult, Slot, Status

ATOM = "{http://www.w3.org/2005/Atom}"
FILES = ("heatmap.svg", "data.json", "releases.csv", "heatmap.csv", "feed.atom")
PASSWORD = "correct horse battery 42"
API_TOKEN = "api-token-0123456789abcdef"
METRICS_TOKEN = "metrics-token-fedcba9876543210"
SITE_KEY = "site-key-5f4dcc3b5aa765d6"


def public_paths(name: str) -> list[str]:
    return [f"/public/{name}", *(f"/public/{name}/{file}" for file in FILES)]


def cli_output(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    write_history(dashboard(tmp_path).store)
    return tmp_path


def test_nothing_is_public_unless_asked(recorded: Path) -> None:
    client = dashboard(recorded).client
    for path in ["/public/", *public_paths("nanterre"), *public_paths("lyon")]:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "nanterre" not in answer.text


def test_the_index_lists_every_target_with_its_last_release(recorded: Path) -> None:
    client = dashboard(recorded, "public = true").client
    answer = client.get("/public/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["cache-control"] == "private, max-age=60"
    page = answer.text
    assert '<html lang="fr">' in page
    assert 'href="/public/nanterre"' in page
    assert 'href="/public/lyon"' in page
    assert "lundi 4 mars 2030 à 08:40 — 2 créneaux mis en ligne — Guichet 2" in page
    assert "aucune encore" in page  # lyon
    assert client.get("/public/nanterre").text.count("jeudi 7 mars") == 1  # the dates offered
    assert "/outbox" not in page  # no private page is linked
    assert "/hosts" not in page
    assert client.get("/public/nowhere").status_code == 404


def test_a_target_page_in_english_under_a_sub_path(recorded: Path) -> None:
    board = dashboard(recorded, "public = true", settings='language = "en"')
    client = TestClient(board.client.app, base_url="http://127.0.0.1:8765", root_path="/c")
    page = client.get("/public/nanterre").text
    assert '<html lang="en">' in page
    assert "Release probability (weekday × hour)" in page
    assert '<img src="/c/public/nanterre/heatmap.svg"' in page
    assert 'href="/c/static/creneau.css"' in page
    assert "Monday 4 March 2030, 08:40" in page
    assert "after a check at 08:20" in page
    assert 'href="/c/public/nanterre/feed.atom"' in page
    svg = client.get("/public/nanterre/heatmap.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert ET.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"
    empty = client.get("/public/lyon").text
    assert "No release in the last 28 days." in empty
    assert "heatmap.svg" not in empty.split("<h2>")[2]  # no drawing without an observed hour


def test_data_and_csv_are_the_command_line_shapes(recorded: Path) -> None:
    client = dashboard(recorded, "public = true").client
    config = str(recorded / "config.toml")
    since = (NOW - timedelta(days=28)).isoformat()
    scope = ("--config", config, "--target", "nanterre")
    data = client.get("/public/nanterre/data.json").json()
    releases = cli_output("history", "releases", *scope, "--since", since, "--json")
    cells = cli_output("history", "heatmap", *scope, "--json")
    assert data["releases"] == [json.loads(line) for line in releases.splitlines()]
    assert data["heatmap"]["cells"] == [json.loads(line) for line in cells.splitlines()]
    assert (data["target"], data["timezone"]) == ("nanterre", "Europe/Paris")
    assert data["site_says"] == ANNOUNCED.as_facts()  # what its last checks read
    assert (data["heatmap"]["releases"], data["heatmap"]["observed_hours"]) == (1, 2)
    csv = client.get("/public/nanterre/releases.csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text == cli_output("history", "releases", *scope, "--since", since, "--csv")
    heatmap = client.get("/public/nanterre/heatmap.csv").text
    assert heatmap == cli_output("history", "heatmap", *scope, "--csv")


def test_what_the_site_says_of_its_releases(recorded: Path) -> None:
    board = dashboard(recorded, "public = true")
    said = {"last_release_at": "2030-03-04T08:00:00+01:00", "last_release_week": "2030-03-11"}
    checked = CheckResult(
        "nanterre", "ezbooking", URL, Status.NONE, NOW - timedelta(minutes=5), facts=said
    )
    record(board.store, checked, Routing(PARIS))
    page = board.client.get("/public/nanterre").text
    assert (
        "Le site indique : dernière mise en ligne le lundi 4 mars 2030 à 08:00, "
        "pour la semaine du 11/03/2030"
    ) in page
    assert board.client.get("/public/nanterre/data.json").json()["site_says"] == said


def test_the_feed_is_atom_with_one_stable_entry_per_release(recorded: Path) -> None:
    client = dashboard(recorded, "public = true").client
    answer = client.get("/public/nanterre/feed.atom")
    assert answer.headers["content-type"] == "application/atom+xml"
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}updated") == "2030-03-04T07:40:00Z"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "self": "http://127.0.0.1:8765/public/nanterre/feed.atom",
        "alternate": "http://127.0.0.1:8765/public/nanterre",
    }
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "2 créneaux mis en ligne — Guichet 2 - Remise de titre"
    assert entry.findtext(f"{ATOM}updated") == "2030-03-04T07:40:00Z"
    entry_id = entry.findtext(f"{ATOM}id") or ""
    assert entry_id.startswith("urn:uuid:")
    # The same ids served from elsewhere, in another language, after another release.
    moved = dashboard(
        recorded, 'public = true\npublic_url = "https://asso.example/creneau"',
        settings='language = "en"',
    )  # fmt: skip
    later = START + timedelta(hours=3)
    for minutes, shown in ((0, ()), (20, ("14006",))):
        slots = tuple(
            Slot(SLOTS[0].start + timedelta(days=1), "14006", "Guichet 1", "99") for _ in shown
        )
        result = CheckResult(
            "nanterre", "ezbooking", URL, Status.AVAILABLE if slots else Status.NONE,
            later + timedelta(minutes=minutes),
            guichets=(GuichetResult("14006", "Guichet 1", Status.NONE, slots),),
        )  # fmt: skip
        record(moved.store, result, Routing(PARIS))
    moved.clock[0] = later + timedelta(hours=1)
    again = ET.fromstring(moved.client.get("/public/nanterre/feed.atom").content)
    ids = [item.findtext(f"{ATOM}id") for item in again.findall(f"{ATOM}entry")]
    assert len(ids) == 2
    assert ids[1] == entry_id
    assert again.findtext(f"{ATOM}id") == feed.findtext(f"{ATOM}id")
    self_link = again.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == "https://asso.example/creneau/public/nanterre/feed.atom"


def test_public_pages_need_no_login_but_private_ones_still_do(recorded: Path) -> None:
    client = dashboard(recorded, f'public = true\npassword = "{PASSWORD}"').client
    assert client.get("/public/nanterre").status_code == 200
    assert client.get("/public/nanterre/feed.atom").status_code == 200
    assert client.get("/api/v1/targets").status_code == 401
    assert client.get("/metrics").status_code == 401


def test_no_secret_in_any_answer(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRENEAU_TEST_SITE_KEY", SITE_KEY)
    web = (
        f'public = true\npassword = "{PASSWORD}"\napi_token = "{API_TOKEN}"\n'
        f'metrics_token = "{METRICS_TOKEN}"'
    )
    board = dashboard(recorded, web, targets="nanterre lyon paris", live=Live())
    failing = CheckResult(
        "paris", "ezbooking", board.context.config.targets[2].url, Status.ERROR, NOW,
        detail=f"no complete answer from {board.context.config.targets[2].url} within 30s",
    )  # fmt: skip
    record(board.store, failing, Routing(PARIS))
    auth = {
        "/metrics": {"authorization": f"Bearer {METRICS_TOKEN}"},
        "/api/": {"authorization": f"Bearer {API_TOKEN}"},
    }
    paths = [
        "/metrics",
        "/api/v1/targets",
        "/api/v1/releases",
        "/public/",
        *(f"/api/v1/targets/{name}" for name in ("nanterre", "lyon", "paris")),
        *(path for name in ("nanterre", "lyon", "paris") for path in public_paths(name)),
    ]
    secrets = [PASSWORD, API_TOKEN, METRICS_TOKEN, SITE_KEY, PHONE, "hunter2-secret"]
    secrets.append("phone-token-123")
    seen = 0
    for path in paths:
        headers = next((given for prefix, given in auth.items() if path.startswith(prefix)), {})
        answer = board.client.get(path, headers=headers)
        assert answer.status_code == 200, path
        shown = answer.text + json.dumps(dict(answer.headers))
        for secret in secrets:
            assert secret not in shown, (path, secret)
        seen += len(answer.content)
    assert seen > 10_000
    paris = board.client.get("/api/v1/targets/paris", headers=auth["/api/"]).json()
    assert paris["url"] == "https://pref.example/booking/create/1002"
    assert (
        paris["detail"]
        == "no complete answer from https://pref.example/booking/create/1002?key=*** within 30s"
    )


def test_page_text_stays_text_in_every_form(recorded: Path) -> None:
    board = dashboard(recorded, "public = true")
    label = 'Guichet <b onclick="x()">&\x07=1+1'
    slots = (Slot(SLOTS[0].start + timedelta(days=2), "14009", label, "7"),)
    at = START + timedelta(hours=1, minutes=40)
    for minutes, shown in ((0, ()), (20, slots)):
        result = CheckResult(
            "nanterre", "ezbooking", URL, Status.AVAILABLE if shown else Status.NONE,
            at + timedelta(minutes=minutes),
            guichets=(GuichetResult("14009", label, Status.NONE, shown),),
        )  # fmt: skip
        record(board.store, result, Routing(PARIS))
    page = board.client.get("/public/nanterre").text
    assert "Guichet &lt;b onclick=&#34;x()&#34;&gt;&amp;\u2407=1+1" in page
    assert "<b onclick" not in page
    feed = ET.fromstring(board.client.get("/public/nanterre/feed.atom").content)
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")]
    assert titles[0] == '1 créneau mis en ligne — Guichet <b onclick="x()">&\u2407=1+1'
    csv = board.client.get("/public/nanterre/releases.csv").text
    assert ',"Guichet <b onclick=""x()"">&\u2407=1+1",' in csv
