"""The store: UTC in and out, migrations that match the models, one transaction per check."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, inspect, text

from creneau import url_keys
from creneau.alert_kinds import Destination
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.results import CheckResult, GuichetResult, SiteCookie, Slot, Status
from creneau.store import (
    CheckRecord,
    HourCount,
    NotificationRecord,
    SlotRecord,
    Store,
    database_label,
)
from creneau.store.database import database_file
from creneau.store.evidence import target_period
from creneau.store.history import EVERYTHING, site_release_facts
from creneau.store.schema import ANNOUNCEMENTS, CHECK_HOURS, CHECKS, NOTIFICATIONS, SLOTS, metadata
from creneau.store.upgrade import head_revision
from postgres import DATABASES, each_database

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every test here runs on SQLite and on a real PostgreSQL server."""
    yield from each_database(request, tmp_path)


def check_result(at: datetime, slots: list[Slot], status: Status = Status.AVAILABLE) -> CheckResult:
    return CheckResult(
        target="t",
        system="ezbooking",
        url="https://example.org/booking/create/1",
        status=status,
        checked_at=at,
        duration_ms=12,
        http_status=200,
        guichets=(GuichetResult("1", "Guichet 1", status, tuple(slots)),),
    )


def a_slot(hour: int) -> Slot:
    start = datetime(2026, 12, 1, hour, 0, tzinfo=PARIS)
    return Slot(start, "1", "Guichet 1", str(int(start.timestamp())))


def test_migrations_create_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, metadata) == []
        assert set(inspect(connection).get_table_names()) >= {"checks", "slots", "notifications"}


def test_a_site_session_keeps_each_cookies_host_and_reads_one_kept_before(store: Store) -> None:
    at = datetime.now(UTC)
    cookie = SiteCookie(
        name="JSESSIONID", value="abc", domain="127.0.0.1", path="/rdvpref", secure=True
    )
    with store.transaction() as tx:
        tx.save_site_session("allier", [cookie], at)
        tx.save_site_session("older", {"JSESSIONID": "old"}, at)  # type: ignore[arg-type]
    assert store.site_session("allier") == [cookie]
    # As an older version kept it: names and values only, for the target's host.
    kept_before = store.site_session("older")
    assert kept_before == [
        SiteCookie(name="JSESSIONID", value="old", domain="", path="/", secure=False)
    ]
    with store.transaction() as tx:  # the next check replaces the session it started with
        tx.replace_site_session("older", kept_before, [cookie], at)
    assert store.site_session("older") == [cookie]


def test_upgrade_twice_is_harmless(store: Store) -> None:
    store.upgrade()
    with store.engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar()


def test_timestamps_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    paris_time = datetime(2026, 3, 29, 3, 30, tzinfo=PARIS)  # just after the spring change
    record(store, check_result(paris_time, [a_slot(9)]), Routing(PARIS))
    row = store.checks()[0]
    assert row.started_at == paris_time
    assert row.started_at.tzinfo is UTC
    assert store.slots()[0].start == a_slot(9).start
    assert store.last_checks() == {"t": paris_time}


@pytest.mark.parametrize(
    ("record", "table"),
    [
        (CheckRecord, CHECKS),
        (SlotRecord, SLOTS),
        (NotificationRecord, NOTIFICATIONS),
        (HourCount, CHECK_HOURS),
    ],
)
def test_records_carry_every_column_of_their_table(record: type, table: Table) -> None:
    assert [field.name for field in dataclasses.fields(record)] == [
        column.key for column in table.columns
    ]


