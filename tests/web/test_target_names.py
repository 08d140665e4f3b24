"""A target's name, typed in the dashboard's add form: the slug alphabet of the config
(`creneau.targets.NAME_PATTERN`) holds there too. `.`, `..`, an invisible joiner or a
look-alike letter is one line on the page; nothing is fetched, nothing written."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from creneau.config import load_config
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import default_prefecture
from creneau.store import DatabaseThread, Store
from creneau.targets import NAME_CHARACTERS, one_line
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret
from harness.config_text import commented_config

PROBLEM = re.compile(r'<p class="(?:card )?problem" id="problem">([^<]*)</p>')
PREVIEW_KEY = re.compile(r'name="preview" value="([^"]+)"')


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(default_prefecture()) as running:
        yield running


@pytest.fixture
def board(tmp_path: Path, server: SimulatorServer) -> Iterator[tuple[Path, TestClient, Signer]]:
    path = tmp_path / "config.toml"
    path.write_text(commented_config(server.url, "\n[web]\nallow_private_targets = true\n"))
    config = load_config(path)
    store = Store(config.creneau.database)
    store.upgrade()
    signer = Signer(load_or_create_secret(tmp_path / "keys"))
    context = WebContext(
        config,
        store,
        DatabaseThread(inline=True),
        signer,
        now=lambda: datetime.now(UTC),
        config_path=path,
    )
    client = TestClient(create_app(context), base_url="http://127.0.0.1:8765")
    client.get("/healthz")  # a dashboard without password gives a session at once
    yield path, client, signer
    client.close()
    store.close()


def csrf(client: TestClient, signer: Signer) -> str:
    session = signer.session_of(client.cookies.get("creneau_session"))
    assert session is not None
    return signer.csrf_token(session)


def problem_of(page: str) -> str:
    found = PROBLEM.search(page)
    assert found, page
    return html.unescape(found.group(1))


NAMES = ["..", ".", "a\u200db", "p\u0430ris", "-rf"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_outside_the_alphabet_is_refused_before_any_fetch(
    board: tuple[Path, TestClient, Signer], server: SimulatorServer, name: str
) -> None:
    path, client, signer = board
    before = path.read_bytes()
    answer = client.post(
        "/add/preview",
        data={
            "csrf": csrf(client, signer),
            "url": server.booking_url("1001"),
            "name": name,
            "every": "2s",
        },
    )
    assert answer.status_code == 400
    assert problem_of(answer.text) == one_line(
        f'{path}: target "{name}".name: may contain only {NAME_CHARACTERS} (got "{name}")'
    )
    assert server.hits == []
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", NAMES)
def test_a_name_outside_the_alphabet_is_refused_at_save(
    board: tuple[Path, TestClient, Signer], server: SimulatorServer, name: str
) -> None:
    path, client, signer = board
    before = path.read_bytes()
    token = csrf(client, signer)
    data = {"csrf": token, "url": server.booking_url("1001"), "name": "", "every": "2s"}
    preview = client.post("/add/preview", data=data)
    assert preview.status_code == 200
    found = PREVIEW_KEY.search(preview.text)
    assert found, preview.text
    data = {"csrf": token, "preview": found.group(1), "name": name, "every": "2s"}
    answer = client.post("/add/save", data=data, follow_redirects=False)
    assert answer.status_code == 400
    assert f".name: may contain only {NAME_CHARACTERS}" in problem_of(answer.text)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.suffix == ".toml") == ["config.toml"]
