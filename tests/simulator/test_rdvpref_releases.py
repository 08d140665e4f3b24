"""The simulated RDV Préfecture's announced publications (issue 26): announced in the page's
words and state, read by the real parser; visible a random 0–60 s after the instant; then
the last release. Its sessions end when idle, and its log counts each host's requests.
Time is the test's own (an injected clock), never the real one."""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime, timedelta

import pytest

from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.simulator import simulated as simulated_system
from creneau.simulator.budget import most_within, over_budget
from creneau.simulator.wire import Request, Response
from creneau.sources import get as system_named
from creneau.sources import rdvpref
from creneau.sources.rdvpref.simulated_releases import (
    VISIBILITY_DELAY,
    Publication,
    whole_minute_from,
)
from creneau.sources.rdvpref.simulator import (
    ANNOUNCING,
    IDLE_LIFETIME,
    PARIS,
    SESSION_COOKIE,
    RdvPrefecture,
    default_demarches,
)
from creneau.sources.reading import FlowOutcome
from creneau.sources.system import BookingSystem
from harness.transport import SimulatedInternet
from harness.virtual_time import VIRTUAL_START, VirtualClock, run_virtual

HOST = "rdvpref.test"
DEMARCHE = "4418"
BASE = f"/rdvpref/reservation/demarche/{DEMARCHE}"


class Clock:
    """The simulator's two clocks (a wall clock and a monotonic one), moved by the test."""

    def __init__(self, start: datetime = VIRTUAL_START) -> None:
        self.start = self.moment = start

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return (self.moment - self.start).total_seconds()

    def move(self, by: timedelta) -> None:
        self.moment += by


def simulated(clock: Clock, seed: int = 26, **options: object) -> RdvPrefecture:
    return RdvPrefecture(
        default_demarches(),
        clock=clock.monotonic,
        now=clock.now,
        rng=random.Random(seed),
        inline_captcha=True,
        **options,  # type: ignore[arg-type]
    )


def get(site: RdvPrefecture, path: str, cookie: str = "") -> Response:
    cookies = {SESSION_COOKIE: cookie} if cookie else {}
    return site.handle(Request("GET", path, host=HOST, cookies=cookies))


def read(path: str, response: Response) -> rdvpref.Reading:
    body = response.body if isinstance(response.body, bytes) else response.body.encode()
    return rdvpref.parse_page(Page(f"https://{HOST}{path}", response.status, body, {}))


def open_session(site: RdvPrefecture) -> str:
    """What a person does: the terms page, the code typed, the slots page reached."""
    terms = get(site, f"{BASE}/cgu/")
    cookie = terms.set_cookies[SESSION_COOKIE]
    form = {**dict(read(f"{BASE}/cgu/", terms).fields), "captchaUsercode": ""}
    form["captchaUsercode"] = site.captcha_code(cookie)
    cookies = {SESSION_COOKIE: cookie}
    answer = site.handle(
        Request("POST", f"{BASE}/_validerCaptcha", host=HOST, cookies=cookies, form=form)
    )
    assert answer.headers["Location"] == f"{BASE}/creneau/"
    return cookie


def slots_page(site: RdvPrefecture, cookie: str) -> rdvpref.Reading:
    return read(f"{BASE}/creneau/", get(site, f"{BASE}/creneau/", cookie))


@pytest.mark.parametrize("rendered", [False, True])
def test_a_planned_publication_is_announced_in_the_page_s_words_and_state(
    rendered: bool,
) -> None:
    clock = Clock()
    site = simulated(clock, rendered=rendered)
    cookie = open_session(site)
    at = whole_minute_from(clock.now() + timedelta(minutes=3)).astimezone(PARIS)
    site.schedule_publication(DEMARCHE, at, 3, week_of=date(2026, 12, 9))

    reading = slots_page(site, cookie)
    assert reading.releases is not None
    assert (reading.status, reading.releases.next_at, reading.releases.next_week) == (
        rdvpref.Status.NONE,
        at,
        date(2026, 12, 7),  # the Monday of the week asked for
    )
    body = str(get(site, f"{BASE}/creneau/", cookie).body)
    assert '"prochainePublication": {"dateMin": "07/12/2026", "dateMax": "11/12/2026", ' in body
    assert f'"instantPublication": "{at:%d/%m/%Y %H:%M}"' in body
    said = f"Prochaine mise en ligne de nouveaux rendez-vous : le {at:%d/%m/%Y} à {at:%H:%M}"
    assert (said in body, "pour des créneaux de la semaine du 07/12/2026" in body) == (
        rendered,
        rendered,
    )


