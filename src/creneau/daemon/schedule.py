"""The daemon's APScheduler 3 trigger: applies a target's CheckPlan (creneau/plan.py) and its
host's Spacing, and never lets one target's arithmetic stop the scheduler."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from creneau.plan import CheckPlan, Spacing

RETRY_PLANNING_AFTER = timedelta(hours=1)
log = logging.getLogger(__name__)


class PoliteTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """APScheduler 3 trigger applying a CheckPlan and the shared Spacing."""

    def __init__(self, key: str, plan: CheckPlan, spacing: Spacing) -> None:
        self.key = key
        self.plan = plan
        self.spacing = spacing

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # An exception here would stop APScheduler's loop, and every target with it.
        try:
            if previous_fire_time is None:
                candidate = self.plan.first_check(now)
            else:
                candidate = self.plan.next_check(previous_fire_time)
            return self.spacing.reserve(self.key, candidate)
        except (ArithmeticError, ValueError) as failure:
            log.error(
                "%s: cannot plan its next check (%s); trying again in %s",
                self.key,
                failure,
                RETRY_PLANNING_AFTER,
            )
            return now + RETRY_PLANNING_AFTER

    def __str__(self) -> str:
        return f"polite[every={self.plan.every}]"
