"""The lease, the fence and the outbox claims of several daemons on one PostgreSQL database
(store.leadership), on a real server: who takes a term and when, that a superseded or
standing-by store writes nothing, that two senders never claim one alert, and that
migrations started together run once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from creneau.alert_kinds import OutboxEvent
from creneau.store import Store, Superseded
from creneau.store import outbox as claims
from creneau.store.leadership import Instance, Leases
from creneau.store.lock import AlreadyRunning

LEASE = timedelta(seconds=1)
SEEN = timedelta(seconds=30)
PHONE = "json://127.0.0.1:1/"


def other(store: Store) -> Store:
    """A second daemon's store on the same database (its own identity)."""
    twin = Store(store.url)
    twin.me = Instance(f"twin:{id(twin)}", "twin", 4242)
    return twin


def leases(store: Store, lease: timedelta = LEASE) -> Leases:
    return Leases(store.url, store.me, lease, SEEN)


@pytest.fixture
def pair(postgres_store: Store) -> Iterator[tuple[Store, Store]]:
    twin = other(postgres_store)
    yield postgres_store, twin
    twin.close()


def wait_until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)


def test_one_term_at_a_time_and_a_new_one_once_the_lease_lapses(
    pair: tuple[Store, Store],
) -> None:
    first, second = pair
    a, b = leases(first), leases(second)
    term = a.look().term
    assert term is not None
    assert term.epoch == 1
    assert term.took_over_from is None
    look = b.look()
    assert look.term is None
    assert look.leader.instance == first.me.instance
    assert a.renew(1)
    wait_until(lambda: b.look().term is not None)
    leader = b.look().leader
    assert leader.epoch == 2
    assert leader.token == second.me.token
    assert leader.takeovers == 1
    assert not a.renew(1)  # its term is over
    view = first.leadership()
    assert view.active is not None
    assert view.active.instance == second.me.instance
    assert [seen.instance for seen in view.standbys] == [first.me.instance]
    a.close()
    b.close()


def test_a_released_lease_is_taken_at_once(pair: tuple[Store, Store]) -> None:
    first, second = pair
    a, b = leases(first, timedelta(minutes=5)), leases(second, timedelta(minutes=5))
    assert a.look().term is not None
    assert b.look().term is None
    a.release(1)
    term = b.look().term
    assert term is not None
    assert term.took_over_from is None  # it stepped down: not a takeover
    assert first.leadership().leader.takeovers == 0
    a.close()
    b.close()


def test_a_superseded_or_standing_by_store_writes_nothing(pair: tuple[Store, Store]) -> None:
    first, second = pair
    now = datetime.now(UTC)
    event = OutboxEvent("t", "trouble", {"event": "x"})
    a, b = leases(first), leases(second)
    assert a.look().term is not None
    first.serve_daemon()
    first.fence(1)
    second.serve_daemon()  # standing by
    with first.transaction() as writing:
        assert writing.enqueue(event, [destination()], now) == 1
    with pytest.raises(Superseded, match="stands by"), second.transaction() as writing:
        writing.enqueue(event, [destination()], now)
    wait_until(lambda: b.look().term is not None)
    second.fence(2)
    with pytest.raises(Superseded, match="term 1 is over: term 2"), first.transaction() as w:
        w.enqueue(event, [destination()], now)
    with pytest.raises(Superseded):
        first.save_facts({"config_digest": "x"}, now)
    with second.transaction() as writing:
        writing.enqueue(event, [destination()], now)
    assert len(first.notifications("pending")) == 2  # reading is never fenced
    a.close()
    b.close()


