"""When a target's slots are expected next, named once below every stage: a release the site
announced (its own words: "Prochaine mise en ligne de nouveaux rendez-vous : le … à …"), or
one learned from history (a weekday and a time of day, with the evidence), and the burst of
checks placed at an announced instant, with what it costs a host's budget.

Why the burst looks as it does (fixtures/rdvpref/SOURCES.md, vertigo-io/vertigo-modules): a
publication becomes visible once its instant has passed (`agenda_tasks.ksp`), and the public
side's cache resynchronises every 60 s (`Redis2FoConsultationPlanningPlugin.java`), so a
release announced at T shows somewhere in [T, T + 60 s]. One check shortly before T (the
session warm, the baseline clear), then one every BURST_EVERY up to T + BURST_SPAN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from creneau.host_budget import HostBudget

Source = Literal["announced", "learned"]
SOURCES: tuple[Source, ...] = ("announced", "learned")

VISIBLE_WITHIN = timedelta(seconds=60)  # the public cache's resynchronisation (Vertigo)
BURST_LEAD = timedelta(seconds=60)  # the check before T
NEVER_BEFORE = timedelta(minutes=2)  # no burst check earlier than this before T
BURST_EVERY = timedelta(seconds=10)
BURST_SPAN = VISIBLE_WITHIN + BURST_EVERY  # the cache window and one more check
# Inside a window, the polite client lets a target's checks come this close (its floor is
# INTERVAL_FLOOR elsewhere): half the burst's spacing, so that a check fired a little late
# never makes the next one too soon.
WINDOW_FLOOR = BURST_EVERY / 2
DEFAULT_PREPARE = timedelta(minutes=10)  # the "prepare" alert's lead before T
# The site's own sentence for a release ("Prochaine mise en ligne … le … à …"), kept as the
# page writes it (whitespace collapsed) up to this many characters: quoted, never rewritten.
SAID_LIMIT = 300
# How long after T an announcement is followed: past it without a release seen, it is
# recorded as passed without slots.
FOLLOWED_FOR = timedelta(minutes=10)

# A site session is used again before this share of its lifetime has passed (the lifetime
# itself may be a guess: sources/<system> says).
SESSION_MARGIN = 0.8


def solve_captcha_before(at: datetime, prepare: timedelta) -> datetime:
    """By when a person asked `prepare` before a release announced at `at` should solve the
    CAPTCHA (the prepare alert and the dashboard say the same instant): half the lead before
    T, and never later than the check before T."""
    return at - max(BURST_LEAD, prepare / 2)


def session_keeps_for(lifetime: timedelta) -> timedelta:
    """The longest a site session whose idle lifetime is `lifetime` is left unused."""
    return lifetime * SESSION_MARGIN


Outcome = Literal["pending", "released", "no_slots", "changed", "withdrawn"]
OUTCOMES: tuple[Outcome, ...] = ("pending", "released", "no_slots", "changed", "withdrawn")


@dataclass(frozen=True)
class ExpectedRelease:
    """The next release expected for a target. Announced: `at` is the site's instant and
    `week` the week it said it opens. Learned: `at` is the pattern's next occurrence, give
    or take `window`, seen in `hits` of the last `weeks` weeks."""

    target: str
    at: datetime
    source: Source
    week: date | None = None
    window: timedelta = timedelta(0)
    hits: int = 0
    weeks: int = 0

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"at": self.at.isoformat(), "source": self.source}
        if self.week is not None:
            found["week"] = self.week.isoformat()
        if self.source == "learned":
            found["window_s"] = int(self.window.total_seconds())
            found["hits"] = self.hits
            found["weeks"] = self.weeks
        return found


@dataclass(frozen=True)
class Announcement:
    """A release a site announced for a target, as the store follows it: seen from
    `first_seen` to `last_seen`; `outcome` says how it ended (pending until it does):
    released (slots seen at `released_seen_at`; None: the page said "Dernière mise en
    ligne … T" and no new slot was seen), no_slots (FOLLOWED_FOR passed without),
    changed (the site announced another instant), withdrawn (a page read clearly before T
    no longer announced it). `session_ready`: whether a person's site session was live at
    T (None: not known, or not needed). `said`: the latest sentence a page showed for it, as
    the site wrote it ("" when only the page's state announced it)."""

    target: str
    at: datetime
    week: date | None
    first_seen: datetime
    last_seen: datetime
    outcome: Outcome = "pending"
    released_seen_at: datetime | None = None
    session_ready: bool | None = None
    said: str = ""

    def expected(self) -> ExpectedRelease:
        return ExpectedRelease(self.target, self.at, "announced", week=self.week)


def burst_instants(at: datetime) -> tuple[datetime, ...]:
    """The checks placed at an announced instant: one BURST_LEAD before it, then one every
    BURST_EVERY from it to BURST_SPAN after it."""
    after = int(BURST_SPAN / BURST_EVERY)
    return (at - BURST_LEAD, *(at + BURST_EVERY * step for step in range(after + 1)))


def in_window(at: datetime, instant: datetime) -> bool:
    """Whether `instant` lies in the window after a release announced at `at`."""
    return at <= instant <= at + BURST_SPAN


@dataclass(frozen=True)
class BurstCost:
    """What the burst at `at` costs: its checks, their requests, and how many of those
    checks the host's budget lets through on time from a full bucket (the polite client
    delays the others: it never goes over the budget)."""

    at: datetime
    checks: int
    requests: int
    budget: HostBudget
    on_time: int

    @property
    def fits(self) -> bool:
        return self.on_time >= self.checks

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "checks": self.checks,
            "requests": self.requests,
            "per_minute": self.budget.per_minute,
            "burst": self.budget.burst,
            "on_time": self.on_time,
            "fits": self.fits,
        }


def burst_cost(at: datetime, requests_per_check: int, budget: HostBudget) -> BurstCost:
    instants = burst_instants(at)
    need = max(1, requests_per_check)
    tokens, previous, on_time = float(budget.burst), instants[0], 0
    for instant in instants:
        elapsed = (instant - previous).total_seconds()
        tokens = min(float(budget.burst), tokens + elapsed * budget.per_minute / 60)
        previous = instant
        if tokens >= need:
            tokens -= need
            on_time += 1
    return BurstCost(at, len(instants), len(instants) * need, budget, on_time)
