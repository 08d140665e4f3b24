"""The next release of each target, as status, the dashboard, the API and /metrics show it:
the site's latest announcement read back from its checks (dropped once its burst is over),
else one a learner finds in the history, else none; an announced one with its burst's cost
against the host's budget, from the median of the target's recent request counts. And the
words people read, French and English, in the configured zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.config import Config
from creneau.expected import BURST_SPAN, Announcement, ExpectedRelease, burst_cost
from creneau.host_budget import HostBudget
from creneau.results import CheckResult, GuichetResult, ReleaseAnnouncement, Slot, Status
from creneau.store import Store
from creneau.usecases.release_texts import (
    burst_text,
    learned_text,
    next_release_line,
    release_text,
    source_text,
)
from creneau.usecases.releases import (
    NextRelease,
    ReleaseMemo,
    ReleaseRecords,
    expected_releases,
    next_releases,
    requests_per_check,
)

PARIS = ZoneInfo("Europe/Paris")
# The clock the use case is given: a Monday, 09:00 in Paris (never today's).
NOW = datetime(2025, 12, 8, 8, 0, tzinfo=UTC)
ANNOUNCED = datetime(2025, 12, 9, 10, 0, tzinfo=PARIS)  # Tuesday 9 December, 10:00
WEEK = date(2025, 12, 15)
CERGY = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1234/"


def config(per_minute: float = 6, burst: int = 10) -> Config:
    return Config.model_validate(
        {
            "creneau": {"contact": "tests@example.org", "timezone": "Europe/Paris"},
            "target": [
                {"name": "cergy", "system": "rdvpref", "url": CERGY},
                {
                    "name": "nanterre",
                    "system": "ezbooking",
                    "url": "https://pref.example/booking/create/1001",
                },
            ],
            "hosts": {
                "www.rdv-prefecture.interieur.gouv.fr": {"per_minute": per_minute, "burst": burst}
            },
        }
    )


def check(store: Store, at: datetime, said: ReleaseAnnouncement | None, requests: int = 1) -> None:
    result = CheckResult(
        "cergy", "rdvpref", CERGY, Status.NONE, at, releases=said, requests=requests
    )
    record(store, result, Routing(PARIS))


def announced(at: datetime = ANNOUNCED) -> ReleaseAnnouncement:
    return ReleaseAnnouncement(next_at=at, next_week=WEEK)


def test_the_announcement_the_checks_read_last_is_the_next_release_with_its_cost(
    store: Store,
) -> None:
    earlier = ANNOUNCED - timedelta(days=1)
    check(store, NOW - timedelta(minutes=30), announced(earlier), requests=3)
    check(store, NOW - timedelta(minutes=20), announced(), requests=1)
    # A page that says nothing of it after T: still followed (only a clear page before T
    # that no longer says it withdraws it).
    check(store, ANNOUNCED + timedelta(seconds=5), None, requests=2)
    found = expected_releases(store, config(), ANNOUNCED + timedelta(seconds=10))
    assert list(found) == ["cergy", "nanterre"]
    assert found["nanterre"] is None
    expected = ExpectedRelease("cergy", ANNOUNCED, "announced", week=WEEK)
    # The median of 3, 1 and 2 requests: 2 a check.
    assert found["cergy"] == NextRelease(expected, burst_cost(ANNOUNCED, 2, HostBudget(6, 10)))
    assert found["cergy"].to_json() == {
        "at": "2025-12-09T10:00:00+01:00",
        "source": "announced",
        "week": "2025-12-15",
        "burst": {
            "at": "2025-12-09T10:00:00+01:00",
            "checks": 9,
            "requests": 18,
            "per_minute": 6,
            "burst": 10,
            "on_time": 9,
            "fits": True,
        },
    }


def test_an_announcement_is_dropped_once_its_burst_is_over(store: Store) -> None:
    check(store, ANNOUNCED - timedelta(hours=1), announced())
    at_the_end = ANNOUNCED + BURST_SPAN
    assert expected_releases(store, config(), at_the_end)["cergy"] is not None
    after = at_the_end + timedelta(seconds=1)
    assert expected_releases(store, config(), after)["cergy"] is None


def test_a_withdrawn_announcement_is_not_shown_though_a_check_read_it_last(
    store: Store,
) -> None:
    check(store, NOW - timedelta(minutes=20), announced())
    # A clear page before T that no longer announces it: the store ends it as withdrawn.
    check(store, NOW - timedelta(minutes=10), None)
    assert store.announcement("cergy") is not None
    assert store.announcement("cergy").outcome == "withdrawn"  # type: ignore[union-attr]
    assert expected_releases(store, config(), NOW)["cergy"] is None


def test_a_changed_announcement_shows_the_new_instant(store: Store) -> None:
    later = ANNOUNCED + timedelta(hours=2)
    check(store, NOW - timedelta(minutes=20), announced())
    check(store, NOW - timedelta(minutes=10), announced(later))
    found = expected_releases(store, config(), NOW)["cergy"]
    assert found is not None
    assert found.expected == ExpectedRelease("cergy", later, "announced", week=WEEK)


def test_an_announcement_released_during_its_burst_is_no_longer_shown() -> None:
    seen = ANNOUNCED + timedelta(seconds=20)
    done = Announcement("cergy", ANNOUNCED, WEEK, NOW, seen, "released", seen)
    records = ReleaseRecords({"cergy": done}, {}, {})
    assert next_releases(records, ["cergy"], seen, PARIS) == {"cergy": None}


def test_the_latest_announcement_of_each_target_is_read_at_once(store: Store) -> None:
    check(store, NOW - timedelta(minutes=20), announced())
    check(store, NOW - timedelta(minutes=10), announced(ANNOUNCED + timedelta(days=1)))
    found = store.latest_announcements(["cergy", "nanterre"])
    assert list(found) == ["cergy"]
    assert (found["cergy"].at, found["cergy"].outcome) == (ANNOUNCED + timedelta(days=1), "pending")
    assert store.latest_announcements([]) == {}


def test_a_page_that_only_said_its_last_release_announces_none(store: Store) -> None:
    check(store, NOW, ReleaseAnnouncement(last_at=NOW - timedelta(days=1)))
    assert expected_releases(store, config(), NOW)["cergy"] is None


def test_a_learned_release_is_asked_of_the_learner_with_the_release_times(
    store: Store,
) -> None:
    asked: list[tuple[str, tuple[datetime, ...], datetime, ZoneInfo, datetime | None]] = []
    pattern = datetime(2025, 12, 15, 9, 0, tzinfo=PARIS)

    def learner(
        target: str,
        times: Sequence[datetime],
        now: datetime,
        zone: ZoneInfo,
        *,
        since: datetime | None = None,
    ) -> ExpectedRelease | None:
        asked.append((target, tuple(times), now, zone, since))
        if target != "nanterre":
            return None
        return ExpectedRelease(target, pattern, "learned", window=timedelta(minutes=10))

    check(store, NOW - timedelta(minutes=5), announced())
    found = expected_releases(store, config(), NOW, learned=learner)
    # The site's word first: the learner is asked only of the target without one.
    assert asked == [("nanterre", (), NOW, PARIS, None)]  # nothing recorded of it
    learned = found["nanterre"]
    assert learned == NextRelease(
        ExpectedRelease("nanterre", pattern, "learned", window=timedelta(minutes=10))
    )
    assert found["cergy"] is not None
    assert found["cergy"].expected.source == "announced"


def test_without_budgets_no_cost_is_worked_out() -> None:
    followed = Announcement("cergy", ANNOUNCED, None, NOW, NOW)
    records = ReleaseRecords({"cergy": followed}, {"cergy": [5]}, {})
    found = next_releases(records, ["cergy"], NOW, PARIS)
    assert found == {"cergy": NextRelease(ExpectedRelease("cergy", ANNOUNCED, "announced"))}


def test_requests_per_check_is_the_median_rounded_up() -> None:
    assert requests_per_check([]) == 1
    assert requests_per_check([1, 2]) == 2
    assert requests_per_check([7, 1, 1]) == 1
    assert requests_per_check([0]) == 1


def test_the_words_in_french_and_english() -> None:
    expected = ExpectedRelease("cergy", ANNOUNCED, "announced", week=WEEK)
    fits = NextRelease(expected, burst_cost(ANNOUNCED, 1, HostBudget(6, 10)))
    assert release_text(fits, PARIS, "fr") == (
        "le site annonce mardi 9 décembre à 10:00 (semaine du 15 décembre)"
    )
    assert release_text(fits, PARIS, "en") == (
        "the site says Tuesday 9 December at 10:00 (week of 15 December)"
    )
    assert release_text(None, PARIS, "fr") == "aucune connue"
    assert release_text(None, PARIS, "en") == "none known"
    assert fits.cost is not None
    assert burst_text(fits.cost, PARIS, "en") == (
        "next burst: 9 checks, 9 requests at 10:00; budget 6/min, bursts of 10: fits"
    )
    assert burst_text(fits.cost, PARIS, "fr") == (
        "prochaine rafale : 9 vérifications, 9 requêtes à 10:00 ; budget 6/min, "
        "rafales de 10 : tient"
    )
    tight = burst_cost(ANNOUNCED, 1, HostBudget(1.5, 3))
    assert burst_text(tight, PARIS, "fr").endswith(
        "budget 1,5/min, rafales de 3 : ne tient pas : 5 à l'heure, les autres retardées"
    )
    assert burst_text(tight, PARIS, "en").endswith(
        "budget 1.5/min, bursts of 3: does not fit: 5 on time, the others delayed"
    )
    assert source_text(expected, "fr") == "annoncée par le site"
    assert next_release_line("cergy", None, PARIS, "en") == "cergy — next release: none known"


def test_a_learned_release_in_words() -> None:
    learned = ExpectedRelease(
        "nanterre",
        datetime(2025, 12, 15, 8, 0, tzinfo=UTC),
        "learned",
        window=timedelta(minutes=10),
        hits=7,
        weeks=8,
    )
    assert learned_text(learned, PARIS, "fr") == (
        "lundi vers 09:00 ±10 min, 7 des 8 dernières semaines"
    )
    assert release_text(learned, PARIS, "en") == (
        "Mondays around 09:00 ±10 min, 7 of the last 8 weeks"
    )
    assert source_text(learned, "fr") == "apprise de l'historique"


def test_what_the_checks_stored_is_read_back_typed() -> None:
    said = ReleaseAnnouncement(NOW - timedelta(days=2), date(2025, 12, 8), ANNOUNCED, WEEK)
    assert ReleaseAnnouncement.from_facts(said.as_facts()) == said
    written_wrong = {"next_release_at": "mardi", "last_release_at": "2025-12-01T10:00:00"}
    assert ReleaseAnnouncement.from_facts(written_wrong) is None
    week_wrong = {"next_release_at": ANNOUNCED.isoformat(), "next_release_week": "15/12"}
    assert ReleaseAnnouncement.from_facts(week_wrong) == ReleaseAnnouncement(next_at=ANNOUNCED)


def test_the_memo_reads_again_only_once_a_check_is_recorded(store: Store) -> None:
    memo = ReleaseMemo()
    check(store, NOW - timedelta(minutes=20), None)
    first = memo.read(store, ["cergy"], learning=False)
    assert memo.read(store, ["cergy"], learning=False) is first
    check(store, NOW - timedelta(minutes=10), announced())
    again = memo.read(store, ["cergy"], learning=False)
    assert again is not first
    seen = NOW - timedelta(minutes=10)
    assert again.announced == {"cergy": Announcement("cergy", ANNOUNCED, WEEK, seen, seen)}


def test_weekly_releases_in_the_history_are_learned_by_default(store: Store) -> None:
    """Eight Mondays: no slot at 08:50, a slot at 09:10 (a release placed at 09:00), gone by
    09:30; the learner creneau.learned gives is asked without being passed."""
    nanterre = "https://pref.example/booking/create/1001"
    for week in range(8, 0, -1):
        monday = datetime(2025, 12, 8, 9, 0, tzinfo=PARIS) - timedelta(weeks=week)
        shown = Slot(monday + timedelta(days=10), "1", "Guichet 1", f"k{week}")
        for minutes, found in ((-10, ()), (10, (shown,)), (30, ())):
            status = Status.AVAILABLE if found else Status.NONE
            guichet = GuichetResult("1", "Guichet 1", status, found)
            at = monday + timedelta(minutes=minutes)
            result = CheckResult("nanterre", "ezbooking", nanterre, status, at, guichets=(guichet,))
            record(store, result, Routing(PARIS))
    learned = expected_releases(store, config(), NOW)["nanterre"]
    assert learned is not None
    assert learned.cost is None  # only an announced release has a burst
    # The eight weeks before NOW begin just after the first Monday's release: 7 of 7.
    assert (learned.expected.source, learned.expected.hits, learned.expected.weeks) == (
        "learned",
        7,
        7,
    )
    assert learned.expected.at == datetime(2025, 12, 15, 9, 0, tzinfo=PARIS)
    assert release_text(learned, PARIS, "fr").startswith("lundi vers 09:00 ±")
