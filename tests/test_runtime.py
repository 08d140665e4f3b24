"""The runtime assembly (config → store → client seeded from the store → routes → sender), as
checks go through it (creneau.usecases.check_once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import english
from creneau import sources
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.config import Config
from creneau.fetch.client import TooSoon
from creneau.redact import public_link
from creneau.results import CheckResult, Status
from creneau.runtime import Runtime
from creneau.simulator.server import SimulatorServer
from creneau.store import Store
from creneau.targets import TargetBase
from creneau.usecases.check_once import check_once

FAR_AWAY = "https://prefecture.example/booking/create/1234"  # never reached: the floor holds


def config_for(store: Store, tmp_path: Path, target: dict[str, object]) -> Config:
    return Config.model_validate(
        {
            "creneau": {
                "database": store.url,
                "contact": "tests@example.org",
                "data_dir": str(tmp_path / "data"),
            },
            "target": [{"every": "60s", "jitter": "0s", **target}],
            "hosts": {"127.0.0.1": {"per_minute": 6000, "burst": 60}},
        }
    )


def checked_seconds_ago(store: Store, target: TargetBase, seconds: int) -> None:
    at = datetime.now(UTC) - timedelta(seconds=seconds)
    result = CheckResult(target.name, target.system, target.url, Status.NONE, at)
    record(store, result, Routing(ZoneInfo("Europe/Paris")))


async def test_the_interval_floor_holds_across_processes(store: Store, tmp_path: Path) -> None:
    config = config_for(store, tmp_path, {"name": "far", "system": "ezbooking", "url": FAR_AWAY})
    target = config.targets[0]
    checked_seconds_ago(store, target, 10)  # by another process, e.g. the daemon
    runtime = Runtime(config, store)
    runtime.seed_from_store()
    with pytest.raises(TooSoon):
        await check_once(runtime, target)


async def test_a_person_is_not_held_back_by_the_floor(store: Store, tmp_path: Path) -> None:
    config = config_for(store, tmp_path, {"name": "far", "system": "ezbooking", "url": FAR_AWAY})
    target = config.targets[0]
    checked_seconds_ago(store, target, 10)
    runtime = Runtime(config, store)
    runtime.seed_from_store(floors=False)  # the hosts only: `creneau captcha`
    async with runtime.client.session(target.name, target.url):
        pass  # no TooSoon, and no request made


async def test_an_ad_hoc_check_alerts_no_one_and_is_recorded_under_its_link(
    store: Store, simulator: SimulatorServer
) -> None:
    url = simulator.booking_url("1001")
    target = sources.get("ezbooking").Target.model_validate(
        {"name": "ad-hoc", "system": "ezbooking", "url": url, "every": "60s"}
    )
    runtime = Runtime(None, store, contact="tests@example.org")
    runtime.seed_from_store()
    assert runtime.routing(target).destinations == ()
    assert not runtime.keep_pages
    recorded = await check_once(runtime, target)
    assert recorded.queued == 0
    assert [row.target for row in store.checks()] == [public_link(url)]
    with pytest.raises(RuntimeError):
        runtime.sender  # noqa: B018 — no config, no channel


@pytest.mark.parametrize("allow_private", [False, True])
async def test_a_target_added_from_the_dashboard_is_checked_through_the_ssrf_guard(
    store: Store, tmp_path: Path, simulator: SimulatorServer, allow_private: bool
) -> None:
    """What the dashboard previewed once is guarded at every check: a name that later
    resolves to this machine, or a redirect to it, is never fetched."""
    target: dict[str, object] = {
        "name": "web",
        "system": "ezbooking",
        "url": simulator.booking_url("1002"),
        "guarded": True,
    }
    config = config_for(store, tmp_path, target)
    config = config.model_copy(
        update={"web": config.web.model_copy(update={"allow_private_targets": allow_private})}
    )
    hits_before = len(simulator.hits)
    recorded = await check_once(Runtime(config, store), config.targets[0])
    if allow_private:
        assert recorded.result.status is Status.AVAILABLE
        assert len(simulator.hits) > hits_before
    else:
        assert recorded.result.status is Status.BLOCKED
        assert english(recorded.result.detail).startswith("not fetched: ")
        assert "127.0.0.1" in english(recorded.result.detail)
        assert len(simulator.hits) == hits_before  # nothing reached the simulated host


async def test_a_target_written_by_hand_is_not_guarded(
    store: Store, tmp_path: Path, simulator: SimulatorServer
) -> None:
    target = {"name": "mine", "system": "ezbooking", "url": simulator.booking_url("1002")}
    config = config_for(store, tmp_path, target)
    assert Runtime(config, store).guard(config.targets[0]) is None
    recorded = await check_once(Runtime(config, store), config.targets[0])
    assert recorded.result.status is Status.AVAILABLE
