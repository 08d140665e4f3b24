"""Questions answered from the store alone: when slots are released, how long they stay, how
often the site was even reachable, and when it is worth checking.

Definitions (the `creneau history` commands' help refers to them):

- A *release* is the set of slots first seen in one check of one target at one guichet,
  when an earlier check of the target got a clear answer (`available` or `none`) that did not
  show them. It happened between that last clear check (`previous_check_at`) and `seen_at`
  (`slots.first_seen`). Slots seen at the target's first clear answer were already there: a
  *first sighting*, in no statistic (releases, heatmap, summary, lifetimes, adaptive polling).
  A check that was blocked, failed or not understood saw nothing, so a release seen after a
  run of them is known only since the clear check before the run (see "The check before a
  release" in `creneau.store.history` for what the store tells after old checks are rolled
  up).
- An *observation hour* is a UTC clock hour in which the target was checked at least once
  with a clear answer (`available` or `none`): only such a check could have seen a release,
  so an hour spent blocked or failing is not counted as "no release". Read from raw `checks`
  and from the hourly roll-up `check_hours` alike; an hour in either (or split between both)
  counts once. An hour in which a release was seen is always an observation hour.
- A release is *placed* in the hour it was seen when its time is known within PRECISE_WITHIN
  (an hour): one seen after a longer blind stretch (a blocked run, a night outside the
  target's windows) may have happened in any hour of it, so the heatmap and the typical hours
  count it apart (`unplaced`), as the recommendation leaves it out.
- A *heatmap cell* is a local weekday × local hour (the configured zone) of an hour's start.
  Each real hour counts once: in autumn the repeated 02:00 adds two hours to its cell, in
  spring the skipped 02:00 adds none. Its *probability* is (observation hours with at least
  one placed release) / (observation hours); over several targets, target-hours are counted.
- A slot's *lifetime* is `first_seen` → `gone_at`. A slot without `gone_at` (still shown, or
  the checks stopped) is *censored*: counted, never in the median or p90, which are computed
  on the slots that went (p90 interpolates linearly between ranks).
- *Uptime* is the share of checks per status per local day.
- Periods: releases and lifetimes take `since <= first_seen < until`; the hourly queries take
  the whole UTC hours whose start is in the period, so raw and rolled-up checks agree.

The store answers the questions put to the database (`creneau.store.history`: slot
appearances, the last clear answer before each, observation hours, checks per day); this
package is the analysis over its plain answers, and their rendering: `releases` and lifetimes,
`heatmap` (and `svg`), `uptime`, `recommend`, `reports`, and `attention` (which targets need
a person first). The functions here that take a store ask it, then hand its answers to
those."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from creneau.history.announced import AnnouncedOutcomes, announced_outcomes, in_period
from creneau.history.attention import attention_group, needing_a_person_first
from creneau.history.heatmap import (
    DARK,
    PALE,
    HeatCell,
    Heatmap,
    HourlyHistory,
    LocalHours,
    heatmap_of,
    hourly_histories_of,
    moments_of,
    release_moments,
    shade,
)
from creneau.history.recommend import (
    COVER,
    MAX_WINDOWS,
    MIN_OBSERVED_DAYS,
    MIN_RELEASES,
    QUARTER_MINUTES,
    Recommendation,
    RecommendedWindow,
    recommend,
)
from creneau.history.releases import (
    PRECISE_WITHIN,
    Lifetime,
    Release,
    combined_lifetime,
    lifetimes_of,
    quantile,
    release_times_of,
    releases_of,
)
from creneau.history.reports import (
    Activity,
    TargetReport,
    TargetSummary,
    TypicalHour,
    activity_of,
    reports_of,
    summaries_of,
)
from creneau.history.svg import heatmap_svg
from creneau.history.uptime import UptimeDay, uptime_of
from creneau.results import ReleaseAnnouncement
from creneau.store import CheckRecord, Store
from creneau.store import history as queries
from creneau.store.history import (
    CLEAR,
    EVERYTHING,
    HOUR,
    RECENT_CHECKS,
    SITE_RELEASE_FACTS,
    STATUSES,
    Scope,
    ceil_hour,
    epoch_hour,
    floor_hour,
    hour_start,
    local_days,
)

__all__ = [
    "CLEAR",
    "COVER",
    "DARK",
    "EVERYTHING",
    "HOUR",
    "MAX_WINDOWS",
    "MIN_OBSERVED_DAYS",
    "MIN_RELEASES",
    "PALE",
    "PRECISE_WITHIN",
    "QUARTER_MINUTES",
    "RECENT_CHECKS",
    "SITE_RELEASE_FACTS",
    "STATUSES",
    "Activity",
    "AnnouncedOutcomes",
    "HeatCell",
    "Heatmap",
    "HourlyHistory",
    "Lifetime",
    "LocalHours",
    "Recommendation",
    "RecommendedWindow",
    "Release",
    "Scope",
    "TargetReport",
    "TargetSummary",
    "TypicalHour",
    "UptimeDay",
    "activity",
    "announced_of",
    "attention_group",
    "ceil_hour",
    "combined_lifetime",
    "epoch_hour",
    "first_check",
    "floor_hour",
    "heatmap",
    "heatmap_of",
    "heatmap_svg",
    "hour_start",
    "hourly_histories",
    "last_check_rows",
    "lifetimes",
    "lifetimes_of",
    "local_days",
    "needing_a_person_first",
    "quantile",
    "recommend",
    "release_times",
    "releases",
    "reports",
    "shade",
    "site_release_facts",
    "summaries",
    "uptime",
]


def releases(store: Store, scope: Scope = EVERYTHING) -> list[Release]:
    """Every release in the scope, oldest first (first sightings left out)."""
    since = queries.last_clear_checks(store, scope)
    return releases_of(queries.slot_appearances(store, scope), since)


def release_times(store: Store, target: str) -> list[datetime]:
    """When each past release of a target most likely happened, oldest first: halfway between
    the last clear check that did not show its slots and the check that did. For adaptive
    polling; first sightings are not releases."""
    return release_times_of(queries.last_clear_checks(store, Scope(target=target)))


def first_check(store: Store, target: str) -> datetime | None:
    """When a target's history starts: its first check kept (raw or rolled up), None
    without any."""
    totals = queries.check_totals(store, target)
    return totals[0].first_check if totals else None


def lifetimes(store: Store, scope: Scope = EVERYTHING) -> list[Lifetime]:
    """One line per guichet: slots first seen in the scope, how long those that went lasted."""
    return lifetimes_of(releases(store, scope))


def hourly_histories(
    store: Store, scope: Scope = EVERYTHING, found: Sequence[Release] | None = None
) -> list[HourlyHistory]:
    """Each target's observation hours and placed releases over the whole hours of the
    scope. `found`: the releases of `scope.whole_hours()` when the caller has them already."""
    if found is None:
        hours = scope.whole_hours()
        since = queries.last_clear_checks(store, hours)
        moments = release_moments(queries.guichet_sightings(store, hours), since)
    else:
        moments = moments_of(found)
    return hourly_histories_of(queries.observation_hours(store, scope), moments)


def heatmap(store: Store, zone: ZoneInfo, scope: Scope = EVERYTHING) -> Heatmap:
    return heatmap_of(hourly_histories(store, scope), LocalHours(zone))


def uptime(store: Store, zone: ZoneInfo, scope: Scope = EVERYTHING) -> list[UptimeDay]:
    """Checks per status per local day, raw and rolled-up alike. Checks are not recorded per
    guichet: a guichet in the scope only selects the targets that have it."""
    return uptime_of(queries.checks_per_day(store, zone, scope))


def reports(store: Store, zone: ZoneInfo, scope: Scope = EVERYTHING) -> list[TargetReport]:
    """The `summary` screen of each target in the scope."""
    found = releases(store, scope)
    said = queries.site_release_facts(store, scope)
    # Over whole hours (a period given in days), the heatmap counts the same releases.
    same = found if scope.whole_hours() == scope else None
    announced = in_period(store.announcements(scope.target, scope.since), None, scope.until)
    return reports_of(hourly_histories(store, scope, same), found, said, zone, announced)


def announced_of(store: Store, target: str, scope: Scope = EVERYTHING) -> AnnouncedOutcomes:
    """What became of the releases `target`'s site announced in the scope's period."""
    found = store.announcements(target, scope.since)
    return announced_outcomes(target, in_period(found, None, scope.until))


def site_release_facts(store: Store, scope: Scope = EVERYTHING) -> dict[str, ReleaseAnnouncement]:
    """Per target, the release times the site itself announced in the latest of its recent
    checks (in the scope) that carried them."""
    return queries.site_release_facts(store, scope)


def summaries(store: Store, target: str | None = None) -> list[TargetSummary]:
    """Checks per status (raw and rolled-up) and releases, per target."""
    totals = queries.check_totals(store, target)
    return summaries_of(totals, releases(store, Scope(target=target)))


def activity(store: Store, since: datetime) -> list[Activity]:
    """What each target went through since `since`: for the daily heartbeat."""
    checks = queries.checks_since(store, since)
    last_clear = queries.last_clear_checks(store, EVERYTHING)
    last = {row.target: row.status for row in store.latest_checks()}
    return activity_of(checks, last_clear, last)


def last_check_rows(store: Store) -> list[CheckRecord]:
    """The most recent check of each target (`Store.latest_checks`)."""
    return store.latest_checks()
