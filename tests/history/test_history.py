"""The history queries: releases, the weekday × hour heatmap, slot lifetimes, uptime and the
summary's recommendation — across both DST changes, and identical whether a period's checks
are raw or rolled up into `check_hours`."""

from __future__ import annotations

import ast
import csv
import io
import json
import shutil
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, update

from creneau import history
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.cli.history import parse_when
from creneau.history import Release, Scope
from creneau.history.heatmap import hourly_histories_of, moments_of
from creneau.history.releases import release_times_of, releases_of
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.store import Store
from creneau.store.history import SlotAppearance
from creneau.store.schema import CHECK_HOURS, CHECKS, SLOTS

PARIS = ZoneInfo("Europe/Paris")
GUICHETS = {"1": "Guichet 1", "2": "Guichet 2"}
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# Saturday 28 March 2026 00:00 in Paris (CET) to Tuesday 31 March 00:00 (CEST): the spring
# change skips 02:00–03:00 on Sunday 29, so these three local days hold 71 hours.
SPRING_START = datetime(2026, 3, 27, 23, 0, tzinfo=UTC)
SPRING_END = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)
# Sunday 25 October 2026 in Paris: 02:00–03:00 happens twice, the day holds 25 hours.
AUTUMN_START = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
AUTUMN_END = datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


# --- building histories --------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """Slots a guichet shows from `appears` (UTC) for `lasts`."""

    guichet_id: str
    appears: datetime
    lasts: timedelta
    count: int = 2

    def slots(self) -> list[Slot]:
        first = self.appears + timedelta(days=20)
        starts = [first + timedelta(minutes=15 * index) for index in range(self.count)]
        label = GUICHETS[self.guichet_id]
        return [
            Slot(start, self.guichet_id, label, str(int(start.timestamp()))) for start in starts
        ]

    def shown_at(self, at: datetime) -> bool:
        return self.appears <= at < self.appears + self.lasts


def check_at(at: datetime, shown: Sequence[Slot], status: Status | None = None) -> CheckResult:
    """A check of "nanterre": each guichet lists its slots or says it has none; a trouble
    status (blocked…) lists nothing."""
    if status is None:
        guichets = tuple(
            GuichetResult(
                gid,
                label,
                Status.AVAILABLE if any(s.guichet_id == gid for s in shown) else Status.NONE,
                tuple(s for s in shown if s.guichet_id == gid),
            )
            for gid, label in GUICHETS.items()
        )
        status = Status.AVAILABLE if shown else Status.NONE
    else:
        guichets = ()
    return CheckResult(
        "nanterre", "ezbooking", "https://example.org/b/1", status, at, guichets=guichets
    )


def watch(
    store: Store,
    start: datetime,
    end: datetime,
    offers: Sequence[Offer],
    every: timedelta = timedelta(minutes=20),
    trouble: Callable[[datetime], Status | None] = lambda at: None,
) -> None:
    at = start
    while at < end:
        status = trouble(at)
        shown = [] if status else [s for o in offers if o.shown_at(at) for s in o.slots()]
        record(store, check_at(at, shown, status), Routing(PARIS))
        at += every


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


SPRING_OFFERS = (
    Offer("1", paris(28, 9, 5), timedelta(minutes=30)),  # Sat 09:05, seen 09:20, gone 09:40
    Offer("2", paris(29, 3, 10), timedelta(minutes=50)),  # Sun 03:10 CEST, just after the change
    Offer("1", paris(29, 9, 5), timedelta(minutes=70)),  # Sun 09:05, seen 09:20, gone 10:20
    Offer("1", paris(30, 9, 5), timedelta(days=5)),  # Mon 09:05: still shown at the end
)


def blocked_at_sunday_noon(at: datetime) -> Status | None:
    return Status.BLOCKED if paris(29, 12) <= at < paris(29, 13) else None


def spring_history(store: Store) -> None:
    """Checks every 20 minutes over three local days across the spring change; one hour on
    Sunday is blocked (no clear answer)."""
    watch(store, SPRING_START, SPRING_END, SPRING_OFFERS, trouble=blocked_at_sunday_noon)


def roll_up(store: Store, before: datetime) -> None:
    """Move the checks before `before` into `check_hours`, as the retention job does."""
    with store.transaction() as tx:
        connection = tx.connection
        rows = connection.execute(
            select(CHECKS.c.target, CHECKS.c.started_at, CHECKS.c.status, CHECKS.c.requests).where(
                CHECKS.c.started_at < before
            )
        ).all()
        counts: dict[tuple[str, datetime, str], list[int]] = defaultdict(lambda: [0, 0])
        for target, started_at, status, requests in rows:
            count = counts[target, history.floor_hour(started_at), status]
            count[0] += 1
            count[1] += requests
        for (target, hour, status), (checks, requests) in counts.items():
            connection.execute(
                insert(CHECK_HOURS).values(
                    target=target, hour=hour, status=status, checks=checks, requests=requests
                )
            )
        old = select(CHECKS.c.id).where(CHECKS.c.started_at < before)
        connection.execute(
            update(SLOTS).where(SLOTS.c.first_check_id.in_(old)).values(first_check_id=None)
        )
        connection.execute(delete(CHECKS).where(CHECKS.c.started_at < before))


