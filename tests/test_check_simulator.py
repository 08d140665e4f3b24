"""Whole checks against the simulated préfecture: each case gives the right status and the
exact slots, and creneau never goes where booking happens."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from creneau.checker import run_check
from creneau.cli import cli
from creneau.http import PoliteClient
from creneau.results import Status
from creneau.simulator.pages import PARIS
from creneau.simulator.prefecture import Prefecture
from creneau.simulator.server import SimulatorServer
from creneau.sources import ezbooking


def target(simulator: SimulatorServer, booking: str, **fields: object) -> ezbooking.Target:
    return ezbooking.Target(
        name=f"b{booking}", url=simulator.booking_url(booking), every="5s", **fields
    )


def starts(epochs: list[int]) -> list[str]:
    return [datetime.fromtimestamp(epoch, PARIS).isoformat() for epoch in sorted(epochs)]


async def test_released_slots_are_found_exactly_with_their_desk(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    released = prefecture.release("1001", "14007", 3)
    result = await run_check(target(simulator, "1001"), client)
    assert result.status is Status.AVAILABLE
    assert [(s.guichet_id, s.guichet, s.start.isoformat(), s.key) for s in result.slots] == [
        ("14007", "Guichet 2 - Remise de titre", start, str(epoch))
        for start, epoch in zip(starts(released), sorted(released), strict=True)
    ]
    assert [(g.id, g.status) for g in result.guichets] == [
        ("14006", Status.NONE),
        ("14007", Status.AVAILABLE),
        ("14012", Status.NONE),
    ]
    assert prefecture.violations == []


async def test_only_the_configured_desks_are_read(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    prefecture.release("1001", "14006", 2)
    result = await run_check(target(simulator, "1001", desks=["14007", "99"]), client)
    assert [(g.id, g.status) for g in result.guichets] == [
        ("14007", Status.NONE),
        ("99", Status.UNKNOWN),
    ]
    assert result.guichets[1].detail == "desk 99 is not offered (offered: 14006, 14007, 14012)"
    assert result.status is Status.UNKNOWN  # never "none" while a desk is unaccounted for


async def test_a_one_desk_booking_reports_its_slots(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    result = await run_check(target(simulator, "1002"), client)
    free = sorted(prefecture.bookings["1002"].desks[0].free)
    assert result.status is Status.AVAILABLE
    assert [s.key for s in result.slots] == [str(epoch) for epoch in free]
    assert {s.guichet_id for s in result.slots} == {"1002"}


async def test_slots_beyond_the_weeks_read_are_not_reported(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    released = prefecture.release("1001", "14006", 200)  # fills both weeks
    one_week = await run_check(target(simulator, "1001", weeks=1), client)
    monday = datetime.now(PARIS).date().isocalendar()
    assert {s.start.isocalendar()[:2] for s in one_week.slots} == {monday[:2]} or (
        not one_week.slots and monday[2] >= 5
    )
    assert len(one_week.slots) < len(released)


@pytest.mark.parametrize(
    ("booking", "status", "http_status"),
    [
        ("1003", Status.NONE, 200),
        ("1403", Status.BLOCKED, 403),
        ("1429", Status.BLOCKED, 429),
        ("1502", Status.OVERLOADED, 502),
        ("1503", Status.OVERLOADED, 200),
        ("1410", Status.CLOSED, 200),
        ("1411", Status.CLOSED, 503),
        ("1999", Status.UNKNOWN, 200),
        ("1666", Status.CAPTCHA, 200),
        ("4040", Status.ERROR, 404),
    ],
)
async def test_each_case_has_its_status(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    client: PoliteClient,
    booking: str,
    status: Status,
    http_status: int,
) -> None:
    result = await run_check(target(simulator, booking), client)
    assert (result.status, result.http_status, result.slots) == (status, http_status, [])
    assert prefecture.violations == []


async def test_a_slot_taken_between_steps_does_not_crash_the_flow(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    prefecture.release("1001", "14012", 1)
    prefecture.take("1001", "14012")
    result = await run_check(target(simulator, "1001"), client)
    assert result.status is Status.NONE


def test_ad_hoc_check_prints_the_json_contract(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    released = prefecture.release("1001", "14012", 2)
    url = simulator.booking_url("1001")
    done = CliRunner().invoke(
        cli, ["check", "--system", "ezbooking", "--url", url, "--desk", "14012", "--json"]
    )
    assert done.exit_code == 0, done.output
    line = json.loads(done.stdout)
    assert {k: line[k] for k in ("target", "system", "url", "status", "http_status")} == {
        "target": url,
        "system": "ezbooking",
        "url": url,
        "status": "available",
        "http_status": 200,
    }
    assert line["guichets"][0]["id"] == "14012"
    assert line["slots"] == [
        {
            "guichet": "Guichet 5 - Étudiants",
            "guichet_id": "14012",
            "start": start,
            "key": str(epoch),
        }
        for start, epoch in zip(starts(released), sorted(released), strict=True)
    ]
    assert datetime.fromisoformat(line["checked_at"]).tzinfo is not None
    assert (tmp_path / "creneau" / "creneau.db").exists()  # recorded like any other check