def test_the_slots_show_only_once_the_public_side_resynchronised_after_the_instant() -> None:
    clock = Clock()
    site = simulated(clock)
    cookie = open_session(site)
    at = whole_minute_from(clock.now() + timedelta(minutes=2))
    publication = site.schedule_publication(DEMARCHE, at, 3)
    delay = publication.visible_at - at
    assert timedelta(0) <= delay <= VISIBILITY_DELAY

    clock.moment = publication.visible_at - timedelta(seconds=1)
    before = slots_page(site, cookie)
    assert before.releases is not None
    assert (before.status, before.slots, before.releases.next_at) == (
        rdvpref.Status.NONE,
        (),
        at,
    )

    clock.moment = publication.visible_at
    after = slots_page(site, cookie)
    assert after.releases is not None
    assert (after.status, len(after.slots), publication.shown) == (
        rdvpref.Status.AVAILABLE,
        3,
        True,
    )
    assert (after.releases.last_at, after.releases.last_week) == (at, publication.week)
    assert (after.releases.next_at, after.releases.next_week) == (None, None)
    assert sorted(slot.key for slot in after.slots) == sorted(publication.slot_ids)


def test_visibility_delays_lie_in_the_resynchronisation_minute_and_repeat_with_the_seed() -> None:
    def delays(seed: int) -> list[float]:
        clock = Clock()
        site = simulated(clock, seed=seed)
        at = whole_minute_from(clock.now() + timedelta(minutes=5))
        planned = [site.schedule_publication(DEMARCHE, at, 1) for _ in range(200)]
        return [(p.visible_at - p.at).total_seconds() for p in planned]

    first = delays(7)
    assert first == delays(7)
    assert first != delays(8)
    assert all(0 <= delay <= 60 for delay in first)
    assert min(first) < 10
    assert max(first) > 50


def test_auto_announce_plans_whole_minutes_lead_ahead_and_the_next_after_each_release() -> None:
    clock = Clock(VIRTUAL_START + timedelta(seconds=17))
    site = simulated(clock)
    cookie = open_session(site)
    first = site.auto_announce(
        DEMARCHE,
        every=timedelta(hours=1),
        lead=timedelta(minutes=3),
        count=2,
        taken_after=timedelta(minutes=5),
    )
    assert first.at == VIRTUAL_START + timedelta(minutes=4)  # the whole minute 3 min on
    assert first.at.second == 0
    assert first.announced_at == clock.now()
    assert slots_page(site, cookie).releases.next_at == first.at  # type: ignore[union-attr]

    clock.moment = first.visible_at
    shown = slots_page(site, cookie)
    assert (len(shown.slots), shown.releases.next_at) == (2, None)  # type: ignore[union-attr]

    clock.moment = first.visible_at + timedelta(minutes=5)
    assert slots_page(site, cookie).slots == ()  # others booked them

    second = site.publications[1]
    assert (second.at, second.announced_at) == (
        first.at + timedelta(hours=1),
        first.at + timedelta(hours=1) - timedelta(minutes=3),
    )
    clock.moment = second.announced_at - timedelta(seconds=1)
    cookie = open_session(site)  # the old one ended idle meanwhile
    assert slots_page(site, cookie).releases.next_at is None  # type: ignore[union-attr]
    clock.moment = second.announced_at
    assert slots_page(site, cookie).releases.next_at == second.at  # type: ignore[union-attr]

    site.stop_announcing(DEMARCHE)
    clock.moment = second.visible_at
    site.advance()
    assert (len(site.publications), site.demarches[DEMARCHE].next_release) == (2, None)


def test_an_idle_session_ends_after_the_lifetime_and_a_used_one_lives_on() -> None:
    assert IDLE_LIFETIME == rdvpref.SESSION_LIFETIME
    clock = Clock()
    site = simulated(clock)
    cookie = open_session(site)
    for _ in range(3):  # a keep-alive just inside the lifetime keeps it
        clock.move(IDLE_LIFETIME - timedelta(seconds=1))
        assert slots_page(site, cookie).kind == "creneau-none"

    clock.move(IDLE_LIFETIME)
    answer = get(site, f"{BASE}/creneau/", cookie)
    assert (answer.status, answer.headers["Location"]) == (
        302,
        f"{BASE}/cgu/?error=errorSessionInvalide",
    )
    assert answer.set_cookies[SESSION_COOKIE] != cookie  # the site forgot it
    back = f"{BASE}/cgu/?error=errorSessionInvalide"
    path, query = back.split("?")
    cgu = site.handle(Request("GET", path, query, HOST, {SESSION_COOKIE: cookie}))
    assert read(back, cgu).status == rdvpref.Status.CAPTCHA