@pytest.fixture(scope="session")
def spring_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spring history, recorded once; each test works on a copy."""
    path = tmp_path_factory.mktemp("spring") / "spring.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    spring_history(store)
    store.close()  # the last connection checkpoints the WAL into the file
    return path


def spring_copy(spring_database: Path, path: Path) -> Store:
    shutil.copyfile(spring_database, path)
    return Store(f"sqlite:///{path}")


@pytest.fixture
def spring(spring_database: Path, tmp_path: Path) -> Iterator[Store]:
    store = spring_copy(spring_database, tmp_path / "creneau.db")
    yield store
    store.close()


# --- releases ----------------------------------------------------------------------------------


def test_a_release_is_per_check_and_guichet_between_two_checks(spring: Store) -> None:
    found = history.releases(spring)
    assert [(r.guichet_id, r.seen_at, r.previous_check_at, r.slot_count) for r in found] == [
        ("1", paris(28, 9, 20), paris(28, 9, 0), 2),
        ("2", paris(29, 3, 20), paris(29, 3, 0), 2),
        ("1", paris(29, 9, 20), paris(29, 9, 0), 2),
        ("1", paris(30, 9, 20), paris(30, 9, 0), 2),
    ]
    assert found[0].to_json() == {
        "target": "nanterre",
        "guichet": "Guichet 1",
        "guichet_id": "1",
        "seen_at": "2026-03-28T08:20:00+00:00",
        "previous_check_at": "2026-03-28T08:00:00+00:00",
        "slot_count": 2,
        "slots": ["2026-04-17T08:05:00+00:00", "2026-04-17T08:20:00+00:00"],
    }
    assert found[0].all_gone_after == timedelta(minutes=20)  # gone at the 09:40 check
    assert found[-1].all_gone_after is None  # still shown


def test_releases_filter_by_period_target_and_guichet(spring: Store) -> None:
    sunday = Scope(since=paris(29, 0), until=paris(30, 0))
    assert [r.seen_at for r in history.releases(spring, sunday)] == [
        paris(29, 3, 20),
        paris(29, 9, 20),
    ]
    by_label = history.releases(spring, Scope(guichet="Guichet 2"))
    assert [r.guichet_id for r in by_label] == ["2"]
    assert [r.guichet_id for r in history.releases(spring, Scope(guichet="2"))] == ["2"]
    assert history.releases(spring, Scope(target="elsewhere")) == []


def test_releases_need_no_checks_once_rolled_up(spring: Store) -> None:
    before = history.releases(spring)
    roll_up(spring, SPRING_END)
    assert spring.checks() == []
    assert history.releases(spring) == before


# --- first sightings and blind stretches ---------------------------------------------------------


def three_minutes_on_monday(store: Store) -> None:
    """The issue's short run: checks every minute from Monday 14:00; the first already shows 5
    slots at guichet 1; guichet 2's 2 slots appear at 14:01:30, seen at 14:02."""
    start = paris(30, 14)
    offers = [
        Offer("1", start - timedelta(days=1), timedelta(days=2), count=5),
        Offer("2", start + timedelta(seconds=90), timedelta(days=2)),
    ]
    watch(store, start, start + timedelta(minutes=3), offers, every=timedelta(minutes=1))


def test_slots_shown_at_the_first_check_are_no_release(store: Store) -> None:
    three_minutes_on_monday(store)
    [release] = history.releases(store)
    assert (release.guichet_id, release.seen_at, release.previous_check_at) == (
        "2",
        paris(30, 14, 2),
        paris(30, 14, 1),
    )
    grid = history.heatmap(store, PARIS)
    monday_2pm = grid.cell(MON, 14)
    assert (monday_2pm.observed_hours, monday_2pm.release_hours, monday_2pm.releases) == (1, 1, 1)
    assert [(line.guichet_id, line.censored) for line in history.lifetimes(store)] == [("2", 2)]
    [report] = history.reports(store, PARIS)
    assert (report.releases, report.last_release) == (1, release)
    [summary] = history.summaries(store)
    assert summary.releases == 1
    assert history.release_times(store, "nanterre") == [paris(30, 14, 1) + timedelta(seconds=30)]
    assert history.first_check(store, "nanterre") == paris(30, 14)  # the weeks it covers
    assert history.first_check(store, "elsewhere") is None
    [seen] = history.activity(store, paris(30, 0))
    assert seen.last_release == paris(30, 14, 2)


def test_a_target_that_only_ever_showed_its_first_slots_has_no_release(store: Store) -> None:
    start = paris(30, 14)
    offer = Offer("1", start - timedelta(days=1), timedelta(days=2), count=5)
    watch(store, start, start + timedelta(minutes=3), [offer], every=timedelta(minutes=1))
    assert len(store.slots()) == 5
    assert history.releases(store) == []
    grid = history.heatmap(store, PARIS)
    assert (grid.releases, grid.cell(MON, 14).observed_hours, grid.cell(MON, 14).probability) == (
        0,
        1,
        0.0,
    )
    assert history.lifetimes(store) == []
    [report] = history.reports(store, PARIS)
    assert (report.releases, report.last_release, report.typical_hours) == (0, None, ())
    assert history.release_times(store, "nanterre") == []
    assert history.activity(store, start)[0].last_release is None


def blocked_until(end: datetime) -> Callable[[datetime], Status | None]:
    return lambda at: Status.BLOCKED if at < end else None


