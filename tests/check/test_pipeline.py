"""The pieces around a check: an unrecognised page is kept and alerted once with its path;
ad-hoc checks of any system from the command line; slots gone from a complete answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import watch_once
from creneau.cli import cli
from creneau.fetch.client import PoliteClient
from creneau.page import Page
from creneau.simulator.server import SimulatorServer
from creneau.sources import ezbooking
from creneau.sources.ants.simulator import SIMULATOR_TOKEN, AntsApi
from creneau.sources.ezbooking.simulator import Prefecture
from creneau.store import Store
from creneau.store.pages import OutsideFolder, keep_page

PARIS = ZoneInfo("Europe/Paris")


def test_archive_keeps_the_last_pages_of_a_target(tmp_path: Path) -> None:
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    paths = [
        keep_page(
            tmp_path,
            "nanterre/titres",
            Page("u", 200, f"<p>{i}</p>".encode()),
            at + timedelta(minutes=i),
            keep=3,
        )
        for i in range(5)
    ]
    folder = tmp_path / "nanterre_titres"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths[2:])
    assert paths[-1].read_bytes() == b"<p>4</p>"
    assert paths[-1].name.startswith("20261124T090400Z-")


async def test_a_changed_page_is_kept_and_alerted_once(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    store: Store,
    client: PoliteClient,
    tmp_path: Path,
) -> None:
    target = ezbooking.Target(name="asile", url=simulator.booking_url("1999"), every="1s")
    routing = Routing(PARIS, [Destination("phone", "json://127.0.0.1:9/")])
    at = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)  # both checks in the same second

    def now() -> datetime:
        return at

    first = await watch_once(target, client, store, routing, pages_dir=tmp_path, now=now)
    second = await watch_once(target, client, store, routing, pages_dir=tmp_path, now=now)
    assert [first.result.status.value, second.result.status.value] == ["unknown", "unknown"]
    alerts = [n for n in store.notifications() if n.kind == "trouble"]
    assert [n.payload["event"] for n in alerts] == ["page_changed"]
    saved = list((tmp_path / "asile").iterdir())
    assert [path.name[:17] for path in saved] == ["20261124T090000Z-"]  # one file, one second
    assert alerts[0].payload["saved_page"] == str(saved[0])
    assert b"app-rdv" in saved[0].read_bytes()  # the page as the site sent it


def test_ad_hoc_ants_check_with_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    api = AntsApi()
    point = next(iter(api.points))
    released = api.release(point, 2)
    with SimulatorServer(sites=[api]) as server:
        done = CliRunner().invoke(
            cli,
            [
                "check",
                "--system",
                "ants",
                "--url",
                f"{server.url}/api/SlotsFromPosition",
                "--set",
                "latitude=48.8589",
                "--set",
                "longitude=2.38",
                "--set",
                "reason=PASSPORT",
                "--set",
                f"token={SIMULATOR_TOKEN}",
                "--json",
            ],
        )
    assert done.exit_code == 0, done.output
    assert SIMULATOR_TOKEN not in done.output
    line = json.loads(done.stdout)
    assert line["status"] == "available"
    assert sorted(slot["start"] for slot in line["slots"]) == sorted(
        start.isoformat() for start in released
    )


@pytest.mark.parametrize("name", ["..", "."])
def test_the_kept_pages_writer_never_writes_outside_its_folder(tmp_path: Path, name: str) -> None:
    """Beside the pages folder are the database and the secret files: a name that leads
    there is refused (names are checked at load; this is the second lock)."""
    data = tmp_path / "data"
    pages = data / "pages"
    pages.mkdir(parents=True)
    for own in ("creneau.db", "web-secret", "url-keys"):
        (data / own).write_bytes(b"keep me")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with pytest.raises(OutsideFolder):
        keep_page(pages, name, Page("u", 200, b"<p>x</p>"), at, keep=0)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_kept_pages_writer_follows_no_link_out(tmp_path: Path) -> None:
    pages, elsewhere = tmp_path / "pages", tmp_path / "elsewhere"
    pages.mkdir()
    elsewhere.mkdir()
    (pages / "nanterre").symlink_to(elsewhere)
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with pytest.raises(OutsideFolder):
        keep_page(pages, "nanterre", Page("u", 200, b"<p>x</p>"), at)
    assert list(elsewhere.iterdir()) == []


def test_pruning_removes_only_kept_pages(tmp_path: Path) -> None:
    folder = tmp_path / "nanterre"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    paths = [
        keep_page(
            tmp_path, "nanterre", Page("u", 200, f"<p>{i}</p>".encode()), at + timedelta(i), keep=1
        )
        for i in range(2)
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted([paths[1].name, "notes.txt"])