def test_a_takeover_waits_for_a_write_of_the_last_term_then_fences_the_next(
    pair: tuple[Store, Store],
) -> None:
    """A write under way holds the epoch (FOR KEY SHARE): the takeover waits for it, and
    the next write of the old term is refused."""
    first, second = pair
    a, b = leases(first), leases(second)
    assert a.look().term is not None
    first.serve_daemon()
    first.fence(1)
    inside, finish = threading.Event(), threading.Event()

    def slow_write() -> None:
        with first.transaction():
            inside.set()
            finish.wait(10)

    writer = threading.Thread(target=slow_write)
    writer.start()
    inside.wait(10)
    time.sleep(LEASE.total_seconds() + 0.2)  # the lease lapsed meanwhile
    taken: list[object] = []
    taker = threading.Thread(target=lambda: taken.append(b.look().term))
    taker.start()
    time.sleep(0.5)
    assert not taken, "the takeover did not wait for the write under way"
    finish.set()
    writer.join()
    taker.join()
    assert taken[0] is not None
    with pytest.raises(Superseded):
        first.save_facts({"config_digest": "x"}, datetime.now(UTC))
    a.close()
    b.close()


def destination():  # type: ignore[no-untyped-def]
    from creneau.alert_kinds import Destination

    return Destination("phone", PHONE)


def enqueue(store: Store, count: int) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    with store.transaction() as writing:
        for index in range(count):
            writing.enqueue(OutboxEvent("t", "trouble", {"n": index}), [destination()], now)


def test_two_senders_never_claim_one_alert(pair: tuple[Store, Store]) -> None:
    first, second = pair
    enqueue(first, 3)
    now = datetime.now(UTC)
    mine = first.outbox.claim_due(now)
    assert len(mine) == 3
    assert second.outbox.claim_due(now) == []
    assert second.outbox.next_due() is None  # nothing it may claim
    first.outbox.mark_sent([mine[0].id], now)
    assert first.outbox.claim_due(now) == mine[1:]  # its own claims again
    assert second.outbox.claim_due(now) == []


def test_rows_locked_by_another_sender_are_skipped(pair: tuple[Store, Store]) -> None:
    """FOR UPDATE SKIP LOCKED: a row another sender is claiming at this instant is left."""
    first, second = pair
    enqueue(first, 2)
    engine = create_engine(first.url)
    with engine.connect() as connection:
        locked = connection.execute(
            text("select id from notifications order by id limit 1 for update")
        ).scalar()
        claimed = second.outbox.claim_due(datetime.now(UTC))
        assert [row.id for row in claimed] == [locked + 1]
        connection.rollback()
    engine.dispose()


def test_the_claims_of_a_dead_sender_go_with_its_term(pair: tuple[Store, Store]) -> None:
    """A sender that died holding claims: the daemon that takes over drops them and sends
    those alerts (once)."""
    first, second = pair
    a, b = leases(first), leases(second)
    assert a.look().term is not None
    assert b.look().term is None  # listed as a daemon
    enqueue(first, 2)
    now = datetime.now(UTC)
    assert len(first.outbox.claim_due(now)) == 2
    assert second.outbox.claim_due(now) == []
    wait_until(lambda: b.look().term is not None)
    assert len(second.outbox.claim_due(now)) == 2
    a.close()
    b.close()


def test_a_lapsed_claim_is_taken_by_the_next_sender(
    pair: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = pair
    monkeypatch.setattr(claims, "CLAIM_LEASE", timedelta(seconds=0.5))
    enqueue(first, 1)
    assert len(first.outbox.claim_due(datetime.now(UTC))) == 1
    wait_until(lambda: len(second.outbox.claim_due(datetime.now(UTC))) == 1)


def test_migrations_started_together_run_once(postgres_server: str) -> None:
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS together WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE together"))
    url = postgres_server.rsplit("/", 1)[0] + "/together"
    stores = [Store(url) for _ in range(4)]
    failures: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def upgrade(store: Store) -> None:
        start.wait()
        try:
            store.upgrade()
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=upgrade, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert all(store.revision() == stores[0].revision() for store in stores)
    with stores[0].engine.connect() as connection:
        assert connection.execute(text("select count(*) from alembic_version")).scalar() == 1
        assert connection.execute(text("select count(*) from leadership")).scalar() == 1
    for store in stores:
        store.close()
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE together WITH (FORCE)"))
    admin.dispose()


def test_a_second_daemon_lock_on_one_sqlite_file_is_refused(store: Store) -> None:
    first, second = store.daemon_lock(), Store(store.url).daemon_lock()
    first.acquire()
    with pytest.raises(AlreadyRunning, match="another creneau run already uses"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()