def test_slots_at_the_first_clear_answer_after_blocked_checks_are_no_release(
    store: Store,
) -> None:
    # Blocked at 09:00 and 09:20 (the slow first sightings' previous check is one of these),
    # first clear answer at 09:40 with slots that were there all along.
    offer = Offer("1", paris(28, 8), timedelta(days=1))
    watch(store, paris(28, 9), paris(28, 11), [offer], trouble=blocked_until(paris(28, 9, 40)))
    # The store keeps the last clear answer before a sighting: none before the first one.
    assert [slot.previous_check_at for slot in store.slots()] == [None, None]
    assert history.releases(store) == []
    assert history.heatmap(store, PARIS).releases == 0
    assert history.release_times(store, "nanterre") == []


def blocked_between(start: datetime, end: datetime) -> Callable[[datetime], Status | None]:
    return lambda at: Status.BLOCKED if start <= at < end else None


def test_a_release_after_a_blocked_run_is_known_since_the_last_clear_answer(
    spring_database: Path, tmp_path: Path
) -> None:
    # Every 20 min from Saturday 08:00: guichet 2's slots appear at 08:30, seen at 08:40, gone
    # at 09:00; blocked from 10:00 to 11:40 (two whole hours); guichet 1's slots appear at
    # 11:30, seen at 12:00. Their release happened after 09:40, the last clear answer, not
    # after 11:40 (blocked, saw nothing).
    raw = Store(f"sqlite:///{tmp_path / 'raw.db'}")
    raw.upgrade()
    offers = [
        Offer("2", paris(28, 8, 30), timedelta(minutes=20)),
        Offer("1", paris(28, 11, 30), timedelta(days=1)),
    ]
    trouble = blocked_between(paris(28, 10), paris(28, 12))
    watch(raw, paris(28, 8), paris(28, 14), offers, trouble=trouble)
    assert [slot.previous_check_at for slot in raw.slots()] == [
        paris(28, 8, 20),
        paris(28, 8, 20),
        paris(28, 9, 40),
        paris(28, 9, 40),
    ]
    morning, noon = history.releases(raw)
    assert (morning.seen_at, morning.previous_check_at) == (paris(28, 8, 40), paris(28, 8, 20))
    assert (noon.seen_at, noon.previous_check_at) == (paris(28, 12), paris(28, 9, 40))
    assert not noon.precise
    grid = history.heatmap(raw, PARIS)
    # Not placed at 12h: it may have happened in any hour from 09:40 on.
    assert (grid.releases, grid.unplaced, grid.cell(SAT, 8).release_hours) == (1, 1, 1)
    assert (grid.cell(SAT, 12).observed_hours, grid.cell(SAT, 12).release_hours) == (1, 0)
    assert history.release_times(raw, "nanterre") == [paris(28, 8, 30), paris(28, 10, 50)]
    [report] = history.reports(raw, PARIS)
    assert report.releases == 2
    assert [(typical.hour, typical.releases) for typical in report.typical_hours] == [(8, 1)]
    raw.close()
    # Rolled up: the slot rows keep the last clear answer, so the answer is the same.
    shutil.copyfile(tmp_path / "raw.db", tmp_path / "rolled.db")
    rolled = Store(f"sqlite:///{tmp_path / 'rolled.db'}")
    roll_up(rolled, paris(28, 14))
    assert [r.previous_check_at for r in history.releases(rolled)] == [
        paris(28, 8, 20),
        paris(28, 9, 40),
    ]
    assert history.heatmap(rolled, PARIS) == grid
    rolled.close()


def test_a_release_after_one_failed_check_is_still_placed(store: Store) -> None:
    # 09:00 none, 09:20 error, 09:40 slots (appeared 09:30): known within 40 minutes.
    offer = Offer("1", paris(28, 9, 30), timedelta(days=1))
    failing = {paris(28, 9, 20): Status.ERROR}
    watch(store, paris(28, 9), paris(28, 10, 30), [offer], trouble=failing.get)
    [release] = history.releases(store)
    assert (release.seen_at, release.previous_check_at, release.precise) == (
        paris(28, 9, 40),
        paris(28, 9),
        True,
    )
    grid = history.heatmap(store, PARIS)
    assert (grid.releases, grid.unplaced, grid.cell(SAT, 9).probability) == (1, 0, 1.0)


