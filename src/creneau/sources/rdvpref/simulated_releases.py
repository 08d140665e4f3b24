"""The simulated RDV Préfecture's planned publications (issue 26), after vertigo-planning
(fixtures/rdvpref/SOURCES.md, "Announced releases"): an agent plans a publication of slots
for an instant T; the page announces it ("Prochaine mise en ligne de nouveaux rendez-vous :
le … à …", `prochainePublication` in the page state); the slots become visible once T has
passed and the public side's cache has resynchronised, a random 0–60 s later; the
publication then becomes the "Dernière mise en ligne" and the announcement goes.

Time is the simulator's: `Releases.advance(now)` plays what is due, so a test or a benchmark
on a virtual clock gets the same releases whatever the real time."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from creneau.simulator.pages import PARIS

# The public side's resynchronisation (Redis2FoConsultationPlanningPlugin: every 60 s).
VISIBILITY_DELAY = timedelta(seconds=60)
WEEKS_AHEAD = 2  # a publication opens the week this many weeks after its instant


class Announcing(Protocol):
    """A démarche as its page states its releases: (instant, week) or None."""

    next_release: tuple[datetime, date] | None
    last_release: tuple[datetime, date] | None


D = TypeVar("D", bound=Announcing)


@dataclass
class Publication:
    """`count` slots of the week of `week` (a Monday), planned for `at`, announced from
    `announced_at`, visible from `visible_at` (`shown` since, with `slot_ids`)."""

    demarche_id: str
    at: datetime
    week: date
    count: int
    announced_at: datetime
    visible_at: datetime
    shown: bool = False
    slot_ids: list[str] = field(default_factory=list)

    @property
    def release(self) -> tuple[datetime, date]:
        """As the page states it: (instant, week)."""
        return self.at, self.week


@dataclass(frozen=True)
class AutoAnnounce:
    """A démarche that plans a publication every `every`, announced `lead` before it."""

    every: timedelta
    lead: timedelta
    count: int
    taken_after: timedelta | None


def whole_minute_from(moment: datetime) -> datetime:
    """The first whole minute at or after `moment`."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


class Releases(Generic[D]):
    """The planned publications of a simulated site and what is due when. `put_online`
    puts slots of a week online and returns their ids; `take` books given ids."""

    def __init__(
        self,
        demarches: dict[str, D],
        rng: random.Random,
        put_online: Callable[[D, date, int], list[str]],
        take: Callable[[D, list[str]], None],
        visibility_delay: timedelta = VISIBILITY_DELAY,
    ) -> None:
        self.demarches = demarches
        self.visibility_delay = visibility_delay  # slots show up to this long after `at`
        self.rng = rng
        self.put_online = put_online
        self.take = take
        self.publications: list[Publication] = []  # every one planned, in order
        self.auto: dict[str, AutoAnnounce] = {}
        self._due: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = 0

    def schedule(
        self,
        demarche_id: str,
        at: datetime,
        count: int,
        week_of: date | None,
        announce_at: datetime,
    ) -> Publication:
        at = at.astimezone(PARIS)
        delay = timedelta(seconds=self.rng.uniform(0, self.visibility_delay.total_seconds()))
        week = monday_of(week_of or at.date() + timedelta(weeks=WEEKS_AHEAD))
        publication = Publication(demarche_id, at, week, count, announce_at, at + delay)
        self.publications.append(publication)
        self._at(announce_at, lambda: self._refresh_announcement(demarche_id, announce_at))
        self._at(publication.visible_at, lambda: self._show(publication))
        return publication

    def start_auto(self, demarche_id: str, auto: AutoAnnounce, now: datetime) -> Publication:
        self.auto[demarche_id] = auto
        return self.schedule(demarche_id, whole_minute_from(now + auto.lead), auto.count, None, now)

    def stop_auto(self, demarche_id: str) -> None:
        """Plan no more publications after those already planned."""
        self.auto.pop(demarche_id, None)

    def advance(self, now: datetime) -> None:
        """Play everything due by `now`, in order (an event may plan later ones)."""
        while self._due and self._due[0][0] <= now:
            _, _, action = heapq.heappop(self._due)
            action()

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        self._sequence += 1
        heapq.heappush(self._due, (when, self._sequence, action))

    def _refresh_announcement(self, demarche_id: str, now: datetime) -> None:
        """The page announces the earliest publication announced and not yet visible."""
        announced = [
            p
            for p in self.publications
            if p.demarche_id == demarche_id and not p.shown and p.announced_at <= now
        ]
        first = min(announced, key=lambda p: p.at, default=None)
        self.demarches[demarche_id].next_release = first.release if first else None

    def _show(self, publication: Publication) -> None:
        demarche = self.demarches[publication.demarche_id]
        publication.slot_ids = self.put_online(demarche, publication.week, publication.count)
        publication.shown = True
        demarche.last_release = publication.release
        self._refresh_announcement(publication.demarche_id, publication.visible_at)
        auto = self.auto.get(publication.demarche_id)
        if auto is None:
            return
        if auto.taken_after is not None:
            ids = publication.slot_ids
            self._at(publication.visible_at + auto.taken_after, lambda: self.take(demarche, ids))
        following = publication.at + auto.every
        self.schedule(
            publication.demarche_id,
            following,
            auto.count,
            None,
            max(publication.visible_at, following - auto.lead),
        )
