"""The simulated ezbooking préfecture can release on a weekly pattern with noise (issue 26,
the learned case): instants near a weekday and time, a share at random times of the week,
played on the simulator's clock. Time is the test's own."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from creneau.simulator.pages import PARIS
from creneau.simulator.wire import Request
from creneau.sources.ezbooking.simulator import (
    Prefecture,
    default_bookings,
    weekly_release_instants,
)
from harness.virtual_time import VIRTUAL_START

TEN = timedelta(minutes=10)
NINE = time(9, 0)


def test_releases_fall_within_the_spread_of_the_weekly_time_once_a_week() -> None:
    releases = weekly_release_instants(VIRTUAL_START, 30, 0, NINE, TEN, 0.0, random.Random(1))
    # The start is a Tuesday: its week's Monday has passed, so 29 releases.
    assert len(releases) == 29
    assert all(release.on_pattern for release in releases)
    for release in releases:
        local = release.at.astimezone(PARIS)
        aimed = datetime.combine(local.date(), NINE, PARIS)
        assert (local.weekday(), abs(local - aimed) <= TEN) == (0, True)
    weeks = {release.at.astimezone(PARIS).isocalendar()[:2] for release in releases}
    assert len(weeks) == len(releases)
    offsets = [
        (r.at - datetime.combine(r.at.astimezone(PARIS).date(), NINE, PARIS)).total_seconds()
        for r in releases
    ]
    assert min(offsets) < -300
    assert max(offsets) > 300  # spread both ways, not all on the minute


def test_a_share_of_noise_lands_anywhere_in_its_week_and_the_seed_repeats_it() -> None:
    def plan(seed: int) -> list[tuple[datetime, bool]]:
        found = weekly_release_instants(VIRTUAL_START, 500, 0, NINE, TEN, 0.2, random.Random(seed))
        return [(release.at, release.on_pattern) for release in found]

    releases = plan(3)
    assert releases == plan(3)
    assert releases != plan(4)
    noise = [at for at, on_pattern in releases if not on_pattern]
    assert 0.15 < len(noise) / len(releases) < 0.25
    assert len({at.astimezone(PARIS).weekday() for at in noise}) == 7
    assert [at for at, _ in releases] == sorted(at for at, _ in releases)
    assert all(at > VIRTUAL_START for at, _ in releases)


def test_the_pattern_is_played_on_the_simulator_s_clock() -> None:
    elapsed = [0.0]
    prefecture = Prefecture(
        default_bookings(),
        clock=lambda: elapsed[0],
        now=lambda: VIRTUAL_START + timedelta(seconds=elapsed[0]),
        today=lambda: (VIRTUAL_START + timedelta(seconds=elapsed[0])).date(),
    )
    elapsed[0] = 100.0  # the pattern is planned from the simulator's now, not its start
    planned = prefecture.weekly_releases(
        "1001",
        "14007",
        weekday=3,
        at=time(14, 30),
        spread=TEN,
        noise=0.0,
        rng=random.Random(5),
        weeks=3,
        count=2,
        taken_after=timedelta(minutes=2),
    )
    desk = prefecture.bookings["1001"].desk("14007")
    assert desk is not None
    assert len(planned) == 3

    def free_at(moment: datetime) -> int:
        elapsed[0] = (moment - VIRTUAL_START).total_seconds()
        prefecture.handle(Request("GET", "/booking/create/1001"))
        return len(desk.free)

    first = planned[0].at
    assert first.astimezone(PARIS).weekday() == 3
    assert free_at(first - timedelta(seconds=1)) == 0
    assert free_at(first) == 2
    assert free_at(first + timedelta(minutes=2)) == 0  # others booked them
    assert free_at(planned[1].at) == 2
