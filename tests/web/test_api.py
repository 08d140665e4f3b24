"""`/api/v1`: the same JSON as the command line's `--json` on the same database (the CLI is
run through click's CliRunner and compared), the query parameters of `creneau history`, and
the bearer token or the dashboard's login in front of it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_metrics import NOW, START, URL, Live, dashboard, dashboard_for, write_history

from creneau.cli import cli
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from creneau.web.api import NEVER_CHECKED

TOKEN = "api-token-0123456789abcdef"


def cli_json(*args: str) -> list[dict[str, Any]]:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    write_history(dashboard(tmp_path).store)
    return tmp_path


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"target": "nanterre"},
        {"target": "lyon"},
        {"guichet": "14007"},
        {"guichet": "Guichet 2 - Remise de titre"},
        {"since": "2030-03-04", "until": "2030-03-04"},
        {"since": "2030-03-05"},
        {"since": (START + timedelta(minutes=30)).isoformat()},
        {"until": "2030-03-04T08:30"},  # local time: 07:30 UTC, before the release
    ],
)
def test_releases_are_what_the_cli_prints(recorded: Path, query: dict[str, str]) -> None:
    client = dashboard(recorded).client
    answer = client.get("/api/v1/releases", params=query)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    options = [part for name, given in query.items() for part in (f"--{name}", given)]
    config = str(recorded / "config.toml")
    expected = cli_json("history", "releases", "--config", config, "--json", *options)
    assert answer.json() == expected


def test_the_known_history_has_one_release(recorded: Path) -> None:
    answer = dashboard(recorded).client.get("/api/v1/releases").json()
    assert [(release["target"], release["slot_count"]) for release in answer] == [("nanterre", 2)]
    assert answer[0]["seen_at"] == (START + timedelta(minutes=40)).isoformat()


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"since": "yesterday"}, "since: expected a day (YYYY-MM-DD) or an ISO 8601 date"),
        ({"until": "2030-13-01"}, "until: expected a day (YYYY-MM-DD) or an ISO 8601 date"),
        ({"since": "2030-03-05", "until": "2030-03-04"}, "since 2030-03-05 is not before"),
    ],
)
def test_a_wrong_period_is_a_400(recorded: Path, query: dict[str, str], problem: str) -> None:
    answer = dashboard(recorded).client.get("/api/v1/releases", params=query)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(problem)


def test_targets_from_their_last_recorded_check(recorded: Path) -> None:
    client = dashboard(recorded, live=Live()).client
    listed = client.get("/api/v1/targets").json()
    assert [target["target"] for target in listed] == ["nanterre", "lyon"]
    nanterre, lyon = listed
    # The last check got no answer: it showed no slot (the two of the release stay open).
    assert nanterre == {
        "target": "nanterre",
        "system": "ezbooking",
        "url": URL,
        "status": "error",
        "http_status": None,
        "checked_at": (START + timedelta(minutes=100)).isoformat(),
        "duration_ms": 31000,
        "detail": "",
        "detail_code": None,
        "detail_params": None,
        "guichets": [],
        "slots": [],
        # What its site announced two checks ago (test_metrics.ANNOUNCED), and the burst at
        # it: 2 requests a check (the median of its last checks'), the default budget.
        "next_release": {
            "at": "2030-03-05T10:00:00+01:00",
            "source": "announced",
            "burst": {
                "at": "2030-03-05T10:00:00+01:00",
                "checks": 9,
                "requests": 18,
                "per_minute": 6,
                "burst": 10,
                "on_time": 9,
                "fits": True,
            },
        },
    }
    assert {key: lyon[key] for key in NEVER_CHECKED} == dict.fromkeys(NEVER_CHECKED)
    assert (lyon["guichets"], lyon["slots"], lyon["target"]) == ([], [], "lyon")
    assert lyon["next_release"] is None
    assert client.get("/api/v1/targets/lyon").json() == lyon
    missing = client.get("/api/v1/targets/gone")
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "no target of that name in the config"},
    )


def test_a_target_is_what_creneau_check_json_printed(tmp_path: Path) -> None:
    prefecture = Prefecture(default_bookings())
    prefecture.release("1001", "14007", 3)
    with SimulatorServer(prefecture) as server:
        url = server.booking_url("1001")
        config = tmp_path / "config.toml"
        config.write_text(
            '[creneau]\ncontact = "t@example.org"\ndatabase = "sqlite:///c.db"\n'
            f'[[target]]\nname = "sim"\nsystem = "ezbooking"\nurl = "{url}"\n'
            '[hosts."127.0.0.1"]\nper_minute = 600\nburst = 60\n'
        )
        (printed,) = cli_json("check", "sim", "--config", str(config), "--json")
    shown = dashboard_for(config).client.get("/api/v1/targets/sim").json()
    assert printed["status"] == "available"
    assert len(printed["slots"]) == 3
    # The store keeps the check and the slots it showed, not each guichet's answer: the
    # guichets that said "no slot" are in the detail only.
    with_slots = [guichet for guichet in printed["guichets"] if guichet["slots"]]
    assert shown == {**printed, "guichets": with_slots, "next_release": None}
    assert [guichet["id"] for guichet in with_slots] == ["14007"]


def test_the_api_token_is_required_when_set(recorded: Path) -> None:
    client = dashboard(recorded, f'api_token = "{TOKEN}"').client
    for path in ("/api/v1/targets", "/api/v1/targets/nanterre", "/api/v1/releases"):
        for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": TOKEN}):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 401, (path, headers)
            assert answer.headers["www-authenticate"] == 'Bearer realm="creneau"'
            assert list(answer.json()) == ["error"]
        client = dashboard(recorded, f'api_token = "{TOKEN}"').client  # a fresh limit
        ok = client.get(path, headers={"authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200


def test_without_a_token_the_api_follows_the_dashboard_login(recorded: Path) -> None:
    client = dashboard(recorded, 'password = "correct horse 42"').client
    assert client.get("/api/v1/targets").status_code == 401
    assert client.post("/login", data={"password": "correct horse 42"}).status_code == 303
    assert client.get("/api/v1/targets").status_code == 200
    assert dashboard(recorded / "open").client.get("/api/v1/releases").status_code == 200


def test_answers_are_never_cached(recorded: Path) -> None:
    answer = dashboard(recorded).client.get("/api/v1/targets")
    assert answer.headers["cache-control"] == "no-store"
    assert NOW > START