def test_the_store_and_the_daemon_never_load_the_orm() -> None:
    # Core tables only: the ORM cost the daemon about 8 MB of memory for nothing it needs.
    modules = (
        "creneau.store",
        "creneau.store.history",
        "creneau.store.dashboard",
        "creneau.store.metrics",
        "creneau.store.evidence",
        "creneau.cli.run",
        "creneau.web.app",
    )
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint(sorted(sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(ast.literal_eval(found.stdout))
    assert set(modules) <= loaded
    assert "sqlalchemy" in loaded
    assert "sqlalchemy.orm" not in loaded


def test_what_the_store_hands_out_is_plain_frozen_data(store: Store) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    destinations = [Destination("phone", "json://127.0.0.1:1/")]
    record(store, check_result(at, [a_slot(9)]), Routing(PARIS, destinations))
    record(store, check_result(at + timedelta(minutes=5), [], Status.BLOCKED), Routing(PARIS))
    [check, blocked] = store.checks()
    [slot] = store.slots()
    [alert] = store.notifications()
    assert (type(check), type(slot), type(alert)) == (CheckRecord, SlotRecord, NotificationRecord)
    assert (check.target, check.status, check.http_status, check.slot_count) == (
        "t",
        "available",
        200,
        1,
    )
    assert (slot.start, slot.first_seen, slot.gone_at, slot.first_check_id) == (
        a_slot(9).start,
        at,
        None,
        check.id,
    )
    assert (alert.check_id, alert.state, alert.payload["event"]) == (
        check.id,
        "pending",
        "new_slots",
    )
    with pytest.raises(FrozenInstanceError):
        check.status = "none"  # type: ignore[misc]
    assert store.latest_checks() == [blocked]
    assert store.checks("elsewhere") == []
    assert store.notifications("sent") == []


def test_a_database_url_names_its_file_and_is_shown_without_its_password(tmp_path: Path) -> None:
    assert database_file(f"sqlite:///{tmp_path}/c.db") == tmp_path / "c.db"
    assert database_file("sqlite:///~/c.db") == Path("~/c.db").expanduser()
    assert database_file("sqlite://") is None
    assert database_file("sqlite:///:memory:") is None
    assert database_file("postgresql+psycopg://u:pw@db.example/creneau") is None
    assert (
        database_label("postgresql+psycopg://u:secret-pw@db.example/creneau")
        == "postgresql+psycopg://u:***@db.example/creneau"
    )


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        record(store, check_result(datetime(2026, 1, 1), []), Routing(PARIS))
    assert store.checks() == []


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with store.engine.connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"


def test_a_check_its_slots_and_its_alert_are_written_together(store: Store) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    destinations = [
        Destination("phone", "json://127.0.0.1:1/"),
        Destination("phone", "ntfy://ntfy.sh/topic"),
    ]
    recorded = record(
        store, check_result(at, [a_slot(9), a_slot(10)]), Routing(PARIS, destinations)
    )
    assert (recorded.queued, len(recorded.appeared)) == (2, 2)
    rows = store.notifications()
    assert [(r.check_id, r.state, r.url_label) for r in rows] == [
        (recorded.check_id, "pending", "json://"),
        (recorded.check_id, "pending", "ntfy://"),
    ]
    assert rows[0].payload["event"] == "new_slots"
    assert [slot["start"] for slot in rows[0].payload["slots"]] == [
        a_slot(9).start.isoformat(),
        a_slot(10).start.isoformat(),
    ]
    assert "ntfy.sh" not in repr([r.payload for r in rows])  # URLs stay in the config


def test_a_failure_inside_the_transaction_leaves_nothing_half_written(store: Store) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    class Broken(Destination):
        @property
        def key(self) -> str:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        record(store, check_result(at, [a_slot(9)]), Routing(PARIS, [Broken("phone", "json://x/")]))
    assert (store.checks(), store.slots(), store.notifications()) == ([], [], [])


def test_slot_lifecycle_across_checks(store: Store) -> None:
    t = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    step = timedelta(minutes=15)  # longer than the hysteresis: a slot back is new again
    dest = [Destination("phone", "json://127.0.0.1:1/")]
    first = record(store, check_result(t, [a_slot(9), a_slot(10)]), Routing(PARIS, dest))
    again = record(store, check_result(t + step, [a_slot(9), a_slot(10)]), Routing(PARIS, dest))
    blocked = record(store, check_result(t + 2 * step, [], Status.BLOCKED), Routing(PARIS, dest))
    one_gone = record(store, check_result(t + 3 * step, [a_slot(9)]), Routing(PARIS, dest))
    back = record(store, check_result(t + 4 * step, [a_slot(9), a_slot(10)]), Routing(PARIS, dest))
    assert [r.queued for r in (first, again, blocked, one_gone, back)] == [1, 0, 0, 0, 1]
    assert [len(r.appeared) for r in (first, again, blocked, one_gone, back)] == [2, 0, 0, 0, 1]
    nine, ten_first, ten_back = store.slots()  # ordered by first_seen, then start
    assert nine.start == a_slot(9).start
    assert (nine.first_seen, nine.last_seen, nine.gone_at) == (t, t + 4 * step, None)
    # The slot at 10:00 went and came back: two appearances, the first kept as it was.
    assert ten_first.start == ten_back.start == a_slot(10).start
    assert (ten_first.first_seen, ten_first.last_seen, ten_first.gone_at) == (
        t,
        t + step,
        t + 3 * step,
    )
    assert (ten_first.first_check_id, ten_first.previous_check_at) == (first.check_id, None)
    assert (ten_back.first_seen, ten_back.gone_at, ten_back.first_check_id) == (
        t + 4 * step,
        None,
        back.check_id,
    )
    assert ten_back.previous_check_at == t + 3 * step


def test_the_0008_migration_keeps_slots_and_lets_one_come_back(tmp_path: Path) -> None:
    old = Store(f"sqlite:///{tmp_path / 'old.db'}")
    old.upgrade(to="0007")
    t = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    dest = [Destination("phone", "json://127.0.0.1:1/")]
    slot = a_slot(9)
    naive = {"t": t.replace(tzinfo=None), "gone": (t + timedelta(hours=1)).replace(tzinfo=None)}
    with old.engine.begin() as connection:  # as 0007 wrote them (today's model has more)
        for started, status in ((naive["t"], "available"), (naive["gone"], "none")):
            connection.execute(
                text(
                    "insert into checks (target, system, started_at, duration_ms, status, "
                    "detail, slot_count, requests) values ('t', 'ezbooking', :at, 1, :status, "
                    "'', 0, 1)"
                ),
                {"at": started, "status": status},
            )
        connection.execute(
            text(
                "insert into slots (target, guichet_id, guichet, start, key, first_seen, "
                "last_seen, gone_at, first_check_id) values ('t', :guichet_id, :guichet, "
                ":start, :key, :t, :t, :gone, 1)"
            ),
            {
                "guichet_id": slot.guichet_id,
                "guichet": slot.guichet,
                "start": slot.start.astimezone(UTC).replace(tzinfo=None),
                "key": slot.key,
                **naive,
            },
        )
    old.upgrade()
    back = record(old, check_result(t + timedelta(hours=2), [a_slot(9)]), Routing(PARIS, dest))
    assert old.revision() == head_revision()
    assert len(back.appeared) == 1
    assert [(s.first_seen, s.gone_at) for s in old.slots()] == [
        (t, t + timedelta(hours=1)),
        (t + timedelta(hours=2), None),
    ]
    old.close()


def test_offsets_other_than_utc_are_normalised(store: Store) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    record(store, check_result(at, []), Routing(PARIS))
    assert store.checks()[0].started_at == at.astimezone(UTC)


def test_the_head_revision_is_alembic_s_and_upgrading_a_current_database_skips_alembic(
    store: Store,
) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from creneau.store.upgrade import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == head_revision()
    assert store.revision() == head_revision()


def test_old_checks_roll_into_hourly_counts_and_releases_survive(store: Store) -> None:
    dest = [Destination("phone", "json://127.0.0.1:9/")]
    t = datetime(2026, 1, 5, 8, 10, tzinfo=UTC)
    for minutes in range(0, 120, 10):  # 12 checks over two hours; slots appear at 08:30
        slots = [a_slot(9)] if minutes >= 20 else []
        record(
            store,
            check_result(
                t + timedelta(minutes=minutes), slots, Status.AVAILABLE if slots else Status.NONE
            ),
            Routing(PARIS, dest),
        )
    store.outbox.mark_sent([n.id for n in store.notifications()], t)
    recent = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    record(store, check_result(recent, []), Routing(PARIS))
    assert store.roll_up(before=datetime(2026, 2, 1, tzinfo=UTC), batch=5) == 12
    assert [c.started_at for c in store.checks()] == [recent]
    january = target_period(store, "t", datetime(2026, 1, 1, tzinfo=UTC), recent)
    hours = {(row.hour.isoformat(), row.status): row.checks for row in january.hours}
    assert hours == {
        ("2026-01-05T08:00:00+00:00", "none"): 2,
        ("2026-01-05T08:00:00+00:00", "available"): 3,
        ("2026-01-05T09:00:00+00:00", "available"): 6,
        ("2026-01-05T10:00:00+00:00", "available"): 1,
    }
    [kept] = store.slots()
    assert (kept.first_seen, kept.previous_check_at, kept.first_check_id) == (
        t + timedelta(minutes=20),
        t + timedelta(minutes=10),
        None,
    )
    assert store.notifications() == []  # sent long ago: forgotten
    assert store.roll_up(before=datetime(2026, 2, 1, tzinfo=UTC)) == 0


def test_what_a_site_said_of_its_releases_is_read_back_on_both_databases(store: Store) -> None:
    t = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    said = {"last_release_at": "2026-11-23T11:58:00+01:00", "last_release_week": "2026-12-07"}
    for minutes, facts in ((0, said), (10, {"other": "x"}), (20, {})):
        record(
            store,
            replace(check_result(t + timedelta(minutes=minutes), []), facts=facts),
            Routing(PARIS),
        )
    assert {t: found.as_facts() for t, found in site_release_facts(store, EVERYTHING).items()} == {
        "t": said
    }


def test_a_notification_url_is_found_by_a_keyed_digest_kept_per_installation(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(url_keys, "_secret", None)
    url = "ntfy://ntfy.sh/guessable-topic"
    url_keys.load_or_create(tmp_path / "data")
    keyed = url_keys.url_key(url)
    assert keyed != hashlib.sha256(url.encode()).hexdigest()[:16]
    assert (tmp_path / "data" / url_keys.SECRET_FILE).stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(url_keys, "_secret", None)
    url_keys.load_or_create(tmp_path / "data")  # another process of this installation
    assert url_keys.url_key(url) == keyed
    monkeypatch.setattr(url_keys, "_secret", None)
    url_keys.load_or_create(tmp_path / "elsewhere")  # another installation
    assert url_keys.url_key(url) != keyed


def test_a_release_is_dated_from_the_last_clear_answer_and_0010_fixes_older_rows(
    tmp_path: Path,
) -> None:
    old = Store(f"sqlite:///{tmp_path / 'old.db'}")
    old.upgrade(to="0009")
    ANNOUNCEMENTS.create(old.engine)  # today's record() follows announcements (0015)
    t = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    record(old, check_result(t, [], Status.NONE), Routing(PARIS))
    record(old, check_result(t + timedelta(minutes=5), [], Status.BLOCKED), Routing(PARIS))
    record(old, check_result(t + timedelta(minutes=10), [a_slot(9)]), Routing(PARIS))
    ANNOUNCEMENTS.drop(old.engine)
    assert [s.previous_check_at for s in old.slots()] == [t]  # the clear one, not the block
    with old.engine.begin() as connection:  # as versions before 0010 wrote it
        connection.execute(
            text(
                "update slots set previous_check_at = (select started_at from checks where id = 2)"
            ),
        )
    old.upgrade()
    assert [s.previous_check_at for s in old.slots()] == [t]
    old.close()
