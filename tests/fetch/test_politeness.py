"""The breaker's states, robots.txt, and politeness that survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from conftest import english
from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import watch_once
from creneau.check.run import run_check
from creneau.cli import cli
from creneau.fetch.client import HostCoolingDown, PoliteClient
from creneau.fetch.politeness import BREAKER_FIRST_COOLDOWN, HostGuard, robots_allows
from creneau.results import Status
from creneau.simulator.server import SimulatorServer
from creneau.simulator.wire import Request, Response
from creneau.sources import ezbooking
from creneau.sources.ezbooking.simulator import Prefecture
from creneau.store import Store
from harness.transport import SimulatedInternet

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_probe_after_a_cool_down_goes_alone_and_closes_the_breaker() -> None:
    guard = HostGuard("prefecture.test")
    guard.refused(T0, 403, timedelta(0))
    [down] = guard.take_transitions()
    assert (down.kind, down.status, english(down.reason)) == ("down", Status.BLOCKED, "HTTP 403")
    assert guard.cooling(T0 + timedelta(minutes=4)) is not None
    after = T0 + timedelta(minutes=6)
    assert guard.cooling(after, starting_check=True) is None  # the probe
    other = guard.cooling(after, starting_check=True)
    assert other is not None
    assert english(other.reason) == "a probe check is in progress"
    guard.finish_check(Status.NONE, after)
    [up] = guard.take_transitions()
    assert up.kind == "up"
    assert guard.cooling(after, starting_check=True) is None


def test_a_failed_probe_doubles_the_cool_down_without_a_new_alert() -> None:
    guard = HostGuard("prefecture.test")
    for _ in range(3):
        guard.finish_check(Status.OVERLOADED, T0)
    assert len(guard.take_transitions()) == 1
    first = guard.state.open_until
    assert first is not None
    probe_at = first + timedelta(seconds=1)
    assert guard.cooling(probe_at, starting_check=True) is None
    guard.finish_check(Status.ERROR, probe_at)
    second = guard.state.open_until
    assert second is not None
    assert second - probe_at >= 2 * BREAKER_FIRST_COOLDOWN * 0.9
    assert guard.take_transitions() == []


def test_a_check_that_ends_well_does_not_close_a_breaker_another_check_opened() -> None:
    guard = HostGuard("prefecture.test")
    guard.refused(T0, 429, timedelta(minutes=30))
    guard.finish_check(Status.NONE, T0 + timedelta(seconds=1))
    assert guard.cooling(T0 + timedelta(minutes=29)) is not None


@pytest.mark.parametrize(
    ("robots", "path", "allowed"),
    [
        ("", "/booking/create/1", True),
        ("User-agent: *\nDisallow: /booking/", "/booking/create/1", False),
        (
            "User-agent: *\nDisallow: /booking/\n\nUser-agent: creneau\nAllow: /",
            "/booking/create/1",
            True,
        ),
        ("User-agent: creneau\nDisallow: /", "/anything", False),
        ("User-agent: Googlebot\nDisallow: /", "/booking/create/1", True),
    ],
)
def test_robots_rules(robots: str, path: str, allowed: bool) -> None:
    assert robots_allows(robots, f"https://prefecture.test{path}") is allowed


class WithRobots:
    """A préfecture whose robots.txt says what the test wants."""

    def __init__(self, robots: str, prefecture: Prefecture) -> None:
        self.robots = robots
        self.prefecture = prefecture

    def handles(self, path: str) -> bool:
        return True

    def handle(self, request: Request) -> Response:
        if request.path == "/robots.txt":
            return Response(200, self.robots, "text/plain")
        return self.prefecture.handle(request)


async def test_a_path_robots_txt_disallows_is_never_fetched(prefecture: Prefecture) -> None:
    internet = SimulatedInternet(
        {"prefecture.test": WithRobots("User-agent: *\nDisallow: /booking/", prefecture)}
    )
    client = PoliteClient("t@example.org", transport=internet)
    target = ezbooking.Target(name="t", url="https://prefecture.test/booking/create/1001")
    result = await run_check(target, client)
    assert result.status is Status.BLOCKED
    assert "robots.txt disallows /booking/create/1001" in english(result.detail)
    assert [hit.path for hit in internet.hits] == ["/robots.txt"]
    overriding = ezbooking.Target(
        name="u", url="https://prefecture.test/booking/create/1001", respect_robots=False
    )
    assert (await run_check(overriding, client)).status is Status.NONE


async def test_robots_txt_is_fetched_once_a_day(prefecture: Prefecture) -> None:
    now = [T0]
    internet = SimulatedInternet({"prefecture.test": WithRobots("", prefecture)})
    client = PoliteClient(
        "t@example.org",
        transport=internet,
        now=lambda: now[0],
        monotonic=lambda: (now[0] - T0).total_seconds(),
    )
    target = ezbooking.Target(name="t", url="https://prefecture.test/booking/create/1003")
    for hours in (0, 1, 23, 25):
        now[0] = T0 + timedelta(hours=hours)
        await run_check(target, client)
    assert [h.path for h in internet.hits].count("/robots.txt") == 2


async def test_a_cool_down_survives_a_restart_and_is_alerted_once(
    simulator: SimulatorServer, prefecture: Prefecture, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    store.upgrade()
    routing = Routing(
        ZoneInfo("Europe/Paris"),
        [],
        [Destination("phone", "json://127.0.0.1:9/")],
    )
    target = ezbooking.Target(name="t", url=simulator.booking_url("1403"), every="1s")
    first_process = PoliteClient("t@example.org", retry_backoff=0.01)
    recorded = await watch_once(target, first_process, store, routing)
    assert recorded.result.status is Status.BLOCKED
    second_process = PoliteClient("t@example.org", retry_backoff=0.01)
    second_process.restore_hosts(store.host_states())
    with pytest.raises(HostCoolingDown):
        async with second_process.session("t", target.url):
            pass
    again = await watch_once(target, second_process, store, routing)
    assert again.result.requests == 0
    events = [(n.payload["event"], n.payload["host"]) for n in store.notifications()]
    assert events == [("host_down", "127.0.0.1")]


def test_a_one_shot_check_honours_a_stored_cool_down(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
contact = "t@example.org"
database = "sqlite:///creneau.db"
[[target]]
name = "carte-grise"
system = "ezbooking"
url = "{simulator.booking_url("1403")}"
every = "1s"
""")
    runner = CliRunner()
    first = runner.invoke(cli, ["check", "--config", str(config), "--json"])
    second = runner.invoke(cli, ["check", "--config", str(config), "--json"])
    assert first.exit_code == second.exit_code == 0
    assert '"http_status": 403' in first.stdout
    assert '"detail_code": "fetch.cooling_down"' in second.stdout
    assert "est en pause" in second.stdout  # the config's language: French by default
    hits = [hit for hit in simulator.hits if hit.path != "/robots.txt"]
    assert len(hits) == 1
