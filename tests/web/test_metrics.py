"""`/metrics`: exactly the families and label sets the collector promises for a history this
test writes, every status at 0 from the start, nothing of a target the config no longer has,
counters that a retention roll-up does not lower, and the bearer token or the dashboard's
login in front of it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from creneau import __version__
from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import HostReport, record
from creneau.fetch.politeness import HostState
from creneau.results import CheckResult, GuichetResult, ReleaseAnnouncement, Slot, Status
from creneau.startup import prepare_config
from creneau.store import DatabaseThread, Store
from creneau.store.leadership import Instance, Leases
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import Signer, load_or_create_secret
from daemon_stand_in import DaemonStandIn

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2030, 3, 4, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Paris
NOW = START + timedelta(hours=2)
URL = "https://pref.example/booking/create/1001"
LYON = "https://rdv.lyon.example/booking/create/7"
PARIS_URL = "https://pref.example/booking/create/1002?key=${CRENEAU_TEST_SITE_KEY}"
COOLING_UNTIL = NOW + timedelta(minutes=30)
# What the check at 80 minutes read of the site's next release: tomorrow 10:00 (Paris).
ANNOUNCED = ReleaseAnnouncement(next_at=datetime(2030, 3, 5, 10, 0, tzinfo=PARIS))
PHONE = "json://user:hunter2-secret@127.0.0.1:9/hook?token=phone-token-123"

FAMILIES = {
    "creneau_checks": "counter",
    "creneau_check_duration_seconds": "histogram",
    "creneau_last_check_timestamp_seconds": "gauge",
    "creneau_next_check_timestamp_seconds": "gauge",
    "creneau_next_release_timestamp_seconds": "gauge",
    "creneau_slots_available": "gauge",
    "creneau_releases": "counter",
    "creneau_host_blocked": "gauge",
    "creneau_host_cooldown_until_timestamp_seconds": "gauge",
    "creneau_http_requests": "counter",
    "creneau_outbox_notifications": "gauge",
    "creneau_notifications_sent": "counter",
    "creneau_outbox_oldest_pending_age_seconds": "gauge",
    "creneau_scheduler_lag_seconds": "gauge",
    "creneau_leader": "gauge",
    "creneau_takeovers": "counter",
    "creneau_build_info": "gauge",
}
STATUSES = ("available", "none", "blocked", "overloaded", "closed", "captcha", "error", "unknown")


# --- a config, a history, a dashboard ---------------------------------------------------------


def write_config(
    folder: Path, web: str = "", targets: str = "nanterre lyon", settings: str = ""
) -> Path:
    """A config of these targets, with `web` in its [web] and `settings` in [creneau]."""
    folder.mkdir(parents=True, exist_ok=True)
    urls = {"nanterre": URL, "lyon": LYON, "nanterre-centre": URL, "paris": PARIS_URL}
    listed = "".join(
        f'[[target]]\nname = "{name}"\nsystem = "ezbooking"\nurl = "{urls[name]}"\n'
        for name in targets.split()
    )
    path = folder / "config.toml"
    path.write_text(
        f'[creneau]\ncontact = "t@example.org"\ndatabase = "sqlite:///c.db"\n{settings}\n'
        f'[[notify]]\nname = "phone"\nurls = ["{PHONE}"]\n{listed}[web]\n{web}\n'
    )
    return path


def slot(at: datetime) -> Slot:
    local = at.astimezone(PARIS)
    return Slot(local, "14007", "Guichet 2 - Remise de titre", str(int(at.timestamp())))


SLOTS = (
    slot(START + timedelta(days=3, hours=2)),
    slot(START + timedelta(days=3, hours=2, minutes=15)),
)

# minutes after START, status, duration (ms), HTTP status, requests, slots shown
CHECKS = [
    (0, Status.NONE, 300, 200, 2, ()),
    (20, Status.NONE, 1200, 200, 2, ()),
    (40, Status.AVAILABLE, 4000, 200, 3, SLOTS),  # a release
    (60, Status.BLOCKED, 100, 403, 1, ()),
    (80, Status.AVAILABLE, 2600, 200, 3, SLOTS),
    (100, Status.ERROR, 31000, None, 1, ()),
]


def write_history(store: Store) -> None:
    routing = Routing(PARIS, [Destination("phone", PHONE)])
    for minutes, status, duration, http, requests, shown in CHECKS:
        at = START + timedelta(minutes=minutes)
        clear = status in (Status.AVAILABLE, Status.NONE)
        guichet = GuichetResult("14007", "Guichet 2 - Remise de titre", status, shown)
        result = CheckResult(
            "nanterre", "ezbooking", URL, status, at,
            duration_ms=duration, http_status=http, requests=requests,
            guichets=(guichet,) if clear else (),
            releases=ANNOUNCED if minutes == 80 else None,
        )  # fmt: skip
        host = None
        if status is Status.BLOCKED:
            state = HostState(open_until=COOLING_UNTIL, reason="403", status=Status.BLOCKED)
            host = HostReport("pref.example", state)
        record(store, result, routing, host)


class Live(DaemonStandIn):
    def next_checks(self) -> Mapping[str, datetime | None]:
        return {"nanterre": NOW + timedelta(minutes=5), "lyon": None, "gone": NOW}

    def scheduler_lag_seconds(self) -> float:
        return 2.5


@dataclass
class Dashboard:
    context: WebContext
    client: TestClient
    clock: list[datetime]  # [now]: a test moves it

    @property
    def store(self) -> Store:
        return self.context.store


def dashboard(
    folder: Path,
    web: str = "",
    targets: str = "nanterre lyon",
    live: Live | None = None,
    settings: str = "",
) -> Dashboard:
    """A dashboard on the database in `folder` (made when new), its clock at NOW."""
    return dashboard_for(write_config(folder, web, targets, settings), live)


def dashboard_for(config_path: Path, live: Live | None = None) -> Dashboard:
    config = prepare_config(config_path)
    store = Store(config.creneau.database)
    store.upgrade()
    clock = [NOW]
    signer = Signer(load_or_create_secret(config_path.parent / "keys"))
    context = WebContext(
        config, store, DatabaseThread(inline=True), signer, live, now=lambda: clock[0]
    )
    app = create_app(context)
    client = TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False)
    return Dashboard(context, client, clock)


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    store = dashboard(tmp_path).store
    write_history(store)
    sent = [row.id for row in store.notifications("pending") if row.kind == "slots"]
    store.outbox.mark_sent(sent, START + timedelta(minutes=41))
    return tmp_path


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> tuple[str, Samples]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == CONTENT_TYPE_LATEST
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return answer.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, frozenset(labels.items())]


def labelled(samples: Samples, name: str) -> list[dict[str, str]]:
    return sorted(
        (dict(labels) for sample, labels in samples if sample == name),
        key=lambda labels: sorted(labels.items()),
    )


# --- the tests --------------------------------------------------------------------------------


def test_exactly_the_promised_families_with_their_types(recorded: Path) -> None:
    client = dashboard(recorded, live=Live()).client
    text, _ = scrape(client)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE))
    expected = {
        (f"{name}_total" if kind == "counter" else name): kind for name, kind in FAMILIES.items()
    }
    assert types == expected
    families = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert families == FAMILIES


def test_the_values_and_labels_of_a_known_history(recorded: Path) -> None:
    client = dashboard(recorded, live=Live()).client
    _, samples = scrape(client)
    checks = {
        status: value(samples, "creneau_checks_total", target="nanterre", status=status)
        for status in STATUSES
    }
    assert checks == {
        "available": 2, "none": 2, "blocked": 1, "overloaded": 0, "closed": 0, "captcha": 0,
        "error": 1, "unknown": 0,
    }  # fmt: skip
    assert all(
        value(samples, "creneau_checks_total", target="lyon", status=status) == 0
        for status in STATUSES
    )
    assert len(labelled(samples, "creneau_checks_total")) == 2 * len(STATUSES)

    buckets = {
        labels["le"]: samples["creneau_check_duration_seconds_bucket", frozenset(labels.items())]
        for labels in labelled(samples, "creneau_check_duration_seconds_bucket")
        if labels["target"] == "nanterre"
    }
    assert buckets == {
        "0.25": 1, "0.5": 2, "1.0": 2, "2.5": 3, "5.0": 5, "10.0": 5, "20.0": 5, "30.0": 5,
        "60.0": 6, "+Inf": 6,
    }  # fmt: skip
    assert value(samples, "creneau_check_duration_seconds_count", target="nanterre") == 6
    assert value(samples, "creneau_check_duration_seconds_sum", target="nanterre") == 39.2
    assert value(samples, "creneau_check_duration_seconds_count", target="lyon") == 0

    last = (START + timedelta(minutes=100)).timestamp()
    assert labelled(samples, "creneau_last_check_timestamp_seconds") == [{"target": "nanterre"}]
    assert value(samples, "creneau_last_check_timestamp_seconds", target="nanterre") == last
    # The live plan of the configured targets only: "gone" is no longer in the config.
    assert labelled(samples, "creneau_next_check_timestamp_seconds") == [{"target": "nanterre"}]
    assert (
        value(samples, "creneau_next_check_timestamp_seconds", target="nanterre")
        == (NOW + timedelta(minutes=5)).timestamp()
    )
    # Announced by nanterre's site; none known for lyon: no series.
    assert labelled(samples, "creneau_next_release_timestamp_seconds") == [
        {"target": "nanterre", "source": "announced"}
    ]
    assert (
        value(
            samples, "creneau_next_release_timestamp_seconds", target="nanterre", source="announced"
        )
        == ANNOUNCED.next_at.timestamp()  # type: ignore[union-attr]
    )
    assert value(samples, "creneau_slots_available", target="nanterre") == 2
    assert value(samples, "creneau_slots_available", target="lyon") == 0
    assert value(samples, "creneau_releases_total", target="nanterre") == 1
    assert value(samples, "creneau_releases_total", target="lyon") == 0

    assert value(samples, "creneau_host_blocked", host="pref.example") == 1
    assert value(samples, "creneau_host_blocked", host="rdv.lyon.example") == 0
    assert (
        value(samples, "creneau_host_cooldown_until_timestamp_seconds", host="pref.example")
        == COOLING_UNTIL.timestamp()
    )
    assert (
        value(samples, "creneau_host_cooldown_until_timestamp_seconds", host="rdv.lyon.example")
        == 0
    )

    requests = {
        labels["code"]: samples["creneau_http_requests_total", frozenset(labels.items())]
        for labels in labelled(samples, "creneau_http_requests_total")
    }
    assert requests == {"200": 10, "403": 1, "none": 1}
    assert {labels["host"] for labels in labelled(samples, "creneau_http_requests_total")} == {
        "pref.example"
    }

    outbox = {
        state: value(samples, "creneau_outbox_notifications", state=state)
        for state in ("pending", "sent", "failed", "expired")
    }
    assert outbox["sent"] == 1
    assert len(labelled(samples, "creneau_outbox_notifications")) == 4
    assert labelled(samples, "creneau_notifications_sent_total") == [
        {"channel": "phone", "kind": kind} for kind in ("heartbeat", "slots", "trouble")
    ]
    assert value(samples, "creneau_notifications_sent_total", channel="phone", kind="slots") == 1
    assert value(samples, "creneau_notifications_sent_total", channel="phone", kind="trouble") == 0
    assert value(samples, "creneau_scheduler_lag_seconds") == 2.5
    assert value(samples, "creneau_build_info", version=__version__) == 1


def test_the_oldest_pending_alert_and_no_lag_without_the_daemon(tmp_path: Path) -> None:
    board = dashboard(tmp_path)
    write_history(board.store)
    _, samples = scrape(board.client)
    # The slot alert of the release at START + 40 min waits: 80 minutes at NOW.
    assert value(samples, "creneau_outbox_notifications", state="pending") == 1
    assert value(samples, "creneau_outbox_oldest_pending_age_seconds") == 80 * 60
    assert value(samples, "creneau_scheduler_lag_seconds") == 0
    # Held for a channel's quiet hours, it waits on purpose.
    board.store.outbox.mark_held([row.id for row in board.store.notifications("pending")], NOW)
    _, samples = scrape(board.client)
    assert value(samples, "creneau_outbox_oldest_pending_age_seconds") == 0
    # Under `creneau web`, the next checks are the plan the daemon saved.
    assert labelled(samples, "creneau_next_check_timestamp_seconds") == []
    board.store.save_next_check("nanterre", NOW + timedelta(minutes=7), NOW)
    _, samples = scrape(board.client)
    assert (
        value(samples, "creneau_next_check_timestamp_seconds", target="nanterre")
        == (NOW + timedelta(minutes=7)).timestamp()
    )


def test_every_status_is_at_zero_before_any_check(tmp_path: Path) -> None:
    client = dashboard(tmp_path).client
    _, samples = scrape(client)
    for target in ("nanterre", "lyon"):
        for status in STATUSES:
            assert value(samples, "creneau_checks_total", target=target, status=status) == 0
        assert value(samples, "creneau_check_duration_seconds_count", target=target) == 0
        assert value(samples, "creneau_slots_available", target=target) == 0
        assert value(samples, "creneau_releases_total", target=target) == 0
    assert labelled(samples, "creneau_last_check_timestamp_seconds") == []
    assert labelled(samples, "creneau_http_requests_total") == []
    assert value(samples, "creneau_outbox_oldest_pending_age_seconds") == 0


def test_a_target_removed_or_renamed_leaves_no_series(recorded: Path) -> None:
    client = dashboard(recorded, targets="nanterre-centre", live=Live()).client
    text, samples = scrape(client)
    assert 'nanterre"' not in text
    assert "lyon" not in text
    assert {labels["target"] for labels in labelled(samples, "creneau_checks_total")} == {
        "nanterre-centre"
    }
    assert value(samples, "creneau_checks_total", target="nanterre-centre", status="none") == 0
    # Its host is still watched (the renamed target is on it); the other host is gone.
    assert labelled(samples, "creneau_host_blocked") == [{"host": "pref.example"}]


def test_a_roll_up_lowers_no_counter(recorded: Path) -> None:
    board = dashboard(recorded, live=Live())
    _, before = scrape(board.client)
    board.clock[0] = NOW + timedelta(days=3)
    scrape(board.client)  # the horizon moves past every check
    assert board.store.roll_up(NOW + timedelta(days=2)) == len(CHECKS)
    _, after = scrape(board.client)
    counters = [key for key in before if key[0].endswith(("_total", "_bucket", "_count", "_sum"))]
    assert counters
    assert {key: after[key] for key in counters} == {key: before[key] for key in counters}
    # A new process counts the rolled-up checks per status still, and their requests under
    # code "unknown" (their HTTP statuses were not kept).
    _, fresh = scrape(dashboard(recorded, live=Live()).client)
    assert value(fresh, "creneau_checks_total", target="nanterre", status="none") == 2
    assert value(fresh, "creneau_http_requests_total", host="pref.example", code="unknown") == 12
    assert value(fresh, "creneau_releases_total", target="nanterre") == 1


def test_new_checks_count_once_as_the_horizon_moves(recorded: Path) -> None:
    board = dashboard(recorded)
    client = board.client
    scrape(client)
    later = NOW + timedelta(hours=5)
    board.clock[0] = later
    result = CheckResult(
        "nanterre", "ezbooking", URL, Status.OVERLOADED, later - timedelta(minutes=1),
        duration_ms=700, http_status=503, requests=4,
    )  # fmt: skip
    record(board.store, result, Routing(PARIS))
    for _ in range(2):
        _, samples = scrape(client)
        assert value(samples, "creneau_http_requests_total", host="pref.example", code="503") == 4
        assert value(samples, "creneau_check_duration_seconds_count", target="nanterre") == 7
    board.clock[0] = later + timedelta(hours=3)
    _, samples = scrape(client)
    assert value(samples, "creneau_http_requests_total", host="pref.example", code="503") == 4
    assert value(samples, "creneau_checks_total", target="nanterre", status="overloaded") == 1


def test_the_metrics_token_is_required_when_set(recorded: Path) -> None:
    client = dashboard(recorded, 'metrics_token = "metrics-token-0123456789"').client
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic x"}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer realm="creneau"'
        assert "creneau_" not in answer.text
    scrape(client, authorization="Bearer metrics-token-0123456789")


def test_wrong_tokens_are_limited_like_logins(recorded: Path) -> None:
    client = dashboard(recorded, 'metrics_token = "metrics-token-0123456789"').client
    codes = [
        client.get("/metrics", headers={"authorization": "Bearer guess"}).status_code
        for _ in range(7)
    ]
    assert codes == [401] * 5 + [429] * 2


def test_without_a_token_metrics_follow_the_dashboard_login(recorded: Path) -> None:
    client = dashboard(recorded, 'password = "correct horse 42"').client
    answer = client.get("/metrics")
    assert answer.status_code == 401
    assert client.post("/login", data={"password": "correct horse 42"}).status_code == 303
    scrape(client)
    scrape(dashboard(recorded / "open").client)  # a loopback dashboard without a password is open


def test_the_grafana_dashboard_reads_every_family_and_only_these(recorded: Path) -> None:
    grafana = json.loads((Path(__file__).parents[2] / "grafana" / "creneau.json").read_text())
    queries = [target["expr"] for panel in grafana["panels"] for target in panel.get("targets", [])]
    used = {name for query in queries for name in re.findall(r"creneau_[a-z_]+", query)}
    board = dashboard(recorded, live=Live())
    daemon_runs(board.context.store)  # creneau_leader has a sample
    _, samples = scrape(board.client)
    assert used <= {name for name, _ in samples}
    families = {name.removesuffix("_bucket").removesuffix("_total") for name in used}
    assert families == set(FAMILIES)


def daemon_runs(store: Store, name: str = "vm", pid: int = 1234) -> Leases:
    """A daemon on this database that took the lease (a minute long), as `creneau run` does."""
    leases = Leases(
        store.url,
        Instance(f"{name}:{pid}:t", name, pid),
        timedelta(minutes=1),
        timedelta(minutes=1),
    )
    leases.look()
    return leases


def test_the_active_daemon_and_those_standing_by(recorded: Path) -> None:
    board = dashboard(recorded, live=Live())
    _, samples = scrape(board.client)
    assert labelled(samples, "creneau_leader") == []  # no daemon has run here
    assert value(samples, "creneau_takeovers_total") == 0
    active = daemon_runs(board.context.store, "vm", 1234)
    standby = daemon_runs(board.context.store, "backup", 99)
    _, samples = scrape(board.client)
    assert value(samples, "creneau_leader", instance="vm:1234") == 1
    assert value(samples, "creneau_leader", instance="backup:99") == 0
    assert value(samples, "creneau_takeovers_total") == 0
    active.release(1)
    standby.look()  # takes the released lease: not a takeover
    _, samples = scrape(board.client)
    assert labelled(samples, "creneau_leader") == [{"instance": "backup:99"}]
    assert value(samples, "creneau_leader", instance="backup:99") == 1
    active.close()
    standby.close()