def test_only_rdv_prefecture_says_how_long_its_session_lives() -> None:
    assert system_named("rdvpref").session_lifetime == timedelta(minutes=10)
    assert BookingSystem.session_lifetime is None
    assert system_named("ezbooking").session_lifetime is None


def test_the_log_counts_each_host_s_requests_against_its_budget() -> None:
    clock = Clock()
    site = simulated(clock)
    cookie = open_session(site)  # cgu/ and _validerCaptcha, at the same instant
    for _ in range(4):
        clock.move(timedelta(seconds=10))
        slots_page(site, cookie)
    times = site.request_times()
    assert list(times) == [HOST]
    assert (most_within(times[HOST], 1), most_within(times[HOST], 60)) == (2, 6)
    assert over_budget(times[HOST], HostBudget(per_minute=6, burst=10)) == []
    # Half that rate and a burst of 2: from the third request on, each comes too soon.
    assert over_budget(times[HOST], HostBudget(per_minute=3, burst=2)) == [10, 20, 30, 40]


def test_creneau_simulate_serves_a_demarche_announcing_its_next_publication() -> None:
    before = datetime.now(PARIS)
    site = simulated_system("rdvpref").make()
    after = datetime.now(PARIS)
    [publication] = site.publications
    assert publication.demarche_id == ANNOUNCING
    assert publication.at.second == publication.at.microsecond == 0
    assert before + timedelta(minutes=3) <= publication.at <= after + timedelta(minutes=4)
    assert site.demarches[ANNOUNCING].next_release == publication.release


def test_on_a_utc_clock_the_page_writes_its_instants_in_paris_time() -> None:
    clock = Clock()  # the virtual clock's UTC instants
    site = simulated(clock, rendered=True)
    cookie = open_session(site)
    site.release(DEMARCHE, 1)
    site.take(DEMARCHE)
    site.announce_next_release(DEMARCHE, clock.now() + timedelta(days=1), date(2026, 12, 9))
    reading = slots_page(site, cookie)
    assert reading.releases is not None
    assert (reading.releases.last_at, reading.releases.next_at) == (
        clock.now(),
        clock.now() + timedelta(days=1),
    )
    assert "le 24/11/2026 à 09:00" in str(get(site, f"{BASE}/creneau/", cookie).body)


def test_the_real_check_on_the_virtual_clock_sees_the_announcement_then_the_slots() -> None:
    async def scenario(clock: VirtualClock) -> tuple[FlowOutcome, FlowOutcome, Publication]:
        site = RdvPrefecture(
            default_demarches(), clock=clock.monotonic, now=clock.now, rng=random.Random(3)
        )
        client = PoliteClient(
            "t@example.org",
            lambda host: HostBudget(6000, 60),
            retry_backoff=0.01,
            monotonic=clock.monotonic,
            now=clock.now,
            transport=SimulatedInternet({HOST: site}, clock=clock.monotonic),
        )
        target = rdvpref.Target(name="d4418", url=f"https://{HOST}{BASE}/")
        async with client.session("captcha", target.url) as session:
            challenge = await rdvpref.start_captcha(target, session)
            code = site.captcha_code(session.cookies()[SESSION_COOKIE])
            await rdvpref.submit_captcha(target, session, challenge, code)
            cookies = session.cookies()
        at = whole_minute_from(clock.now() + timedelta(minutes=2))
        publication = site.schedule_publication(DEMARCHE, at, 2)
        outcomes = []
        # Two watchers of the démarche (the client keeps one target's checks a minute apart).
        for name, moment in (
            ("early", publication.visible_at - timedelta(seconds=1)),
            ("on-time", publication.visible_at),
        ):
            await asyncio.sleep((moment - clock.now()).total_seconds())
            async with client.session(name, target.url, cookies=cookies) as session:
                outcomes.append(await rdvpref.check(target, session))
        return outcomes[0], outcomes[1], publication

    before, after, publication = run_virtual(scenario)
    assert before.releases is not None
    assert after.releases is not None
    assert (before.status, before.releases.next_at) == (rdvpref.Status.NONE, publication.at)
    assert (after.status, after.releases.last_at, after.releases.next_at) == (
        rdvpref.Status.AVAILABLE,
        publication.at,
        None,
    )
