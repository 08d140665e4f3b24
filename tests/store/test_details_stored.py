"""A check's detail and a host's breaker reason are stored as a code and its parameters (the
0014 migration's columns), and come back the same; a row written before codes existed keeps
its English sentence, shown as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.details import Detail, render
from creneau.fetch.politeness import HostState
from creneau.results import CheckResult, Status
from creneau.store import Store

PARIS = ZoneInfo("Europe/Paris")


def test_a_detail_is_kept_as_its_code_and_parameters(store: Store) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    until = at + timedelta(minutes=70)
    said = Detail(
        "fetch.cooling_down",
        host="pref.example",
        reason=Detail("http_status", status=429),
        until=until,
    )
    record(
        store,
        CheckResult("t", "ezbooking", "https://pref.example/", Status.BLOCKED, at, detail=said),
        Routing(PARIS),
    )
    (row,) = store.checks("t")
    assert (row.detail, row.detail_code, row.said) == ("", "fetch.cooling_down", said)
    assert render(row.said, "fr", PARIS).endswith(
        until.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M:%S")
    )


def test_a_host_s_reason_is_kept_as_its_code_and_an_older_text_as_it_is(store: Store) -> None:
    now = datetime.now(UTC)
    with store.transaction() as tx:
        tx.save_host_state(
            "a.example", HostState(open_until=now, reason=Detail("breaker.probe_failed")), now
        )
        tx.save_host_state(
            "b.example", HostState(open_until=now, reason="3 failed checks in a row"), now
        )
    hosts = store.host_states()
    assert hosts["a.example"].reason == Detail("breaker.probe_failed")
    assert render(hosts["a.example"].reason, "fr") == "la vérification d'essai a échoué"
    assert hosts["b.example"].reason == "3 failed checks in a row"
    with store.transaction() as tx:  # the breaker closes: no reason is left behind
        tx.save_host_state("a.example", HostState(), now)
    assert store.host_states()["a.example"].reason == ""


def test_rows_written_before_codes_keep_their_english_sentence(tmp_path: Path) -> None:
    old = Store(f"sqlite:///{tmp_path / 'old.db'}")
    old.upgrade(to="0013")
    with old.engine.begin() as connection:  # as 0013 wrote a check
        connection.execute(
            text(
                "insert into checks (target, system, started_at, duration_ms, status, detail, "
                "slot_count, requests) values ('t', 'ezbooking', '2026-12-07 17:10:00', 1, "
                "'none', '3 desks: the page says there is no free slot', 0, 1)"
            )
        )
    old.upgrade()
    (row,) = old.checks("t")
    assert render(row.said, "fr", PARIS) == "3 desks: the page says there is no free slot"
    old.close()