def test_cli_heatmap_counts_no_release_at_the_first_check(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    store.upgrade()
    start = paris(30, 14)
    offer = Offer("1", start - timedelta(days=1), timedelta(days=2), count=5)
    watch(store, start, start + timedelta(minutes=3), [offer], every=timedelta(minutes=1))
    store.close()
    code, stdout, _ = run("heatmap", "--config", str(config))
    assert code == 0
    assert "0%·1" in stdout
    assert "100%" not in stdout
    assert "0 releases over 1 observed hours." in stdout
    code, stdout, _ = run("releases", "--config", str(config), "--json")
    assert (code, stdout) == (0, "")


# --- lifetimes ---------------------------------------------------------------------------------


def test_lifetimes_per_guichet_with_censored_slots(spring: Store) -> None:
    guichet_1, guichet_2 = history.lifetimes(spring)
    # Guichet 1: two slots gone after 20 min (Sat), two after 60 min (Sun), two still shown.
    assert (guichet_1.gone, guichet_1.censored) == (4, 2)
    assert guichet_1.median == timedelta(minutes=40)
    assert guichet_1.p90 == timedelta(minutes=60)
    # Guichet 2: seen at 03:20, gone at the 04:00 check.
    assert (guichet_2.gone, guichet_2.censored, guichet_2.median) == (2, 0, timedelta(minutes=40))
    assert guichet_1.to_json() == {
        "target": "nanterre",
        "guichet": "Guichet 1",
        "guichet_id": "1",
        "slots": 6,
        "gone": 4,
        "censored": 2,
        "median_s": 2400.0,
        "p90_s": 3600.0,
    }


def test_quantiles_interpolate_between_ranks() -> None:
    minutes = [timedelta(minutes=m) for m in (50, 10, 40, 20, 30)]
    assert history.quantile(minutes, 0.5) == timedelta(minutes=30)
    assert history.quantile(minutes, 0.9) == timedelta(minutes=46)
    assert history.quantile([timedelta(minutes=7)], 0.9) == timedelta(minutes=7)
    assert history.quantile([], 0.5) is None


# --- heatmap -----------------------------------------------------------------------------------


def test_heatmap_across_the_spring_change(spring: Store) -> None:
    grid = history.heatmap(spring, PARIS)
    assert grid.observed_hours == 71 - 1  # the blocked hour is not observed
    assert grid.releases == 4
    sat_9 = grid.cell(SAT, 9)
    assert (sat_9.observed_hours, sat_9.release_hours, sat_9.probability) == (1, 1, 1.0)
    assert grid.cell(SUN, 2).observed_hours == 0  # 02:00 did not exist that Sunday
    assert grid.cell(SUN, 2).probability is None
    assert (grid.cell(SUN, 3).observed_hours, grid.cell(SUN, 3).probability) == (1, 1.0)
    assert (grid.cell(SUN, 1).observed_hours, grid.cell(SUN, 1).probability) == (1, 0.0)
    assert grid.cell(SUN, 12).probability is None  # blocked all hour: unknown, not "never"
    assert (grid.cell(MON, 9).probability, grid.cell(MON, 10).probability) == (1.0, 0.0)
    assert grid.cell(TUE, 9).observed_hours == 0


def test_heatmap_across_the_autumn_change(store: Store) -> None:
    # The second 02:05 (CET, 01:05 UTC): seen at 02:20 CET.
    offer = Offer("1", datetime(2026, 10, 25, 1, 5, tzinfo=UTC), timedelta(minutes=30))
    watch(store, AUTUMN_START, AUTUMN_END, [offer])
    grid = history.heatmap(store, PARIS)
    assert grid.observed_hours == 25
    two = grid.cell(SUN, 2)  # both 02:00–03:00, CEST then CET
    assert (two.observed_hours, two.release_hours, two.releases, two.probability) == (2, 1, 1, 0.5)
    assert grid.cell(SUN, 3).observed_hours == 1


def test_probability_counts_hours_not_releases(store: Store) -> None:
    offers = [
        Offer("1", paris(28, 9, 5), timedelta(minutes=20)),  # seen at 09:20
        Offer("2", paris(28, 9, 5), timedelta(minutes=20)),  # seen at 09:20 too
        Offer("1", paris(28, 9, 25), timedelta(minutes=20)),  # seen at 09:40
    ]
    watch(store, paris(28, 8), paris(28, 11), offers)
    cell = history.heatmap(store, PARIS).cell(SAT, 9)
    assert (cell.observed_hours, cell.release_hours, cell.releases, cell.probability) == (
        1,
        1,
        3,
        1.0,
    )


def test_heatmap_periods_are_whole_hours(spring: Store) -> None:
    # From Sunday 09:30: the hour 09:00–10:00 starts before, so it is left out with its release.
    grid = history.heatmap(spring, PARIS, Scope(since=paris(29, 9, 30), until=paris(29, 12)))
    assert grid.observed_hours == 2  # 10:00 and 11:00
    assert grid.releases == 0


def test_heatmap_of_a_guichet_counts_its_target_hours(spring: Store) -> None:
    grid = history.heatmap(spring, PARIS, Scope(guichet="Guichet 2"))
    assert grid.observed_hours == 70
    assert grid.releases == 1
    assert grid.cell(SUN, 3).probability == 1.0
    assert grid.cell(SAT, 9).probability == 0.0


# --- uptime ------------------------------------------------------------------------------------


def test_uptime_per_local_day_across_the_spring_change(spring: Store) -> None:
    days = {day.day.isoformat(): day for day in history.uptime(spring, PARIS)}
    assert list(days) == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert [day.checks for day in days.values()] == [72, 69, 72]  # Sunday had 23 hours
    sunday = days["2026-03-29"]
    assert sunday.counts == {"none": 61, "available": 5, "blocked": 3}
    assert sunday.share("blocked") == pytest.approx(3 / 69)
    assert sunday.clear == pytest.approx(66 / 69)
    assert days["2026-03-30"].counts == {"none": 28, "available": 44}  # from 09:20


def test_uptime_reads_rolled_up_hours_alone(store: Store) -> None:
    # Sunday 25 October, 25 local hours, each with 4 "none" checks, except 06:00 CET
    # (05:00 UTC): blocked all hour; and 2 errors at 00:00 UTC.
    with store.transaction() as tx:
        for index in range(25):
            hour = AUTUMN_START + timedelta(hours=index)
            status = "blocked" if hour.hour == 5 else "none"
            tx.connection.execute(
                insert(CHECK_HOURS).values(target="lyon", hour=hour, status=status, checks=4)
            )
        midnight_utc = datetime(2026, 10, 25, 0, tzinfo=UTC)
        tx.connection.execute(
            insert(CHECK_HOURS).values(target="lyon", hour=midnight_utc, status="error", checks=2)
        )
        tx.connection.execute(
            insert(SLOTS).values(
                target="lyon",
                guichet_id="7",
                guichet="Accueil",
                start=datetime(2026, 11, 2, 9, tzinfo=UTC),
                key="k",
                first_seen=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET
                last_seen=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
                gone_at=None,
                first_check_id=None,
                previous_check_at=datetime(2026, 10, 25, 1, 15, tzinfo=UTC),
            )
        )
    [day] = history.uptime(store, PARIS)
    assert (day.target, day.day.isoformat(), day.checks) == ("lyon", "2026-10-25", 102)
    assert day.counts == {"none": 96, "blocked": 4, "error": 2}
    grid = history.heatmap(store, PARIS)
    assert grid.observed_hours == 24
    assert (grid.cell(SUN, 2).observed_hours, grid.cell(SUN, 2).probability) == (2, 0.5)
    assert grid.cell(SUN, 6).probability is None


# --- raw or rolled up: the same answers --------------------------------------------------------


def every_answer(store: Store, scope: Scope = history.EVERYTHING) -> dict[str, object]:
    return {
        "releases": history.releases(store, scope),
        "lifetimes": history.lifetimes(store, scope),
        "heatmap": history.heatmap(store, PARIS, scope),
        "uptime": history.uptime(store, PARIS, scope),
        "reports": history.reports(store, PARIS, scope),
    }


@pytest.mark.parametrize(
    "before",
    [
        SPRING_END,  # every check rolled up
        paris(29, 10, 30),  # up to Sunday 10:30: that hour is half raw, half rolled up
    ],
)
@pytest.mark.parametrize(
    "scope",
    [history.EVERYTHING, Scope(since=paris(29, 0), until=paris(30, 0)), Scope(guichet="1")],
)
def test_rolled_up_checks_give_the_same_answers(
    spring_database: Path, tmp_path: Path, before: datetime, scope: Scope
) -> None:
    raw = spring_copy(spring_database, tmp_path / "raw.db")
    rolled = spring_copy(spring_database, tmp_path / "rolled.db")
    roll_up(rolled, before)
    assert len(rolled.checks()) < len(raw.checks())
    assert every_answer(rolled, scope) == every_answer(raw, scope)
    raw.close()
    rolled.close()


@pytest.mark.parametrize("before", [None, paris(29, 10, 30)])  # all raw, or part rolled up
def test_postgresql_gives_the_same_answers(
    spring: Store, postgres_store: Store, before: datetime | None
) -> None:
    """The history's statements (the day grid of bound values, the check before a release)
    read the same on both databases."""
    spring_history(postgres_store)
    if before is not None:
        roll_up(spring, before)
        roll_up(postgres_store, before)
    for scope in (history.EVERYTHING, Scope(since=paris(29, 0), until=paris(30, 0))):
        assert every_answer(postgres_store, scope) == every_answer(spring, scope)


# --- the recommendation ------------------------------------------------------------------------


def release_at(local: datetime, gap: timedelta | None = timedelta(minutes=10)) -> Release:
    seen = local.astimezone(UTC)
    return Release(
        "nanterre", "1", "Guichet 1", seen, seen - gap if gap else None, (seen,), (None,)
    )


def weekday_mornings(count: int, hour: int = 9, minute: int = 5) -> list[Release]:
    """Releases at HH:MM on `count` consecutive weekdays from Monday 2 March 2026."""
    days = [day for day in range(2, 31) if datetime(2026, 3, day).weekday() < 5][:count]
    return [release_at(datetime(2026, 3, day, hour, minute, tzinfo=PARIS)) for day in days]


def test_one_window_covers_most_releases() -> None:
    thursdays = [release_at(datetime(2026, 3, day, 14, 5, tzinfo=PARIS)) for day in (5, 12, 19)]
    found = weekday_mornings(12) + thursdays
    advice = history.recommend(found, observed_days=28, zone=PARIS)
    assert advice.text() == "check between 09:00 and 09:15 on weekdays (12 of 15 releases)"
    assert [window.to_json() for window in advice.windows] == [
        {
            "start": "09:00",
            "end": "09:15",
            "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "releases": 12,
        }
    ]


def test_a_second_window_when_one_is_not_enough() -> None:
    thursdays = [release_at(datetime(2026, 3, day, 14, 5, tzinfo=PARIS)) for day in (5, 12, 19, 26)]
    evening = [release_at(datetime(2026, 3, 3, 20, 0, tzinfo=PARIS))]
    advice = history.recommend(weekday_mornings(10) + thursdays + evening, 28, PARIS)
    assert advice.text() == (
        "check between 09:00 and 09:15 on weekdays and between 14:00 and 14:15 on Thursdays "
        "(14 of 15 releases)"
    )


def test_adjacent_quarters_make_one_window() -> None:
    found = weekday_mornings(5, hour=8, minute=50) + weekday_mornings(5, minute=5)
    advice = history.recommend(found, 28, PARIS)
    assert advice.text() == "check between 08:45 and 09:15 on weekdays (10 of 10 releases)"


def test_not_enough_data_below_the_thresholds() -> None:
    imprecise = [
        release_at(datetime(2026, 3, 9, 9, 5, tzinfo=PARIS), gap=None),
        release_at(datetime(2026, 3, 10, 9, 5, tzinfo=PARIS), gap=timedelta(hours=13)),
    ]
    advice = history.recommend(weekday_mornings(4) + imprecise, 28, PARIS)
    assert advice.windows == ()
    assert advice.text() == (
        "not enough data: 4 releases with a known time (need 5) over 28 observed days (need 7)"
    )
    too_short = history.recommend(weekday_mornings(10), observed_days=6, zone=PARIS)
    assert too_short.text().startswith("not enough data: 10 releases with a known time")


def test_no_pattern_when_releases_are_spread_over_the_day() -> None:
    found = [
        release_at(datetime(2026, 3, 2 + hour % 20, hour, 5, tzinfo=PARIS)) for hour in range(24)
    ]
    advice = history.recommend(found, 28, PARIS)
    assert advice.windows == ()
    assert advice.text() == (
        "no clear pattern: covering 80% of 24 releases takes 5 h of the day; check all day"
    )


def test_summary_recommends_from_rolled_up_weeks(store: Store) -> None:
    # Two weeks observed (rolled-up hours only), a release at 09:05 every weekday.
    first = datetime(2026, 3, 2, tzinfo=PARIS).astimezone(UTC)
    with store.transaction() as tx:
        for index in range(14 * 24):
            tx.connection.execute(
                insert(CHECK_HOURS).values(
                    target="nanterre",
                    hour=first + timedelta(hours=index),
                    status="none",
                    checks=4,
                )
            )
        for release in weekday_mornings(10):
            tx.connection.execute(
                insert(SLOTS).values(
                    target="nanterre",
                    guichet_id="1",
                    guichet="Guichet 1",
                    start=release.seen_at + timedelta(days=10),
                    key="k",
                    first_seen=release.seen_at,
                    last_seen=release.seen_at,
                    gone_at=release.seen_at + timedelta(minutes=12),
                    first_check_id=None,
                    previous_check_at=release.previous_check_at,
                )
            )
    [report] = history.reports(store, PARIS)
    assert (report.releases, report.observed_hours, report.observed_days) == (10, 336, 14)
    assert report.recommendation.text() == (
        "check between 09:00 and 09:15 on weekdays (10 of 10 releases)"
    )
    assert [(t.hour, t.releases, t.probability) for t in report.typical_hours] == [(9, 10, 10 / 14)]
    assert (report.lifetime.median, report.lifetime.censored) == (timedelta(minutes=12), 0)


# --- analysis over plain data -----------------------------------------------------------------


def appearance(guichet_id: str, seen: datetime, start_hours: int) -> SlotAppearance:
    start = seen + timedelta(days=9, hours=start_hours)
    return SlotAppearance("nanterre", guichet_id, GUICHETS[guichet_id], seen, start, None)


def test_releases_and_the_heatmap_are_computed_from_plain_answers() -> None:
    # What the store would answer: two slots seen at 09:20 (guichet 1), one at 09:40 (guichet
    # 2), the first at the target's first clear answer; the last clear answer before 09:40.
    first, later = paris(28, 9, 20), paris(28, 9, 40)
    shown = [appearance("1", first, 0), appearance("1", first, 1), appearance("2", later, 0)]
    since = {("nanterre", later): paris(28, 9, 20)}
    [release] = releases_of(shown, since)
    assert (release.guichet_id, release.seen_at, release.previous_check_at) == (
        "2",
        later,
        first,
    )
    assert release_times_of(since) == [paris(28, 9, 30)]
    hours = frozenset({history.epoch_hour(paris(28, 8)), history.epoch_hour(paris(28, 9))})
    histories = hourly_histories_of({"nanterre": hours}, moments_of([release]))
    grid = history.heatmap_of(histories, history.LocalHours(PARIS))
    assert (grid.cell(SAT, 9).probability, grid.cell(SAT, 8).probability) == (1.0, 0.0)
    assert (grid.observed_hours, grid.releases, grid.unplaced) == (2, 1, 0)


def test_history_and_evidence_never_touch_the_database_themselves() -> None:
    for package in ("history", "evidence"):
        for module in (Path(history.__file__).parent.parent / package).glob("*.py"):
            tree = ast.parse(module.read_text(encoding="utf-8"))
            imported = [
                name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for name in (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
            ]
            assert not [name for name in imported if name.split(".")[0] == "sqlalchemy"], module
            assert "creneau.store.schema" not in imported, module


def test_the_svg_heatmap_is_well_formed_and_shows_page_text_as_text(spring: Store) -> None:
    grid = history.heatmap(spring, PARIS)
    drawn = history.heatmap_svg(grid, f"Release probability — guichet {HOSTILE} <b>&")
    root = ElementTree.fromstring(drawn)
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == f"Release probability — guichet {HOSTILE_SHOWN} <b>&"
    titles = [element.text for element in root.iter("{http://www.w3.org/2000/svg}title")]
    assert len(titles) == 7 * 24
    assert "Sat 09:00–10:00: 100% (1 of 1 observed hours had a release; 1 releases)" in titles
    assert "Sun 02:00–03:00: never observed" in titles
    assert texts[-1].endswith("4 releases, 70 observed hours, Europe/Paris time.")
    assert history.shade(0.0) == history.PALE
    assert history.shade(1.0) == history.DARK


# --- the command line --------------------------------------------------------------------------


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[creneau]
database = "sqlite:///{tmp_path / "creneau.db"}"
contact = "tests@example.org"
[[target]]
name = "nanterre"
system = "ezbooking"
url = "http://127.0.0.1:9/booking/create/1001"
every = "2s"
""")
    return path


@pytest.fixture
def config(spring_database: Path, tmp_path: Path) -> Path:
    shutil.copyfile(spring_database, tmp_path / "creneau.db")
    return write_config(tmp_path)


def run(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, ["history", *args])
    return done.exit_code, done.stdout, done.stderr


def test_cli_releases_json_and_csv(config: Path) -> None:
    code, stdout, _ = run("releases", "--config", str(config), "--json", "--until", "2026-03-28")
    assert code == 0
    assert [json.loads(line)["seen_at"] for line in stdout.splitlines()] == [
        "2026-03-28T08:20:00+00:00"
    ]
    code, stdout, _ = run("releases", "--config", str(config), "--csv", "--guichet", "2")
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert code == 0
    assert [
        (r["guichet"], r["seen_at"], r["previous_check_at"], r["slot_count"]) for r in rows
    ] == [("Guichet 2", "2026-03-29T01:20:00+00:00", "2026-03-29T01:00:00+00:00", "2")]
    assert rows[0]["all_gone_after_s"] == "2400"


def test_cli_until_a_day_includes_that_day(config: Path) -> None:
    args = ("releases", "--config", str(config), "--json", "--since", "2026-03-29")
    code, stdout, _ = run(*args, "--until", "2026-03-29")
    assert code == 0
    assert len(stdout.splitlines()) == 2  # Sunday's two
    code, stdout, _ = run(*args, "--until", "2026-03-29T09:20:00+02:00")
    assert len(stdout.splitlines()) == 1  # an instant is excluded


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--since", "yesterday"),
            "--since 'yesterday': expected a day (YYYY-MM-DD) or an ISO 8601 date and time",
        ),
        (("--since", "2026-03-30", "--until", "2026-03-29"), "is not before --until"),
        (("--json", "--csv"), "choose one of --json and --csv"),
    ],
)
def test_cli_refuses_bad_values_in_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, stdout, stderr = run("heatmap", "--config", str(write_config(tmp_path)), *args)
    assert code == 2
    assert message in stderr
    assert stdout == ""


def test_parse_when_reads_days_and_instants() -> None:
    assert parse_when("--since", "2026-03-29", PARIS, end_of_day=False) == paris(29, 0)
    assert parse_when("--until", "2026-03-29", PARIS, end_of_day=True) == paris(30, 0)
    assert parse_when("--since", "2026-03-29T09:30", PARIS, end_of_day=False) == paris(29, 9, 30)
    assert parse_when("--since", "2026-03-29T07:30Z", PARIS, end_of_day=False) == paris(29, 9, 30)
    with pytest.raises(click.UsageError):
        parse_when("--since", "2026-02-30", PARIS, end_of_day=False)


def test_cli_heatmap_json_csv_table_and_svg(config: Path, tmp_path: Path) -> None:
    svg = tmp_path / "heat.svg"
    code, stdout, stderr = run("heatmap", "--config", str(config), "--json", "--svg", str(svg))
    cells = [json.loads(line) for line in stdout.splitlines()]
    assert code == 0
    assert len(cells) == 168
    assert cells[5 * 24 + 9] == {
        "weekday": "Sat",
        "hour": 9,
        "observed_hours": 1,
        "release_hours": 1,
        "releases": 1,
        "probability": 1.0,
    }
    assert cells[6 * 24 + 2]["probability"] is None
    assert f"heatmap drawn in {svg}" in stderr
    root = ElementTree.parse(svg).getroot()
    titles = [element.text for element in root.iter("{http://www.w3.org/2000/svg}title")]
    assert len(titles) == 168
    assert "Sat 09:00–10:00: 100% (1 of 1 observed hours had a release; 1 releases)" in titles
    assert "Sun 02:00–03:00: never observed" in titles
    code, stdout, _ = run("heatmap", "--config", str(config), "--csv")
    rows = list(csv.reader(io.StringIO(stdout)))
    assert rows[0] == [
        "weekday",
        "hour",
        "observed_hours",
        "release_hours",
        "releases",
        "probability",
    ]
    assert rows[1 + 7 * 24 - 24 + 3] == ["Sun", "3", "1", "1", "1", "1.0000"]
    code, stdout, _ = run("heatmap", "--config", str(config))
    assert code == 0
    assert "100%·1" in stdout
    assert "4 releases over 70 observed hours." in stdout


def test_cli_lifetime_and_uptime(config: Path) -> None:
    code, stdout, _ = run("lifetime", "--config", str(config), "--json")
    assert code == 0
    assert [
        (line["guichet_id"], line["median_s"], line["censored"])
        for line in map(json.loads, stdout.splitlines())
    ] == [("1", 2400.0, 2), ("2", 2400.0, 0)]
    code, stdout, _ = run("uptime", "--config", str(config), "--csv", "--since", "2026-03-29")
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert code == 0
    assert [(r["day"], r["checks"], r["blocked"], r["clear"]) for r in rows] == [
        ("2026-03-29", "69", f"{3 / 69:.4f}", f"{66 / 69:.4f}"),
        ("2026-03-30", "72", "0.0000", "1.0000"),
    ]
    code, stdout, _ = run("uptime", "--config", str(config))
    assert "2026-03-29 Sun" in stdout
    assert "4.3%" in stdout  # blocked, 3 of 69


def test_cli_summary(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = run("summary", "--config", str(config), "--json")
    [report] = [json.loads(line) for line in stdout.splitlines()]
    assert code == 0
    assert report["recommendation"]["text"] == (
        "not enough data: 4 releases with a known time (need 5) over 3 observed days (need 7)"
    )
    assert report["typical_hours"][0] == {"hour": 9, "releases": 3, "probability": 1.0}
    assert report["last_release"]["seen_at"] == "2026-03-30T07:20:00+00:00"
    code, stdout, _ = run("summary", "--config", str(config))
    assert code == 0
    assert "Last release   Mon 2026-03-30 09:20, after a check at 09:00" in stdout
    assert "median 40 min, p90 1 h 00" in stdout


def test_summary_repeats_what_the_site_last_said_of_its_releases(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spring = Store(f"sqlite:///{config.parent / 'creneau.db'}")
    said = {
        "last_release_at": "2026-03-30T11:58:00+02:00",
        "last_release_week": "2026-04-13",
    }
    older = {"last_release_at": "2026-03-23T11:58:00+01:00"}
    after, hour = SPRING_END + timedelta(hours=1), timedelta(hours=1)
    for at, facts in ((after, older), (after + hour, said), (after + 2 * hour, {})):
        record(spring, replace(check_at(at, []), facts=facts), Routing(PARIS))
    spring.close()
    [report] = history.reports(spring, PARIS)
    assert report.site_says is not None
    assert report.site_says.as_facts() == said
    [before] = history.reports(spring, PARIS, Scope(until=after + hour))
    assert before.site_says is not None
    assert before.site_says.as_facts() == older
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = run("summary", "--config", str(config))
    assert code == 0
    assert (
        "The site says  slots last put online Mon 2026-03-30 11:58, for the week of 2026-04-13"
        in stdout
    )
    code, stdout, _ = run("summary", "--config", str(config), "--csv")
    [row] = csv.DictReader(io.StringIO(stdout))
    assert row["site_last_release_at"] == "2026-03-30T11:58:00+02:00"


# --- page text on the terminal ---------------------------------------------------------------

HOSTILE = (
    "[bold red]ALERTE[/bold red] [link=http://evil.example]lien[/link] :warning: "
    "\x1b[31mrouge\x1b]0;titre\x07 \x9b2J"
)
HOSTILE_SHOWN = (
    "[bold red]ALERTE[/bold red] [link=http://evil.example]lien[/link] :warning: "
    "␛[31mrouge␛]0;titre␇ �2J"
)
FORMULA = '=HYPERLINK("http://evil.example","Réservez")'


def hostile_history(tmp_path: Path) -> Path:
    """Two checks: nothing, then a slot at a guichet labelled with a formula and two at one
    labelled with Rich markup and escape sequences (the latest release)."""
    config = write_config(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'creneau.db'}")
    store.upgrade()
    seen = paris(30, 9, 20)
    slots = [
        Slot(seen + timedelta(days=9, hours=index), guichet_id, label, str(index))
        for index, (guichet_id, label) in enumerate(
            [("1", FORMULA), ("2", HOSTILE), ("2", HOSTILE)]
        )
    ]
    for at, shown in ((paris(30, 9), []), (seen, slots)):
        guichets = tuple(
            GuichetResult(
                gid,
                label,
                Status.AVAILABLE if any(s.guichet_id == gid for s in shown) else Status.NONE,
                tuple(s for s in shown if s.guichet_id == gid),
            )
            for gid, label in (("1", FORMULA), ("2", HOSTILE))
        )
        status = Status.AVAILABLE if shown else Status.NONE
        result = CheckResult("nanterre", "ezbooking", "http://x", status, at, guichets=guichets)
        record(store, result, Routing(PARIS))
    store.close()
    return config


def test_cli_tables_print_page_text_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    config = hostile_history(tmp_path)
    for command in ("releases", "lifetime", "summary"):
        code, stdout, stderr = run(command, "--config", str(config))
        assert (code, stderr) == (0, ""), command
        assert HOSTILE_SHOWN in stdout, command
        assert "\x1b" not in stdout, command
        assert "\x9b" not in stdout, command
        assert "⚠" not in stdout, command


def test_cli_json_keeps_page_text_exact_and_escaped(tmp_path: Path) -> None:
    config = hostile_history(tmp_path)
    code, stdout, _ = run("releases", "--config", str(config), "--json")
    assert code == 0
    assert [json.loads(line)["guichet"] for line in stdout.splitlines()] == [FORMULA, HOSTILE]
    assert "\x1b" not in stdout
    assert "\x9b" not in stdout
    assert "\\u009b2J" in stdout


def test_cli_csv_cells_are_one_line_and_never_formulas(tmp_path: Path) -> None:
    config = hostile_history(tmp_path)
    code, stdout, _ = run("releases", "--config", str(config), "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert [(row["guichet_id"], row["guichet"]) for row in rows] == [
        ("1", "'" + FORMULA),
        ("2", HOSTILE_SHOWN),
    ]
    code, stdout, _ = run("lifetime", "--config", str(config), "--csv")
    assert [row["guichet"] for row in csv.DictReader(io.StringIO(stdout))] == [
        "'" + FORMULA,
        HOSTILE_SHOWN,
    ]


def test_svg_title_with_a_hostile_guichet_is_well_formed(tmp_path: Path) -> None:
    config = hostile_history(tmp_path)
    svg = tmp_path / "heat.svg"
    code, _, _ = run("heatmap", "--config", str(config), "--guichet", HOSTILE, "--svg", str(svg))
    assert code == 0
    root = ElementTree.parse(svg).getroot()
    [title, *_] = root.iter("{http://www.w3.org/2000/svg}text")
    assert (
        title.text == f"Release probability — all targets, guichet {HOSTILE_SHOWN} (Europe/Paris)"
    )
